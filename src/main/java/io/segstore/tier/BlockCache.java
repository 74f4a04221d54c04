package io.segstore.tier;

import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Aligned blocks of committed segments, least recently used first out, bounded in bytes. Segment
 * objects never change once written, so a block stays valid as long as its object exists (a
 * deleted object's blocks are dropped with it).
 */
public final class BlockCache {

    private record Key(String store, String key, long block) {
    }

    private final long capacity;
    private final int blockSize;
    private final LinkedHashMap<Key, byte[]> blocks = new LinkedHashMap<>(256, 0.75f, true);
    private long used;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong bytesFetched = new AtomicLong();

    public BlockCache(long capacity, int blockSize) {
        if (blockSize < 4096 || capacity < 0) {
            throw new IllegalArgumentException("block size at least 4096, capacity not negative");
        }
        this.capacity = capacity;
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    public long hits() {
        return hits.get();
    }

    public long misses() {
        return misses.get();
    }

    public long bytesFetched() {
        return bytesFetched.get();
    }

    public synchronized long usedBytes() {
        return used;
    }

    public long capacity() {
        return capacity;
    }

    /** Counts a hit served from a read handle's memory of its last block. */
    void hit() {
        hits.incrementAndGet();
    }

    /** Block {@code block} of an object of {@code size} bytes: from the cache, or one ranged GET. */
    byte[] block(ObjectStore store, String key, long block, long size) throws IOException {
        Key k = new Key(store.name(), key, block);
        synchronized (this) {
            byte[] b = blocks.get(k);
            if (b != null) {
                hits.incrementAndGet();
                return b;
            }
        }
        misses.incrementAndGet();
        long from = block * blockSize;
        int length = (int) Math.min(blockSize, size - from);
        byte[] b = store.getRange(key, from, length);
        bytesFetched.addAndGet(b.length);
        if (b.length != length) {
            throw new IOException("object " + key + " is shorter than expected (" + (from + b.length) + " < " + size + ")");
        }
        put(k, b);
        return b;
    }

    /** Fills the cache with an object just written (its bytes are at hand). */
    void offer(ObjectStore store, String key, long block, byte[] data) {
        put(new Key(store.name(), key, block), data);
    }

    private synchronized void put(Key k, byte[] b) {
        if (b.length > capacity) {
            return;
        }
        byte[] old = blocks.put(k, b);
        used += b.length - (old == null ? 0 : old.length);
        Iterator<Map.Entry<Key, byte[]>> it = blocks.entrySet().iterator();
        while (used > capacity && it.hasNext()) {
            Map.Entry<Key, byte[]> e = it.next();
            used -= e.getValue().length;
            it.remove();
        }
    }

    /** Drops every block of an object. */
    synchronized void invalidate(ObjectStore store, String key) {
        Iterator<Map.Entry<Key, byte[]>> it = blocks.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Key, byte[]> e = it.next();
            if (e.getKey().key().equals(key) && e.getKey().store().equals(store.name())) {
                used -= e.getValue().length;
                it.remove();
            }
        }
    }
}
