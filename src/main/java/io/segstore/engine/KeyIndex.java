package io.segstore.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.StampedLock;

/**
 * A map from 32-byte keys to a long value (for the repository index: segment << 32 | offset),
 * held in primitive arrays: about 40 bytes a slot and no object per entry.
 *
 * <p>Keys are placed by a keyed 64-bit hash (with a per-repository secret seed, so clients that
 * choose ids cannot pile them onto one bucket). The top bits of the hash pick one of
 * {@code 2^shardBits} shards; inside a shard, slots are kept sorted by hash (ordered linear
 * probing: a key lives at or after its home slot, and every cluster is sorted). Three things
 * follow from that order:
 * <ul>
 *   <li>iteration in hash order is stable across growth, shrinking, inserts and removals, so a
 *       listing can resume after any key (even one removed since) and sees every key that
 *       stayed present exactly once;</li>
 *   <li>a lookup stops at the first larger hash, so misses are as cheap as hits even at 93% load;</li>
 *   <li>a shard grows by re-placing its sorted entries in one pass.</li>
 * </ul>
 * Shards grow by 15% steps, and each shard's step sizes are offset from the others', so at any
 * size the shards' loads are spread over 81%..93%: about 46 bytes per entry overall instead of the
 * sawtooth of a single doubling table.
 *
 * <p>Thread-safe: each shard has a StampedLock; lookups read optimistically and only take the
 * read lock when a writer raced them.
 */
public final class KeyIndex {

    /** Never a stored value: marks an empty slot and answers "not present". */
    public static final long ABSENT = -1L;

    static final int WORDS = 5;
    private static final int VALUE = 4;

    private static final int MIN_CAPACITY = 16;
    private static final int DOUBLINGS = 6;

    /**
     * How tightly an index is packed. Long-lived indexes grow in small staggered steps and run
     * full (memory is what counts); short-lived ones (a transaction's own writes) double and stay
     * below 75% (inserts are what counts).
     */
    public enum Sizing {
        COMPACT(1.15, 0.93),
        FAST(2.0, 0.75);

        final double growth;
        final double maxLoad;

        Sizing(double growth, double maxLoad) {
            this.growth = growth;
            this.maxLoad = maxLoad;
        }
    }

    private final Sizing sizing;
    private static final double MIN_LOAD = 0.35;
    private static final double SHRUNK_LOAD = 0.8;

    private final long seed;
    /** Secret words derived from the seed; never leave the process. */
    private final long s0;
    private final long s1;
    private final long s2;
    private final long s3;
    private final int shardBits;
    private final Shard[] shards;

    /** A fresh, empty, compactly sized index. */
    public KeyIndex(long seed, int shardBits) {
        this(seed, shardBits, Sizing.COMPACT);
    }

