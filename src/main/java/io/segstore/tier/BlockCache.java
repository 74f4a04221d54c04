package io.segstore.tier;

import io.segstore.engine.format.AtomicFile;
import io.segstore.engine.format.MemoryMappings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Aligned blocks of committed segments in one file on the local volume, least recently used
 * first out, bounded in bytes. Segment objects never change once written, so a block stays valid
 * as long as its object exists (a deleted object's blocks are dropped with it).
 *
 * <p>The file ({@code blocks} in the cache directory) is cut into {@code capacity / blockSize}
 * slots; which block a slot holds is known only in memory. The file is emptied when the cache is
 * made: a segment key can name other bytes after a failed commit or a destroy-and-recreate, and a
 * block torn by a crash must never be served. For the same reason it is never synced. It is
 * sparse: the volume holds only the blocks written.
 *
 * <p>Blocks are written with pwrite (a full volume is then an IOException, and the block is
 * served uncached) and read through a memory mapping of the file: a GET of a small object copies
 * it from the page cache with no system call, as a local segment is read. Where the file system
 * cannot map files, reads use pread.
 *
 * <p>File I/O happens outside the lock. Every slot has a generation, bumped whenever its content
 * may change (claimed for another block, invalidated): a reader notes it before reading and
 * checks it after, and treats a change as a miss; a writer publishes its slot only if nothing
 * bumped it meanwhile. A slot being filled is not in the index, so it is never handed to a
 * second writer.
 */
public final class BlockCache implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BlockCache.class.getName());
    /** Name of the cache file in its directory. */
    static final String FILE = "blocks";
    /** Held locked while a cache uses the directory: two instances on one file would serve each other's blocks. */
    static final String LOCK = "lock";
    /**
     * Bytes per system call: the JDK copies a heap buffer through a direct buffer of the same size
     * that each thread keeps, so whole blocks at once would cost every request thread a block.
     */
    private static final int IO_CHUNK = 64 * 1024;
    /** Keeps the per-slot bookkeeping (a few tens of bytes each) far below the heap. */
    private static final long MAX_SLOTS = 1 << 24;

    private record Key(String store, String key, long block) {
    }

    private final long capacity;
    private final int blockSize;
    private final int slots;
    private final Path file;
    private final FileChannel lockChannel;
    private final FileLock lock;
    /** Replaced when an interrupted thread's write closed it (guarded by this for writes). */
    private volatile FileChannel channel;
    /** The file mapped, {@code slotsPerMap} slots per mapping (one mapping is at most 2 GiB); null: pread. */
    private final MappedByteBuffer[] maps;
    private final int slotsPerMap;

    // guarded by this
    /** Published blocks, in access order: the first is the least recently used. */
    private final LinkedHashMap<Key, Integer> index = new LinkedHashMap<>(64, 0.75f, true);
    /** The block a slot holds or is being filled with; null when free. */
    private final Key[] owner;
    /** Whether a slot's block is published (in the index), or still being written. */
    private final boolean[] ready;
    private final int[] length;
    private final long[] generation;
    private final int[] free;
    private int freeCount;
    private long used;
    private boolean closed;
    /** Reads between noting a slot and checking it: the mappings are released only when none is left. */
    private int reading;
    private boolean unmapped;

    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong bytesFetched = new AtomicLong();

    /**
     * For tests, run once by the next reader between noting a slot and reading it, and by the
     * next writer between writing its slot and publishing it: the races the generations guard
     * against, made to happen every time.
     */
    final AtomicReference<Runnable> beforeRead = new AtomicReference<>();
    final AtomicReference<Runnable> beforePublish = new AtomicReference<>();

    /**
     * A cache of {@code capacity} bytes in {@code directory} (created if missing; its cache file
     * is emptied). With room for no block at all there is no file and every read is a GET; the
     * directory may then be null.
     */
    public BlockCache(long capacity, int blockSize, Path directory) throws IOException {
        this(capacity, blockSize, directory, true);
    }

    /** {@code map}: false reads with pread, as where the file system cannot map files (for tests). */
    BlockCache(long capacity, int blockSize, Path directory, boolean map) throws IOException {
        if (blockSize < 4096 || capacity < 0) {
            throw new IllegalArgumentException("block size at least 4096, capacity not negative");
        }
        long n = capacity / blockSize;
        if (n > MAX_SLOTS) {
            throw new IllegalArgumentException("segstore.s3.cache-size / segstore.s3.block-size is " + n
                    + " blocks; at most " + MAX_SLOTS + " (make the blocks larger)");
        }
        this.capacity = capacity;
        this.blockSize = blockSize;
        this.slots = (int) n;
        this.slotsPerMap = Integer.MAX_VALUE / blockSize;
        this.owner = new Key[slots];
        this.ready = new boolean[slots];
        this.length = new int[slots];
        this.generation = new long[slots];
        this.free = new int[slots];
        for (int s = 0; s < slots; s++) {
            free[freeCount++] = slots - 1 - s;
        }
        if (slots == 0) {
            this.file = null;
            this.lockChannel = null;
            this.lock = null;
            this.maps = null;
            return;
        }
        if (directory == null) {
            throw new IllegalArgumentException("a cache of " + capacity + " bytes needs a directory");
        }
        Path dir = directory.toAbsolutePath().normalize();
        if (dir.getParent() != null) {
            Files.createDirectories(dir.getParent());
        }
        AtomicFile.createDirectory(dir);
        this.file = dir.resolve(FILE);
        Path lockFile = dir.resolve(LOCK);
        this.lockChannel = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                AtomicFile.fileAttributes(lockFile));
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        } catch (IOException e) {
            lockChannel.close();
            throw e;
        }
        if (l == null) {
            lockChannel.close();
            throw new IOException("the object-storage cache directory " + dir + " is in use by another Segstore instance; "
                    + "give each instance its own (segstore.s3.cache-directory, or its own segstore.data-dir)");
        }
        this.lock = l;
        try {
            // truncated, not removed and made again: nothing of the previous run is left in it
            this.channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING), AtomicFile.fileAttributes(file));
        } catch (IOException e) {
            lockChannel.close();
            throw e;
        }
        this.maps = map ? map(channel, (long) slots * blockSize) : null;
    }

    /** Maps the whole file (extending it, sparse, to {@code size}); null when the file system cannot. */
    private MappedByteBuffer[] map(FileChannel ch, long size) {
        long perMap = (long) slotsPerMap * blockSize;
        MappedByteBuffer[] m = new MappedByteBuffer[(int) ((size + perMap - 1) / perMap)];
        try {
            for (int i = 0; i < m.length; i++) {
                long from = i * perMap;
                m[i] = ch.map(FileChannel.MapMode.READ_ONLY, from, Math.min(perMap, size - from));
            }
            return m;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.INFO, "the object-storage cache file {0} cannot be mapped, it is read with pread: {1}",
                    file, e.toString());
            for (MappedByteBuffer b : m) {
                MemoryMappings.unmap(b);
            }
            return null;
        }
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

    /** The cache file, or null when the cache holds nothing (capacity below one block). */
    Path file() {
        return file;
    }

    /** Counts a hit served from a read handle's memory of its last block. */
    void hit() {
        hits.incrementAndGet();
    }

    /** Block {@code block} of an object of {@code size} bytes: from the cache, or one ranged GET. */
    byte[] block(ObjectStore store, String key, long block, long size) throws IOException {
        Key k = new Key(store.name(), key, block);
        byte[] cached = readWhole(k);
        if (cached != null) {
            hits.incrementAndGet();
            return cached;
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

    /**
     * Copies bytes of a cached block from {@code offset} into {@code dst}, as many as fit and the
     * block has (a read of a few KiB does not copy the whole block). Returns how many, or -1 when
     * the block is not cached (nothing counted: the caller fetches it through {@link #block}).
     */
    int read(ObjectStore store, String key, long block, int offset, ByteBuffer dst) {
        int n = readSlot(new Key(store.name(), key, block), offset, dst);
        if (n >= 0) {
            hits.incrementAndGet();
        }
        return n;
    }

    /** Fills the cache with an object just written (its bytes are at hand). */
    void offer(ObjectStore store, String key, long block, byte[] data) {
        put(new Key(store.name(), key, block), data);
    }

    /** Drops every block of an object, including one being written now (it will not be published). */
    void invalidate(ObjectStore store, String key) {
        invalidate(store, key, false);
    }

    /**
     * Drops every block of the objects whose keys start with {@code prefix}: a repository
     * destroyed, or one about to be read from the bucket for the first time here (its name may
     * have been destroyed and created again elsewhere, reusing every segment key).
     */
    void invalidatePrefix(ObjectStore store, String prefix) {
        invalidate(store, prefix, true);
    }

    private synchronized void invalidate(ObjectStore store, String key, boolean prefix) {
        if (closed) {
            return;
        }
        String name = store.name();
        for (int s = 0; s < slots; s++) {
            Key k = owner[s];
            if (k != null && (prefix ? k.key().startsWith(key) : k.key().equals(key)) && k.store().equals(name)) {
                generation[s]++;
                if (ready[s]) {
                    index.remove(k);
                    release(s);
                }
                // a slot being written is released by its writer, which sees the new generation
            }
        }
    }

    @Override
    public void close() {
        FileChannel ch;
        synchronized (this) {
            if (closed) {
                return;
            }
            shutDown();
            ch = channel;
        }
        // writers in flight get ClosedChannelException and drop their block
        closeQuietly(ch);
        closeQuietly(lockChannel);
    }

    // ---------------------------------------------------------------------------------------

    /** Where a published block is, as noted under the lock before reading it. */
    private record Found(int slot, long generation, int length, FileChannel channel) {
    }

    /** The block's slot, counted as being read until {@link #done}; null when not cached. */
    private synchronized Found find(Key k) {
        if (closed) {
            return null;
        }
        Integer s = index.get(k); // access order: this block becomes the most recently used
        if (s == null) {
            return null;
        }
        reading++;
        return new Found(s, generation[s], length[s], channel);
    }

    /** Ends a read: whether what it copied is the block it looked for (the slot was not reused meanwhile). */
    private synchronized boolean done(Found f) {
        reading--;
        if (closed) {
            unmapWhenIdle();
            return false;
        }
        return generation[f.slot()] == f.generation();
    }

    private int readSlot(Key k, int offset, ByteBuffer dst) {
        if (slots == 0) {
            return -1;
        }
        Found f = find(k);
        if (f == null) {
            return -1;
        }
        int n = Math.min(dst.remaining(), f.length() - offset);
        if (n <= 0) {
            done(f);
            return 0;
        }
        int start = dst.position();
        boolean copied = false;
        try {
            runOnce(beforeRead);
            copied = copy(f, offset, dst, n);
        } finally {
            if (!done(f) || !copied) {
                dst.position(start); // what was copied may be another block's: as if nothing was read
                n = -1;
            }
        }
        return n;
    }

    private byte[] readWhole(Key k) {
        if (slots == 0) {
            return null;
        }
        Found f = find(k);
        if (f == null) {
            return null;
        }
        byte[] b = new byte[f.length()];
        boolean copied = false;
        try {
            runOnce(beforeRead);
            copied = copy(f, 0, ByteBuffer.wrap(b), b.length);
        } finally {
            copied = done(f) && copied;
        }
        return copied ? b : null;
    }

    /** Copies {@code n} bytes of a slot from {@code offset} into {@code dst}; false when the file failed us (then a miss). */
    private boolean copy(Found f, int offset, ByteBuffer dst, int n) {
        if (maps != null) {
            // not unmapped before done(f): this read is counted in reading
            int at = (f.slot() % slotsPerMap) * blockSize + offset;
            dst.put(dst.position(), maps[f.slot() / slotsPerMap], at, n);
            dst.position(dst.position() + n);
            return true;
        }
        long position = (long) f.slot() * blockSize + offset;
        int limit = dst.limit();
        int end = dst.position() + n;
        try {
            while (dst.position() < end) {
                dst.limit(Math.min(end, dst.position() + IO_CHUNK));
                int r = f.channel().read(dst, position);
                if (r < 0) {
                    return false;
                }
                position += r;
            }
            return true;
        } catch (ClosedChannelException e) {
            reopen(f.channel());
            return false;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read the object-storage cache file {0}: {1}", file, e.toString());
            return false;
        } finally {
            dst.limit(limit);
        }
    }

    private void put(Key k, byte[] b) {
        if (slots == 0 || b.length > blockSize) {
            return;
        }
        int s;
        long gen;
        FileChannel ch;
        synchronized (this) {
            if (closed || index.containsKey(k)) {
                return;
            }
            s = claim();
            if (s < 0) {
                return; // every slot is being written by someone: this block goes uncached
            }
            owner[s] = k;
            ready[s] = false;
            length[s] = b.length;
            gen = ++generation[s];
            ch = channel;
        }
        boolean written = write(ch, b, (long) s * blockSize);
        runOnce(beforePublish);
        synchronized (this) {
            if (!written || closed || generation[s] != gen || index.containsKey(k)) {
                release(s); // failed, closed, invalidated meanwhile, or another reader cached it first
                return;
            }
            ready[s] = true;
            index.put(k, s);
            used += b.length;
        }
    }

    /** A free slot, or the least recently used block's (evicted); -1 when every slot is being written. */
    private int claim() {
        if (freeCount > 0) {
            return free[--freeCount];
        }
        Iterator<Map.Entry<Key, Integer>> it = index.entrySet().iterator();
        if (!it.hasNext()) {
            return -1;
        }
        int s = it.next().getValue();
        it.remove();
        used -= length[s];
        generation[s]++; // a reader of the evicted block now sees a change
        return s;
    }

    /** Frees a slot that is out of the index. */
    private void release(int s) {
        if (ready[s]) {
            used -= length[s];
        }
        owner[s] = null;
        ready[s] = false;
        length[s] = 0;
        generation[s]++;
        free[freeCount++] = s;
    }

    private boolean write(FileChannel ch, byte[] b, long position) {
        try {
            for (int done = 0; done < b.length; ) {
                done += ch.write(ByteBuffer.wrap(b, done, Math.min(IO_CHUNK, b.length - done)), position + done);
            }
            return true;
        } catch (ClosedChannelException e) {
            reopen(ch);
            return false;
        } catch (IOException e) {
            // e.g. a full volume: the block is served without being cached
            LOG.log(System.Logger.Level.WARNING, "cannot write the object-storage cache file {0}: {1}", file, e.toString());
            return false;
        }
    }

    /**
     * An interrupted thread's I/O closes a FileChannel for every thread. The published blocks are
     * still intact in the file (each was written whole before it was published), and a mapping
     * outlives its channel, so the cache goes on with a new channel on the same file.
     */
    private synchronized void reopen(FileChannel broken) {
        if (closed || channel != broken) {
            return;
        }
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "the object-storage cache file {0} cannot be opened again, reads go to the store: {1}",
                    file, e.toString());
            shutDown();
            closeQuietly(channel);
            closeQuietly(lockChannel);
        }
    }

    /** From now on every read is a miss and nothing is stored. */
    private void shutDown() {
        closed = true;
        index.clear();
        used = 0;
        unmapWhenIdle();
    }

    /** Releases the mappings once closed and no read is copying from them (a read after unmap would crash the JVM). */
    private void unmapWhenIdle() {
        if (maps != null && !unmapped && reading == 0) {
            unmapped = true;
            for (MappedByteBuffer m : maps) {
                MemoryMappings.unmap(m);
            }
        }
    }

    private static void runOnce(AtomicReference<Runnable> hook) {
        if (hook.get() != null) {
            Runnable r = hook.getAndSet(null);
            if (r != null) {
                r.run();
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // nothing in the cache needs to survive
            }
        }
    }
}
