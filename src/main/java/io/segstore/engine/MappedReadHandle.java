package io.segstore.engine;

import java.io.IOException;
import io.segstore.engine.format.MemoryMappings;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a local segment through a memory mapping: one copy from the page cache into the
 * caller's buffer and no system call per read, which is what makes reading large objects
 * faster than pread here. Bytes past the length mapped at open (a segment still being written)
 * are read with pread.
 *
 * <p>The mapping is released as soon as the handle is closed and no read is using it, so a
 * deleted segment's space is freed at once rather than when the garbage collector gets to it.
 * A read racing with close gets a ClosedChannelException and retries with a fresh handle.
 */
final class MappedReadHandle implements SegmentStore.ReadHandle {

    private final FileChannel channel;
    private final MappedByteBuffer map;
    private final long mapped;
    /** 1 for the owner plus 1 per read in progress; 0 once released. */
    private final AtomicInteger users = new AtomicInteger(1);
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    MappedReadHandle(Path file) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        MappedByteBuffer m = null;
        long size = 0;
        try {
            size = Math.min(channel.size(), Integer.MAX_VALUE);
            if (size > 0) {
                m = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // a file system without mmap: every read takes the pread path
            m = null;
            size = 0;
        }
        this.map = m;
        this.mapped = m == null ? 0 : size;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (!acquire()) {
            throw new ClosedChannelException();
        }
        try {
            if (position < mapped) {
                int n = (int) Math.min(dst.remaining(), mapped - position);
                dst.put(map.slice((int) position, n));
                return n;
            }
            return channel.read(dst, position);
        } finally {
            release();
        }
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    private boolean acquire() {
        while (true) {
            int u = users.get();
            if (u <= 0) {
                return false;
            }
            if (users.compareAndSet(u, u + 1)) {
                return true;
            }
        }
    }

    private void release() {
        if (users.decrementAndGet() == 0) {
            MemoryMappings.unmap(map);
            try {
                channel.close();
            } catch (IOException e) {
                // a read-only channel has nothing to lose
            }
        }
    }
}
