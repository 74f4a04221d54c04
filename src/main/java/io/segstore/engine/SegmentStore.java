package io.segstore.engine;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where segment files live: the one interface between the engine and their storage, so that a
 * tier keeping committed segments elsewhere (object storage) can stand in for the local
 * directory. Segments are numbered; a segment is written once, front to back, and after it is
 * closed it is only read or deleted (repair may replace a damaged one whole).
 */
public interface SegmentStore extends Closeable {

    /** Where to report fsync timings (none by default). */
    default void observe(EngineObserver observer) {
    }

    /**
     * Reads the list of segments again, for a store that other processes add to and remove from
     * (a bucket shared by instances). A local directory has one writer, this process, and keeps
     * its list current anyway.
     */
    default void rescan() throws IOException {
    }

    /**
     * The number a new segment takes when the log would continue at {@code candidate}. A local
     * directory reuses the numbers of discarded segments as Borg does; a store shared with other
     * processes (a bucket) never gives a number twice, so that a segment's name always means the
     * same bytes to every reader and cache.
     */
    default long firstFreeSegment(long candidate) {
        return candidate;
    }

    /** Numbers of the segment files present, ascending, including zero-length ones. */
    long[] list() throws IOException;

    /** Length in bytes; NoSuchFileException when absent. */
    long length(long segment) throws IOException;

    /** True when the segment exists with a non-zero length (a truncated one counts as deleted). */
    boolean exists(long segment) throws IOException;

    /** Opens a segment for positional reads. */
    ReadHandle openRead(long segment) throws IOException;

    /** Creates a new, empty segment (its directory too, when needed) for appending. */
    WriteHandle create(long segment) throws IOException;

    /**
     * Replaces a closed segment with new content, atomically: used by repair to put a salvaged
     * copy in place.
     */
    WriteHandle replace(long segment) throws IOException;

    /** Deletes a segment; nothing happens if it is absent. */
    void delete(long segment) throws IOException;

    /**
     * Makes every segment creation and deletion so far durable (fsync of the directories whose
     * entries changed).
     */
    void syncDirectories() throws IOException;

    /** Removes segment directories that hold no segment any more. */
    void removeEmptyDirectories() throws IOException;

    /** Free bytes on the storage that new segments go to. */
    long usableSpace() throws IOException;

    /**
     * The segment {@code commitSegment}, which ends in a COMMIT, and every segment before it are
     * written and synced locally. A store that keeps committed segments elsewhere (object storage)
     * makes every one of them durable there before returning; an exception means the commit did
     * not happen (the caller rolls it back). A local store has nothing left to do.
     */
    default void commit(long commitSegment) throws IOException {
    }

    /**
     * Whether a commit should end the transaction's last segment with its COMMIT (what Borg
     * does for intermediate commits) instead of writing a segment holding only the COMMIT: a
     * store where every segment costs a request (object storage) then makes a small commit one
     * upload. Local stores keep Borg's final-commit layout.
     */
    default boolean commitInSegment() {
        return false;
    }

    /** Positional reads of one segment; thread-safe. */
    interface ReadHandle extends Closeable {
        /** Reads into {@code dst} from {@code position}; returns bytes read, -1 at end. */
        int read(ByteBuffer dst, long position) throws IOException;

        long size() throws IOException;
    }

    /** Appends to a segment being written; used by one thread at a time. */
    interface WriteHandle extends Closeable {
        void write(ByteBuffer src) throws IOException;

        /** fdatasync: the bytes written so far survive a crash once this returns. */
        void sync() throws IOException;

        /**
         * Finishes a replacement: syncs, then puts the new content in place of the old. Plain
         * writers do not need it.
         */
        default void commitReplacement() throws IOException {
            throw new UnsupportedOperationException("not a replacement");
        }
    }
}
