package io.segstore.restic;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fixed budget of reusable 1 MiB buffers in which restic uploads are received, so that a pack
 * does not go through a temporary file (written once, read back twice) and does not allocate a
 * fresh pack-sized array either. An upload that finds the budget taken falls back to a file;
 * nothing waits for memory. The buffers are kept once allocated: at most the budget is ever held.
 */
final class StagingMemory {

    static final int CHUNK = 1 << 20;

    private final long budget;
    private final AtomicLong reserved = new AtomicLong();
    private final ConcurrentLinkedQueue<byte[]> free = new ConcurrentLinkedQueue<>();

    StagingMemory(long budget) {
        this.budget = Math.max(0, budget);
    }

    /** Chunks enough for {@code bytes}, or null when the budget cannot hold them now. */
    List<byte[]> take(long bytes) {
        int count = (int) ((bytes + CHUNK - 1) / CHUNK);
        long size = (long) count * CHUNK;
        long now;
        do {
            now = reserved.get();
            if (now + size > budget) {
                return null;
            }
        } while (!reserved.compareAndSet(now, now + size));
        List<byte[]> chunks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] c = free.poll();
            chunks.add(c != null ? c : new byte[CHUNK]);
        }
        return chunks;
    }

    /** Gives chunks back (their content is overwritten by the next upload, never read). */
    void give(List<byte[]> chunks) {
        free.addAll(chunks);
        reserved.addAndGet(-(long) chunks.size() * CHUNK);
    }

    long budget() {
        return budget;
    }

    /** Bytes of the budget taken by uploads now. */
    long inUse() {
        return reserved.get();
    }
}
