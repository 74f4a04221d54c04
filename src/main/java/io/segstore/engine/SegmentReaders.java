package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Reads single entries, keeping the most recently used segments open (an LRU of read handles,
 * as Borg keeps one). Every PUT read is checked: header, tag, id and CRC; corrupt bytes are
 * never returned.
 */
final class SegmentReaders implements Closeable {

    /** First read covers the header and a typical small chunk, so most reads take one call. */
    private static final int FIRST_READ = 4096 + 64;

    private final SegmentStore store;
    private final int capacity;
    private final LinkedHashMap<Long, SegmentStore.ReadHandle> open = new LinkedHashMap<>(16, 0.75f, true);
    private final ThreadLocal<ByteBuffer> scratch =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(FIRST_READ).order(ByteOrder.LITTLE_ENDIAN));
    private boolean closed;
    /** Counts invalidations, so that a handle opened across one is not cached (guarded by open). */
    private long invalidations;

    SegmentReaders(SegmentStore store, int capacity) {
        this.store = store;
        this.capacity = capacity;
    }

    SegmentStore.ReadHandle handle(long segment) throws IOException {
        while (true) {
            long epoch;
            synchronized (open) {
                if (closed) {
                    throw new RepositoryClosedException();
                }
                SegmentStore.ReadHandle h = open.get(segment);
                if (h != null) {
                    return h;
                }
                epoch = invalidations;
            }
            SegmentStore.ReadHandle h = store.openRead(segment);
            SegmentStore.ReadHandle evicted = null;
            synchronized (open) {
                if (closed || invalidations != epoch) {
                    // closed, or a segment was deleted or replaced while this one was opened: the
                    // file just opened may be the old one, and must not be cached
                    h.close();
                    if (closed) {
                        throw new RepositoryClosedException();
                    }
                    continue;
                }
                SegmentStore.ReadHandle raced = open.putIfAbsent(segment, h);
                if (raced != null) {
                    h.close();
                    return raced;
                }
                if (open.size() > capacity) {
                    Iterator<Map.Entry<Long, SegmentStore.ReadHandle>> it = open.entrySet().iterator();
                    evicted = it.next().getValue();
                    it.remove();
                }
            }
            if (evicted != null) {
                evicted.close();
            }
            return h;
        }
    }

    /** Forgets a segment's handle: it was deleted or is about to be rewritten. */
    void invalidate(long segment) {
        SegmentStore.ReadHandle h;
        synchronized (open) {
            invalidations++;
            h = open.remove(segment);
        }
        closeQuietly(h);
    }

    /**
     * Reads the data of the PUT for {@code id} at {@code location}. IntegrityException when the
     * bytes there are not an intact PUT of that id.
     */
    byte[] readPut(long location, byte[] id) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                return readPutOnce(location, id);
            } catch (ClosedChannelException e) {
                // evicted by another reader meanwhile: open it again
                if (attempt >= 3) {
                    throw e;
                }
            }
        }
    }

    private byte[] readPutOnce(long location, byte[] id) throws IOException {
        long segment = Locations.segment(location);
        long offset = Locations.offset(location);
        SegmentStore.ReadHandle h = handle(segment);
        ByteBuffer buf = scratch.get();
        buf.clear();
        int got = readUpTo(h, buf, offset);
        if (got < SegmentFile.PUT_HEADER_SIZE) {
            throw new IntegrityException("Segment entry header short read [" + Locations.describe(location) + "]");
        }
        SegmentFile.Header header = SegmentFile.readHeader(buf, 0);
        checkPutHeader(header, location);
        for (int i = 0; i < 32; i++) {
            if (buf.get(SegmentFile.HEADER_SIZE + i) != id[i]) {
                throw new IntegrityException("Invalid segment entry header, is not for wanted id [" + Locations.describe(location) + "]");
            }
        }
        int size = (int) header.size();
        byte[] data = new byte[size - SegmentFile.PUT_HEADER_SIZE];
        CRC32 crc = new CRC32();
        ByteBuffer head = buf.duplicate();
        head.position(4).limit(Math.min(got, size));
        crc.update(head.duplicate());
        int inBuffer = Math.min(got, size) - SegmentFile.PUT_HEADER_SIZE;
        buf.get(SegmentFile.PUT_HEADER_SIZE, data, 0, inBuffer);
        if (inBuffer < data.length) {
            ByteBuffer rest = ByteBuffer.wrap(data, inBuffer, data.length - inBuffer);
            long pos = offset + SegmentFile.PUT_HEADER_SIZE + inBuffer;
            while (rest.hasRemaining()) {
                int n = h.read(rest, pos);
                if (n < 0) {
                    throw new IntegrityException("Segment entry data short read [" + Locations.describe(location) + "]");
                }
                pos += n;
            }
            crc.update(data, inBuffer, data.length - inBuffer);
        }
        if ((int) crc.getValue() != header.crc()) {
            throw new IntegrityException("Segment entry checksum mismatch [" + Locations.describe(location) + "]");
        }
        return data;
    }

    /**
     * Opens the PUT of {@code id} at {@code location} on a handle of its own and verifies it
     * (header, id, CRC) before anything is handed out; the data is then copied out in chunks.
     */
    OpenEntry openPut(long location, byte[] id) throws IOException {
        SegmentStore.ReadHandle h = store.openRead(Locations.segment(location));
        try {
            ByteBuffer head = ByteBuffer.allocate(SegmentFile.PUT_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            if (readUpTo(h, head, Locations.offset(location)) < SegmentFile.PUT_HEADER_SIZE) {
                throw new IntegrityException("Segment entry header short read [" + Locations.describe(location) + "]");
            }
            SegmentFile.Header header = SegmentFile.readHeader(head, 0);
            checkPutHeader(header, location);
            for (int i = 0; i < 32; i++) {
                if (head.get(SegmentFile.HEADER_SIZE + i) != id[i]) {
                    throw new IntegrityException("Invalid segment entry header, is not for wanted id [" + Locations.describe(location) + "]");
                }
            }
            OpenEntry entry = new OpenEntry(h, Locations.offset(location) + SegmentFile.PUT_HEADER_SIZE,
                    header.size() - SegmentFile.PUT_HEADER_SIZE);
            CRC32 crc = new CRC32();
            crc.update(head.array(), 4, SegmentFile.PUT_HEADER_SIZE - 4);
            entry.forEachChunk(chunk -> crc.update(chunk));
            if ((int) crc.getValue() != header.crc()) {
                throw new IntegrityException("Segment entry checksum mismatch [" + Locations.describe(location) + "]");
            }
            return entry;
        } catch (IOException | RuntimeException e) {
            h.close();
            throw e;
        }
    }

    /** A verified PUT's data on a handle of its own. */
    static final class OpenEntry implements AutoCloseable {
        private static final int CHUNK = 256 * 1024;
        private final SegmentStore.ReadHandle handle;
        private final long start;
        private final long length;

        OpenEntry(SegmentStore.ReadHandle handle, long start, long length) {
            this.handle = handle;
            this.start = start;
            this.length = length;
        }

        long length() {
            return length;
        }

        interface ChunkConsumer {
            void accept(ByteBuffer chunk) throws IOException;
        }

        void forEachChunk(ChunkConsumer consumer) throws IOException {
            forEachChunk(0, length, consumer);
        }

        /** The data from {@code from} for {@code count} bytes, in chunks. */
        void forEachChunk(long from, long count, ChunkConsumer consumer) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(1, count)));
            long done = 0;
            while (done < count) {
                buf.clear().limit((int) Math.min(buf.capacity(), count - done));
                while (buf.hasRemaining()) {
                    if (handle.read(buf, start + from + done + buf.position()) < 0) {
                        throw new IntegrityException("Segment entry data short read");
                    }
                }
                buf.flip();
                done += buf.remaining();
                consumer.accept(buf);
            }
        }

        void copyTo(java.io.OutputStream out) throws IOException {
            copyTo(out, 0, length);
        }

        void copyTo(java.io.OutputStream out, long from, long count) throws IOException {
            forEachChunk(from, count, chunk -> out.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining()));
        }

        @Override
        public void close() {
            closeQuietly(handle);
        }
    }

    /** The whole size of the PUT at {@code location}, from its header (not CRC-checked). */
    int entrySize(long location) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                SegmentStore.ReadHandle h = handle(Locations.segment(location));
                ByteBuffer buf = ByteBuffer.allocate(SegmentFile.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                if (readUpTo(h, buf, Locations.offset(location)) < SegmentFile.HEADER_SIZE) {
                    throw new IntegrityException("Segment entry header short read [" + Locations.describe(location) + "]");
                }
                SegmentFile.Header header = SegmentFile.readHeader(buf, 0);
                checkPutHeader(header, location);
                return (int) header.size();
            } catch (ClosedChannelException e) {
                if (attempt >= 3) {
                    throw e;
                }
            }
        }
    }

    private static void checkPutHeader(SegmentFile.Header header, long location) {
        String problem = header.problem();
        if (problem != null) {
            throw new IntegrityException("Invalid segment entry header: " + problem + " [" + Locations.describe(location) + "]");
        }
        if (header.tag() != SegmentFile.TAG_PUT) {
            throw new IntegrityException("Invalid segment entry header, did not get a PUT tag [" + Locations.describe(location) + "]");
        }
    }

    private static int readUpTo(SegmentStore.ReadHandle h, ByteBuffer buf, long position) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int n = h.read(buf, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** Reads the first 8 bytes of a segment. */
    byte[] magic(long segment) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(SegmentFile.MAGIC_LENGTH);
        int n = readUpTo(handle(segment), buf, 0);
        return Arrays.copyOf(buf.array(), n);
    }

    @Override
    public void close() {
        synchronized (open) {
            closed = true;
            open.values().forEach(SegmentReaders::closeQuietly);
            open.clear();
        }
    }

    private static void closeQuietly(SegmentStore.ReadHandle h) {
        if (h != null) {
            try {
                h.close();
            } catch (IOException e) {
                // a read handle has nothing to flush
            }
        }
    }
}
