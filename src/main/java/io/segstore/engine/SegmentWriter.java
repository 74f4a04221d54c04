package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Appends entries to the log: one open segment at a time, a new one once the current has grown
 * past {@code max_segment_size}. Entries are buffered and reach the file on flush, when a segment
 * is closed (which also syncs it), or when an entry does not fit the buffer.
 *
 * <p>Not thread-safe: the repository serialises writers.
 */
final class SegmentWriter {

    private static final int BUFFER_SIZE = 1 << 20;
    /**
     * Data written since the last sync after which a background sync starts, so the device
     * writes while the log is appended and the sync at commit finds little left (what Borg gets
     * from sync_file_range, which Java does not offer).
     */
    private static final long WRITEBACK_CHUNK = 32L << 20;
    private static final Executor WRITEBACK = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "segstore-writeback");
        t.setDaemon(true);
        return t;
    });

    private final SegmentStore store;
    private final long maxSegmentSize;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE).order(ByteOrder.LITTLE_ENDIAN);

    /** Number of the open segment, or of the next one to create when none is open. */
    private long segment;
    private SegmentStore.WriteHandle handle;
    /** Logical end of the open segment, buffered bytes included. */
    private long offset;
    /** How much of the open segment is in the file. */
    private long flushed;
    /** Bytes handed to the log since the last commit (entries only). */
    private long bytesSinceCommit;
    /** File offset up to which a background sync was started. */
    private long writebackStarted;
    private CompletableFuture<Void> writeback = CompletableFuture.completedFuture(null);

    SegmentWriter(SegmentStore store, long maxSegmentSize, long nextSegment) {
        this.store = store;
        this.maxSegmentSize = maxSegmentSize;
        this.segment = nextSegment;
    }

    /** The segment the next entry goes into if no new one is started. */
    long nextSegment() {
        return segment;
    }

    /** The segment being written, or -1. */
    long openSegment() {
        return handle == null ? -1 : segment;
    }

    long bytesSinceCommit() {
        return bytesSinceCommit;
    }

    /**
     * Appends a PUT. {@code crc} must be the entry's CRC (computed by the caller outside the
     * repository's writer lock); {@code data}'s remaining bytes are written and consumed.
     * Returns the location (segment << 32 | offset).
     */
    long put(byte[] id, int crc, ByteBuffer data, boolean ownSegment) throws IOException {
        int length = data.remaining();
        prepare(ownSegment);
        long at = offset;
        if (buffer.remaining() < SegmentFile.PUT_HEADER_SIZE) {
            flushBuffer();
        }
        SegmentFile.writePutHeader(buffer, crc, id, length);
        if (length <= buffer.remaining()) {
            buffer.put(data);
        } else {
            flushBuffer();
            handle.write(data);
            flushed += length;
            startWriteback();
        }
        advance(SegmentFile.PUT_HEADER_SIZE + (long) length);
        return Locations.of(segment, at);
    }

    /**
     * Appends a PUT whose data is read from {@code source} in chunks; returns its location. The
     * bytes written are checked against {@code crc} (which the caller computed from a first read):
     * if the source gave different bytes the second time, IOException, and the caller must treat
     * the segment as damaged (its transaction is doomed, so the entry is never committed).
     */
    long put(byte[] id, int crc, ObjectSource source, boolean ownSegment) throws IOException {
        long length = source.length();
        prepare(ownSegment);
        long at = offset;
        if (buffer.remaining() < SegmentFile.PUT_HEADER_SIZE) {
            flushBuffer();
        }
        java.util.zip.CRC32 written = SegmentFile.putCrcStart(id, length);
        SegmentFile.writePutHeader(buffer, crc, id, (int) length);
        long copied = 0;
        while (copied < length) {
            if (!buffer.hasRemaining()) {
                flushBuffer();
            }
            int before = buffer.position();
            ByteBuffer room = buffer.duplicate();
            room.limit((int) Math.min(buffer.limit(), before + (length - copied))); // never more than the entry holds
            int n = source.read(room, copied);
            if (n <= 0 || room.position() - before != n) {
                throw new IOException("object source ended after " + copied + " of " + length + " bytes");
            }
            ByteBuffer chunk = buffer.duplicate();
            chunk.position(before).limit(before + n);
            written.update(chunk);
            buffer.position(before + n);
            copied += n;
        }
        advance(SegmentFile.PUT_HEADER_SIZE + length);
        if ((int) written.getValue() != crc) {
            throw new IOException("the object's data changed while it was written (CRC mismatch)");
        }
        return Locations.of(segment, at);
    }

    /** Appends a DELETE; returns its location. */
    long delete(byte[] id, boolean ownSegment) throws IOException {
        prepare(ownSegment);
        long at = offset;
        if (buffer.remaining() < SegmentFile.DELETE_SIZE) {
            flushBuffer();
        }
        SegmentFile.writeDelete(buffer, id);
        advance(SegmentFile.DELETE_SIZE);
        return Locations.of(segment, at);
    }

    /**
     * Appends an entry copied verbatim from another segment (compaction): its CRC stays valid
     * because its bytes do not change. Returns its new location.
     */
    long copy(ByteBuffer entry) throws IOException {
        prepare(false);
        long at = offset;
        long length = entry.remaining();
        if (length <= buffer.remaining()) {
            buffer.put(entry);
        } else {
            flushBuffer();
            handle.write(entry);
            flushed += length;
            startWriteback();
        }
        advance(length);
        return Locations.of(segment, at);
    }

    /** True when the open segment has grown past its limit, so the next entry starts a new one. */
    boolean segmentFull() {
        return handle != null && offset > maxSegmentSize;
    }

    /**
     * Commits: closes (and syncs) the open segment, creates the commit segment, makes all new
     * directory entries durable, then writes and syncs the COMMIT. Returns the transaction id
     * (the commit segment's number).
     */
    long commit() throws IOException {
        CrashPoints.reached("commit.before-data-sync");
        closeSegment();
        CrashPoints.reached("commit.after-data-sync");
        long commitSegment = segment;
        handle = store.create(commitSegment);
        try {
            CrashPoints.reached("commit.after-commit-segment-created");
            // The commit segment's name is synced with the data segments' names, before its
            // COMMIT exists: an empty or COMMIT-less segment counts as uncommitted.
            store.syncDirectories();
            CrashPoints.reached("commit.after-directory-sync");
            buffer.clear();
            buffer.put(SegmentFile.MAGIC).put(SegmentFile.commitEntry()).flip();
            handle.write(buffer);
            CrashPoints.reached("commit.after-commit-written");
            handle.sync();
            CrashPoints.reached("commit.after-commit-synced");
        } finally {
            buffer.clear();
            SegmentStore.WriteHandle h = handle;
            handle = null;
            h.close();
        }
        store.commit(commitSegment); // a tier makes the segments durable beyond this volume
        segment = commitSegment + 1;
        offset = 0;
        flushed = 0;
        bytesSinceCommit = 0;
        return commitSegment;
    }

    /**
     * Commits by appending the COMMIT to the open segment (Borg's intermediate commit), which is
     * then synced and closed; without an open segment, as {@link #commit()}. Returns the
     * transaction id (that segment's number).
     */
    long commitInline() throws IOException {
        if (handle == null) {
            return commit();
        }
        if (buffer.remaining() < SegmentFile.COMMIT_SIZE) {
            flushBuffer();
        }
        buffer.put(SegmentFile.commitEntry());
        offset += SegmentFile.COMMIT_SIZE;
        long commitSegment = segment;
        closeSegment();
        store.syncDirectories();
        store.commit(commitSegment);
        bytesSinceCommit = 0;
        return commitSegment;
    }

    /** Makes buffered entries readable from the file. */
    void flush() throws IOException {
        if (handle != null) {
            flushBuffer();
        }
    }

    /** Flushes if {@code location} lies in bytes not yet in the file. */
    void flushFor(long location) throws IOException {
        if (handle != null && Locations.segment(location) == segment && Locations.offset(location) >= flushed) {
            flushBuffer();
        }
    }

    /** Drops the open segment without syncing (rollback); the caller deletes the files. */
    void abandon(long nextSegment) {
        buffer.clear();
        try {
            awaitWriteback();
        } catch (IOException e) {
            // the abandoned segment is garbage whether or not it reached the disk
        }
        if (handle != null) {
            try {
                handle.close();
            } catch (IOException e) {
                // the file is garbage either way; recovery deletes it
            }
            handle = null;
        }
        segment = nextSegment;
        offset = 0;
        flushed = 0;
        bytesSinceCommit = 0;
    }

    private void prepare(boolean ownSegment) throws IOException {
        if (handle != null && (offset > maxSegmentSize || (ownSegment && offset > SegmentFile.MAGIC_LENGTH))) {
            closeSegment();
        }
        if (handle == null) {
            handle = store.create(segment);
            buffer.clear();
            buffer.put(SegmentFile.MAGIC);
            offset = SegmentFile.MAGIC_LENGTH;
            flushed = 0;
            writebackStarted = 0;
        }
    }

    private void advance(long length) {
        offset += length;
        bytesSinceCommit += length;
    }

    /** Flushes, syncs and closes the open segment; the next entry goes to a new one. */
    void closeSegment() throws IOException {
        if (handle == null) {
            return;
        }
        SegmentStore.WriteHandle h = handle;
        try {
            flushBuffer();
            awaitWriteback();
            h.sync();
        } finally {
            handle = null;
            h.close();
        }
        segment++;
        offset = 0;
        flushed = 0;
    }

    private void flushBuffer() throws IOException {
        buffer.flip();
        flushed += buffer.remaining();
        handle.write(buffer);
        buffer.clear();
        startWriteback();
    }

    /** Starts a background sync of the open segment once enough was written since the last one. */
    private void startWriteback() {
        if (flushed - writebackStarted < WRITEBACK_CHUNK || !writeback.isDone()) {
            return;
        }
        writebackStarted = flushed;
        SegmentStore.WriteHandle h = handle;
        writeback = CompletableFuture.runAsync(() -> {
            try {
                h.sync();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, WRITEBACK);
    }

    /** Waits for the background sync; its failure fails the caller (the data may not be on disk). */
    private void awaitWriteback() throws IOException {
        try {
            writeback.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a background sync", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : e.getCause();
            throw cause instanceof IOException io ? io : new IOException(cause);
        } finally {
            writeback = CompletableFuture.completedFuture(null);
        }
    }
}