    /** A fresh, empty index. */
    public KeyIndex(long seed, int shardBits, Sizing sizing) {
        this.sizing = sizing;
        if (shardBits < 0 || shardBits > 12) {
            throw new IllegalArgumentException("shardBits must be 0..12");
        }
        this.seed = seed;
        long[] secret = secretWords(seed);
        this.s0 = secret[0];
        this.s1 = secret[1];
        this.s2 = secret[2];
        this.s3 = secret[3];
        this.shardBits = shardBits;
        this.shards = new Shard[1 << shardBits];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard(i, stagger(i, shards.length));
        }
    }

    /** Supplies a shard's state when it is first needed. */
    @FunctionalInterface
    interface ShardLoader {
        ShardState load(int shard) throws IOException;
    }

    /**
     * An index whose shards are loaded from {@code loader} when first touched (or by
     * {@link #loadAll}), so that a large index is usable at once instead of after reading all of
     * it. Sizes are known up front.
     */
    static KeyIndex restoreLazily(long seed, int shardBits, int[] levels, int[] counts, ShardLoader loader) {
        KeyIndex index = new KeyIndex(seed, shardBits);
        for (int i = 0; i < index.shards.length; i++) {
            Shard s = index.shards[i];
            s.level = levels[i];
            s.capacity = index.capacity(levels[i], s.stagger);
            s.count = counts[i];
            s.slots = null;
            s.loader = loader;
        }
        return index;
    }

    /** Loads every shard not loaded yet. */
    public void loadAll() {
        for (Shard s : shards) {
            ensureLoaded(s);
        }
    }

    private void ensureLoaded(Shard s) {
        if (s.slots != null) {
            return;
        }
        long stamp = s.lock.writeLock();
        try {
            if (s.slots == null) {
                ShardState st;
                try {
                    st = s.loader.load(s.id);
                } catch (IOException e) {
                    throw new IntegrityException("the index file is damaged (" + e.getMessage() + "); reopening the repository rebuilds it", e);
                }
                int cap = capacity(st.level(), s.stagger);
                if (st.level() != s.level || st.count() != s.count || st.slots().length != (cap + overflow(cap)) * WORDS) {
                    throw new IntegrityException("the index file changed while it was loaded; reopening the repository rebuilds it");
                }
                s.slots = st.slots();
                s.loader = null;
            }
        } finally {
            s.lock.unlockWrite(stamp);
        }
    }

    /** Rebuilds an index from the raw state {@link #exportShard} gave; see KeyIndexFile. */
    static KeyIndex restore(long seed, int shardBits, ShardState[] states) {
        KeyIndex index = new KeyIndex(seed, shardBits);
        if (states.length != index.shards.length) {
            throw new IllegalArgumentException("shard count mismatch");
        }
        for (int i = 0; i < states.length; i++) {
            Shard s = index.shards[i];
            ShardState st = states[i];
            int cap = index.capacity(st.level(), s.stagger);
            if (st.slots().length != (cap + overflow(cap)) * WORDS) {
                throw new IllegalArgumentException("shard " + i + " does not have the size its level implies");
            }
            s.level = st.level();
            s.capacity = cap;
            s.slots = st.slots();
            s.count = st.count();
            s.sharers = 0;
        }
        return index;
    }

    public long seed() {
        return seed;
    }

    /** Four well-mixed words from the seed (SplitMix64 steps), odd so no product collapses. */
    private static long[] secretWords(long seed) {
        long[] out = new long[4];
        long z = seed;
        for (int i = 0; i < 4; i++) {
            z += 0x9E3779B97F4A7C15L;
            long w = z;
            w = (w ^ (w >>> 30)) * 0xBF58476D1CE4E5B9L;
            w = (w ^ (w >>> 27)) * 0x94D049BB133111EBL;
            out[i] = (w ^ (w >>> 31)) | 1L;
        }
        return out;
    }

    public int shardBits() {
        return shardBits;
    }

    // ---- keys -----------------------------------------------------------------------------

    /** The four little-endian words of a 32-byte id. */
    public static long word(byte[] id, int i) {
        return (long) LE.get(id, i * 8);
    }

    private static final java.lang.invoke.VarHandle LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Writes four key words back as 32 bytes. */
    public static byte[] keyBytes(long k0, long k1, long k2, long k3) {
        byte[] out = new byte[32];
        LE.set(out, 0, k0);
        LE.set(out, 8, k1);
        LE.set(out, 16, k2);
        LE.set(out, 24, k3);
        return out;
    }

    /**
     * The keyed 64-bit hash that orders keys: each pair of key words, xored with secret words,
     * is multiplied to 128 bits and folded (XXH3's construction for short inputs), then
     * avalanched. It runs for every slot a lookup passes, so it is written out here for the
     * fixed 32-byte key instead of going through a general-purpose hashing library, which
     * cost three times as much per call.
     */
    public long hash(long k0, long k1, long k2, long k3) {
        long a = k0 ^ s0;
        long b = k1 ^ s1;
        long c = k2 ^ s2;
        long d = k3 ^ s3;
        long x = (Math.multiplyHigh(a, b) ^ (a * b)) + Long.rotateLeft(Math.multiplyHigh(c, d) ^ (c * d), 29);
        x ^= x >>> 37;
        x *= 0x165667919E3779F9L;
        return x ^ (x >>> 32);
    }

    private long storedHash(long[] slots, int base) {
        return hash(slots[base], slots[base + 1], slots[base + 2], slots[base + 3]);
    }

    // ---- public operations -----------------------------------------------------------------

    public long get(byte[] id) {
        return get(word(id, 0), word(id, 1), word(id, 2), word(id, 3));
    }

    /** The value for the key, or {@link #ABSENT}. */
    public long get(long k0, long k1, long k2, long k3) {
        long h = hash(k0, k1, k2, k3);
        Shard s = shards[shardOf(h)];
        ensureLoaded(s);
        long p = h << shardBits;
        long stamp = s.lock.tryOptimisticRead();
        if (stamp != 0) {
            long v = s.lookup(this, p, k0, k1, k2, k3);
            if (s.lock.validate(stamp)) {
                return v;
            }
        }
        stamp = s.lock.readLock();
        try {
            return s.lookup(this, p, k0, k1, k2, k3);
        } finally {
            s.lock.unlockRead(stamp);
        }
    }

    public long put(byte[] id, long value) {
        return put(word(id, 0), word(id, 1), word(id, 2), word(id, 3), value);
    }

    /** Sets the value; returns the previous one or {@link #ABSENT}. */
    public long put(long k0, long k1, long k2, long k3, long value) {
        if (value == ABSENT) {
            throw new IllegalArgumentException("-1 cannot be stored");
        }
        long h = hash(k0, k1, k2, k3);
        Shard s = shards[shardOf(h)];
        ensureLoaded(s);
        long p = h << shardBits;
        long stamp = s.lock.writeLock();
        try {
            return s.put(this, p, k0, k1, k2, k3, value);
        } finally {
            s.lock.unlockWrite(stamp);
        }
    }

    /** Written by putBatch so that its prefetching loads are not optimised away. */
    @SuppressWarnings("unused")
    private long prefetchSink;

    /**
     * Inserts {@code n} entries ({@code keys} holds four words per entry). The home slots of the
     * whole batch are touched first so that their cache misses overlap instead of queueing one
     * behind another: on a large index this is most of the cost of an insert.
     */
    public void putBatch(long[] keys, long[] values, int n) {
        prefetch(keys, n);
        for (int i = 0; i < n; i++) {
            int k = 4 * i;
            put(keys[k], keys[k + 1], keys[k + 2], keys[k + 3], values[i]);
        }
    }

    public long remove(byte[] id) {
        return remove(word(id, 0), word(id, 1), word(id, 2), word(id, 3));
    }

    /** Removes the key; returns its value or {@link #ABSENT}. */
    public long remove(long k0, long k1, long k2, long k3) {
        long h = hash(k0, k1, k2, k3);
        Shard s = shards[shardOf(h)];
        ensureLoaded(s);
        long p = h << shardBits;
        long stamp = s.lock.writeLock();
        try {
            return s.remove(this, p, k0, k1, k2, k3);
        } finally {
            s.lock.unlockWrite(stamp);
        }
    }

    /**
     * Grows every shard so that {@code entries} keys in all fit without further growth: bulk
     * loads (replay, loading an index file) that know their size avoid the cost of inserting
     * into tables that are always near their growth point.
     */
    public void reserve(long entries) {
        long perShard = (entries + shards.length - 1) / shards.length;
        for (Shard s : shards) {
            ensureLoaded(s);
            long stamp = s.lock.writeLock();
            try {
                int level = s.level;
                while (capacity(level, s.stagger) * sizing.maxLoad < perShard * 1.02) {
                    level++;
                }
                if (level != s.level) {
                    s.resize(level, this);
                }
            } finally {
                s.lock.unlockWrite(stamp);
            }
        }
    }

    /** Number of keys (a sum over shards, exact when no writer runs). */
    public long size() {
        long n = 0;
        for (Shard s : shards) {
            long stamp = s.lock.readLock();
            try {
                n += s.count;
            } finally {
                s.lock.unlockRead(stamp);
            }
        }
        return n;
    }

    /** Bytes held by the slot arrays. */
    public long memoryBytes() {
        long n = 0;
        for (Shard s : shards) {
            long stamp = s.lock.readLock();
            try {
                n += 16L + 8L * (s.slots == null ? 0 : s.slots.length) + 48;
            } finally {
                s.lock.unlockRead(stamp);
            }
        }
        return n;
    }

    public void clear() {
        for (Shard s : shards) {
            long stamp = s.lock.writeLock();
            try {
                s.slots = NO_SLOTS;
                s.loader = null;
                s.capacity = 0;
                s.level = -1;
                s.count = 0;
                s.sharers = 0;
            } finally {
                s.lock.unlockWrite(stamp);
            }
        }
    }

    /** Receives entries in hash order. Return false to stop. */
    @FunctionalInterface
    public interface EntryVisitor {
        boolean visit(long k0, long k1, long k2, long k3, long value);
    }

    /**
     * Visits the live entries strictly after key {@code after} in hash order (from the start
     * when null) until the visitor returns false, one shard at a time under its read lock: no
     * copy-on-write is triggered, and changes made meanwhile may or may not be seen.
     */
    public void forEachAfter(byte[] after, EntryVisitor visitor) {
        int first = 0;
        long p = 0;
        long k0 = 0, k1 = 0, k2 = 0, k3 = 0;
        if (after != null) {
            k0 = word(after, 0);
            k1 = word(after, 1);
            k2 = word(after, 2);
            k3 = word(after, 3);
            long h = hash(k0, k1, k2, k3);
            first = shardOf(h);
            p = h << shardBits;
        }
        for (int sh = first; sh < shards.length; sh++) {
            Shard s = shards[sh];
            ensureLoaded(s);
            long stamp = s.lock.readLock();
            try {
                long[] a = s.slots;
                int start = 0;
                if (after != null && sh == first) {
                    int i = find(a, s.capacity, p, k0, k1, k2, k3);
                    start = i >= 0 ? i + 1 : -i - 1;
                }
                for (int i = start, n = a.length / WORDS; i < n; i++) {
                    int b = i * WORDS;
                    long value = a[b + VALUE];
                    if (value != ABSENT && !visitor.visit(a[b], a[b + 1], a[b + 2], a[b + 3], value)) {
                        return;
                    }
                }
            } finally {
                s.lock.unlockRead(stamp);
            }
        }
    }

    /**
     * Touches the home slots of a batch of keys ({@code keys} holds four words per key) so that
     * their cache misses overlap; the operations that follow then find the lines in cache.
     */
    public void prefetch(long[] keys, int n) {
        long sink = 0;
        for (int i = 0; i < n; i++) {
            int k = 4 * i;
            long h = hash(keys[k], keys[k + 1], keys[k + 2], keys[k + 3]);
            Shard s = shards[shardOf(h)];
            long[] a = s.slots;
            if (a != null && a.length > 0) {
                int at = Math.min(home(h << shardBits, s.capacity), a.length / WORDS - 1);
                sink += a[at * WORDS];
            }
        }
        prefetchSink += sink;
    }

    /** The hash-order position of a key, for comparing it with listing markers. */
    public int compareOrder(byte[] a, byte[] b) {
        long ha = hash(word(a, 0), word(a, 1), word(a, 2), word(a, 3));
        long hb = hash(word(b, 0), word(b, 1), word(b, 2), word(b, 3));
        int c = Long.compareUnsigned(ha, hb);
        return c != 0 ? c : compareKeyWords(word(a, 0), word(a, 1), word(a, 2), word(a, 3),
                word(b, 0), word(b, 1), word(b, 2), word(b, 3));
    }

    /**
     * A frozen view of the whole index. Taking it costs one pass over the shards' locks; the
     * arrays are shared, and a shard is copied only when the live index next changes it, so a
     * snapshot is cheap to take and costs memory only for what changes while it is held.
     */
    public Snapshot snapshot() {
        long[][] slots = new long[shards.length][];
        int[] capacity = new int[shards.length];
        int[] level = new int[shards.length];
        int[] count = new int[shards.length];
        for (int i = 0; i < shards.length; i++) {
            Shard sh = shards[i];
            ensureLoaded(sh);
            long stamp = sh.lock.writeLock();
            try {
                if (sh.slots.length > 0) {
                    sh.sharers++;
                }
                slots[i] = sh.slots;
                capacity[i] = sh.capacity;
                level[i] = sh.level;
                count[i] = sh.count;
            } finally {
                sh.lock.unlockWrite(stamp);
            }
        }
        return new Snapshot(slots, capacity, level, count);
    }

    /** An independent deep copy (for freezing a small index, such as the shadow index, at a checkpoint). */
    public KeyIndex copy() {
        KeyIndex copy = new KeyIndex(seed, shardBits, sizing);
        for (int i = 0; i < shards.length; i++) {
            Shard from = shards[i];
            ensureLoaded(from);
            long stamp = from.lock.readLock();
            try {
                Shard to = copy.shards[i];
                to.slots = from.slots.clone();
                to.capacity = from.capacity;
                to.level = from.level;
                to.count = from.count;
            } finally {
                from.lock.unlockRead(stamp);
            }
        }
        return copy;
    }

    /** A shard as stored in a KeyIndexFile: growth level, entry count and the slot words. */
    record ShardState(int level, int count, long[] slots) {
    }

    /**
     * An immutable view of the index at the moment {@link #snapshot()} was called. Close it when
     * done: until then the live index copies a shard before changing it.
     */
    public final class Snapshot implements AutoCloseable {
        private final long[][] slots;
        private final int[] capacity;
        private final int[] level;
        private final int[] count;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

        private Snapshot(long[][] slots, int[] capacity, int[] level, int[] count) {
            this.slots = slots;
            this.capacity = capacity;
            this.level = level;
            this.count = count;
        }

        /** Stops sharing: a shard still holding this snapshot's array is no longer copied on write for it. */
        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            for (int i = 0; i < shards.length; i++) {
                Shard sh = shards[i];
                long stamp = sh.lock.writeLock();
                try {
                    if (sh.slots == slots[i] && sh.sharers > 0) {
                        sh.sharers--;
                    }
                } finally {
                    sh.lock.unlockWrite(stamp);
                }
            }
        }

        public KeyIndex index() {
            return KeyIndex.this;
        }

        public long size() {
            long n = 0;
            for (int c : count) {
                n += c;
            }
            return n;
        }

        public long get(byte[] id) {
            return get(word(id, 0), word(id, 1), word(id, 2), word(id, 3));
        }

        public long get(long k0, long k1, long k2, long k3) {
            long h = hash(k0, k1, k2, k3);
            int sh = shardOf(h);
            long[] a = slots[sh];
            int i = find(a, capacity[sh], h << shardBits, k0, k1, k2, k3);
            return i >= 0 ? a[i * WORDS + VALUE] : ABSENT;
        }

        /** Visits every entry in hash order until the visitor returns false. */
        public void forEach(EntryVisitor visitor) {
            forEachAfter(null, visitor);
        }

        /**
         * Visits the entries strictly after key {@code after} in hash order (from the start when
         * null) until the visitor returns false. The key need not be present.
         */
        public void forEachAfter(byte[] after, EntryVisitor visitor) {
            int first = 0;
            int start = 0;
            if (after != null) {
                long k0 = word(after, 0);
                long k1 = word(after, 1);
                long k2 = word(after, 2);
                long k3 = word(after, 3);
                long h = hash(k0, k1, k2, k3);
                first = shardOf(h);
                int i = find(slots[first], capacity[first], h << shardBits, k0, k1, k2, k3);
                start = i >= 0 ? i + 1 : -i - 1;
            }
            for (int sh = first; sh < slots.length; sh++) {
                long[] a = slots[sh];
                for (int i = sh == first ? start : 0, n = a.length / WORDS; i < n; i++) {
                    int b = i * WORDS;
                    long value = a[b + VALUE];
                    if (value != ABSENT && !visitor.visit(a[b], a[b + 1], a[b + 2], a[b + 3], value)) {
                        return;
                    }
                }
            }
        }

        int shardCount() {
            return slots.length;
        }

        ShardState shard(int i) {
            return new ShardState(level[i], count[i], slots[i]);
        }

        /** Bits of a handle that address a slot inside its shard. */
        private int slotBits() {
            return 32 - shardBits;
        }

        /** Calls {@code sink} with a handle (shard and slot in 32 bits) and the first key word of every entry. */
        void forEachHandle(HandleVisitor sink) {
            int slotBits = slotBits();
            for (int sh = 0; sh < slots.length; sh++) {
                long[] a = slots[sh];
                for (int slot = 0, n = a.length / WORDS; slot < n; slot++) {
                    int b = slot * WORDS;
                    if (a[b + VALUE] != ABSENT) {
                        if (slot >= (1 << slotBits)) {
                            throw new IllegalStateException("shard too large for 32-bit handles");
                        }
                        sink.accept(((long) sh << slotBits) | slot, a[b]);
                    }
                }
            }
        }

        /** Puts the key of the entry at {@code handle} (32 bytes) into {@code dst}. */
        void putKey(long handle, ByteBuffer dst) {
            long[] a = slots[(int) (handle >>> slotBits())];
            int b = (int) (handle & ((1L << slotBits()) - 1)) * WORDS;
            ByteBuffer le = dst.order(ByteOrder.LITTLE_ENDIAN);
            le.putLong(a[b]).putLong(a[b + 1]).putLong(a[b + 2]).putLong(a[b + 3]);
        }

        /** The value of the entry at {@code handle}. */
        long value(long handle) {
            long[] a = slots[(int) (handle >>> slotBits())];
            return a[(int) (handle & ((1L << slotBits()) - 1)) * WORDS + VALUE];
        }
    }

    @FunctionalInterface
    interface HandleVisitor {
        void accept(long handle, long k0);
    }

    // ---- internals ---------------------------------------------------------------------------

    /**
     * Position of the key in a shard's array, or -(insertion point) - 1. Safe against torn
     * reads: every index is bounded by the array actually read.
     */
    private int find(long[] a, int cap, long p, long k0, long k1, long k2, long k3) {
        int n = a.length / WORDS;
        int i = Math.min(home(p, cap), n);
        for (; i < n; i++) {
            int b = i * WORDS;
            if (a[b + VALUE] == ABSENT) {
                return -i - 1;
            }
            long pe = storedHash(a, b) << shardBits;
            int c = Long.compareUnsigned(pe, p);
            if (c == 0) {
                c = compareKeyWords(a[b], a[b + 1], a[b + 2], a[b + 3], k0, k1, k2, k3);
            }
            if (c == 0) {
                return i;
            }
            if (c > 0) {
                return -i - 1;
            }
        }
        return -n - 1;
    }

    private int shardOf(long h) {
        return shardBits == 0 ? 0 : (int) (h >>> (64 - shardBits));
    }

    private static int home(long p, int capacity) {
        return (int) (((p >>> 32) * capacity) >>> 32);
    }

    int capacity(int level, double stagger) {
        if (level < 0) {
            return 0;
        }
        if (level < DOUBLINGS) {
            return MIN_CAPACITY << level;
        }
        return (int) Math.min(Integer.MAX_VALUE / WORDS - 1_000_000,
                Math.ceil((MIN_CAPACITY << DOUBLINGS) * Math.pow(sizing.growth, level - DOUBLINGS + stagger)));
    }

    /** Slots past the home range, so that clusters at the end never wrap. */
    static int overflow(int capacity) {
        return capacity == 0 ? 0 : 16 + capacity / 256;
    }

    /** Offsets each shard's growth steps by a different fraction of a step (bit-reversed index). */
    private static double stagger(int shard, int shards) {
        if (shards == 1) {
            return 0;
        }
        int bits = Integer.numberOfTrailingZeros(shards);
        return (Integer.reverse(shard) >>> (32 - bits)) / (double) shards;
    }

    private static int compareKeyWords(long a0, long a1, long a2, long a3, long b0, long b1, long b2, long b3) {
        int c = Long.compareUnsigned(a0, b0);
        if (c == 0) {
            c = Long.compareUnsigned(a1, b1);
        }
        if (c == 0) {
            c = Long.compareUnsigned(a2, b2);
        }
        if (c == 0) {
            c = Long.compareUnsigned(a3, b3);
        }
        return c;
    }

    private static final long[] NO_SLOTS = new long[0];

    private static final class Shard {
        final StampedLock lock = new StampedLock();
        final int id;
        final double stagger;
        /** Where the slots come from while they are not loaded yet (slots is null then). */
        ShardLoader loader;
        long[] slots = NO_SLOTS;
        int capacity;
        /** Growth step; -1 while no array is allocated. */
        int level = -1;
        int count;
        /** Live snapshots that hold this very array: copy it before changing it while there are any. */
        int sharers;

        Shard(int id, double stagger) {
            this.id = id;
            this.stagger = stagger;
        }

        long lookup(KeyIndex ix, long p, long k0, long k1, long k2, long k3) {
            long[] a = slots;
            int cap = capacity;
            int i = ix.find(a, cap, p, k0, k1, k2, k3);
            return i >= 0 ? a[i * WORDS + VALUE] : ABSENT;
        }

        long put(KeyIndex ix, long p, long k0, long k1, long k2, long k3, long value) {
            while (true) {
                int i = ix.find(slots, capacity, p, k0, k1, k2, k3);
                if (i >= 0) {
                    unshare();
                    int b = i * WORDS + VALUE;
                    long old = slots[b];
                    slots[b] = value;
                    return old;
                }
                int at = -i - 1;
                int n = slots.length / WORDS;
                if (n > 0) {
                    unshare();
                }
                int empty = at;
                while (empty < n && slots[empty * WORDS + VALUE] != ABSENT) {
                    empty++;
                }
                if (empty == n) {
                    // the cluster would run off the end: grow, then look again
                    resize(level + 1, ix);
                    continue;
                }
                if (empty > at) {
                    System.arraycopy(slots, at * WORDS, slots, (at + 1) * WORDS, (empty - at) * WORDS);
                }
                int b = at * WORDS;
                slots[b] = k0;
                slots[b + 1] = k1;
                slots[b + 2] = k2;
                slots[b + 3] = k3;
                slots[b + VALUE] = value;
                count++;
                if (count > capacity * ix.sizing.maxLoad) {
                    resize(level + 1, ix);
                }
                return ABSENT;
            }
        }

        long remove(KeyIndex ix, long p, long k0, long k1, long k2, long k3) {
            int i = ix.find(slots, capacity, p, k0, k1, k2, k3);
            if (i < 0) {
                return ABSENT;
            }
            unshare();
            long old = slots[i * WORDS + VALUE];
            int n = slots.length / WORDS;
            int j = i + 1;
            // Pull back the following entries that sit past their home slot.
            while (j < n) {
                int b = j * WORDS;
                if (slots[b + VALUE] == ABSENT || home(ix.storedHash(slots, b) << ix.shardBits, capacity) >= j) {
                    break;
                }
                j++;
            }
            if (j - i - 1 > 0) {
                System.arraycopy(slots, (i + 1) * WORDS, slots, i * WORDS, (j - i - 1) * WORDS);
            }
            slots[(j - 1) * WORDS + VALUE] = ABSENT;
            count--;
            if (level > 0 && count < capacity * MIN_LOAD) {
                // shrink to the smallest level that leaves room to grow again before the next step
                int target = level;
                while (target > 0 && count <= ix.capacity(target - 1, stagger) * SHRUNK_LOAD) {
                    target--;
                }
                if (target != level) {
                    resize(target, ix);
                }
            }
            return old;
        }

        void unshare() {
            if (sharers > 0) {
                slots = slots.clone();
                sharers = 0;
            }
        }

        /** Re-places all entries into a table of the given level (growing further if needed). */
        void resize(int newLevel, KeyIndex ix) {
            long[] old = slots;
            while (true) {
                int cap = ix.capacity(newLevel, stagger);
                if (count > cap * ix.sizing.maxLoad) {
                    newLevel++;
                    continue;
                }
                int n = cap + overflow(cap);
                long[] a = new long[n * WORDS];
                for (int i = VALUE; i < a.length; i += WORDS) {
                    a[i] = ABSENT;
                }
                if (!replace(ix, old, a, cap)) {
                    newLevel++;
                    continue;
                }
                slots = a;
                capacity = cap;
                level = newLevel;
                sharers = 0;
                return;
            }
        }

        private static boolean replace(KeyIndex ix, long[] from, long[] to, int cap) {
            int n = to.length / WORDS;
            int prev = -1;
            for (int b = 0; b < from.length; b += WORDS) {
                if (from[b + VALUE] == ABSENT) {
                    continue;
                }
                int at = Math.max(home(ix.storedHash(from, b) << ix.shardBits, cap), prev + 1);
                if (at >= n) {
                    return false;
                }
                System.arraycopy(from, b, to, at * WORDS, WORDS);
                prev = at;
            }
            return true;
        }
    }
}
