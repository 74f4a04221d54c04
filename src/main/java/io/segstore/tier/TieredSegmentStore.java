package io.segstore.tier;

import io.segstore.engine.EngineObserver;
import io.segstore.engine.LocalSegmentStore;
import io.segstore.engine.SegmentStore;
import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Segments of a repository kept in a bucket: written to the local volume while open, uploaded
 * write-once (If-None-Match) when their transaction commits, then read with ranged GETs through
 * the block cache. The local copy of a segment goes once the bucket holds it, so the volume only
 * ever holds segments of the transaction being written.
 *
 * <p>The bucket is the truth: a segment on the local volume that the bucket lacks when the
 * repository is opened was never acknowledged (the process stopped before its upload) and is
 * removed.
 */
final class TieredSegmentStore implements SegmentStore {

    private static final System.Logger LOG = System.getLogger(TieredSegmentStore.class.getName());

    private final ObjectStore store;
    /** "{@code <repository>/}" inside the store's prefix. */
    private final String root;
    private final LocalSegmentStore local;
    private final int segmentsPerDir;
    private final BlockCache cache;
    private final ExecutorService uploads;
    private final BooleanSupplier appendOnly;
    /** Segment number to object size, for every segment object in the bucket. */
    private final ConcurrentSkipListMap<Long, Long> remote = new ConcurrentSkipListMap<>();
    /** The highest segment number this store has seen in the bucket or written: never given again. */
    private final java.util.concurrent.atomic.AtomicLong highestSeen = new java.util.concurrent.atomic.AtomicLong(-1);
    private final TierMetrics metrics;
    private volatile BooleanSupplier fence = () -> true;
    /** Segments up to this one were committed through this store (-1: none yet). */
    private volatile long committedUpTo = -1;
    /** Segments compaction replaced, deleted a while after a later checkpoint is uploaded. */
    private final ReplacedSegments replaced;

    TieredSegmentStore(ObjectStore store, String root, LocalSegmentStore local, int segmentsPerDir, BlockCache cache,
                       ExecutorService uploads, BooleanSupplier appendOnly, TierMetrics metrics, DeleteScheduler deletes)
            throws IOException {
        this.store = store;
        this.root = root;
        this.local = local;
        this.segmentsPerDir = segmentsPerDir;
        this.cache = cache;
        this.uploads = uploads;
        this.appendOnly = appendOnly;
        this.metrics = metrics;
        this.replaced = new ReplacedSegments(store, metrics, deletes);
        refresh();
        for (long s : local.list()) {
            // uploaded ones are read from the bucket; the others were never acknowledged
            local.delete(s);
        }
        local.syncDirectories();
    }

    @Override
    public void rescan() throws IOException {
        refresh();
    }

    /** Reads the bucket's listing of segment objects again (another instance may have added some). */
    void refresh() throws IOException {
        String dataPrefix = root + "data/";
        TreeSet<Long> seen = new TreeSet<>();
        for (ObjectStore.Listed o : store.list(dataPrefix)) {
            String rest = o.key().substring(dataPrefix.length());
            int slash = rest.indexOf('/');
            if (slash < 0 || !SegmentFile.isNumberName(rest.substring(0, slash)) || !SegmentFile.isNumberName(rest.substring(slash + 1))) {
                continue;
            }
            long n = Long.parseLong(rest.substring(slash + 1));
            seen(n);
            remote.put(n, o.size());
            seen.add(n);
        }
        for (Long gone : remote.keySet()) {
            if (!seen.contains(gone)) {
                cache.invalidate(store, key(gone)); // deleted elsewhere: its blocks only take room now
            }
        }
        remote.keySet().retainAll(seen);
    }

    /** The highest segment number in the bucket, or -1. */
    long highestRemote() {
        return remote.isEmpty() ? -1 : remote.lastKey();
    }

    String key(long segment) {
        return root + "data/" + (segment / segmentsPerDir) + "/" + segment;
    }

    @Override
    public void observe(EngineObserver observer) {
        local.observe(observer);
    }

    @Override
    public long[] list() throws IOException {
        TreeSet<Long> all = new TreeSet<>(remote.keySet());
        for (long s : local.list()) {
            all.add(s);
        }
        return all.stream().mapToLong(Long::longValue).toArray();
    }

    @Override
    public long length(long segment) throws IOException {
        Long size = remote.get(segment);
        if (size != null) {
            return size;
        }
        return local.length(segment);
    }

    @Override
    public boolean exists(long segment) throws IOException {
        Long size = remote.get(segment);
        if (size != null) {
            return size > 0;
        }
        return local.exists(segment);
    }

    @Override
    public ReadHandle openRead(long segment) throws IOException {
        Long size = remote.get(segment);
        if (size != null) {
            return new RemoteReadHandle(key(segment), size);
        }
        return local.openRead(segment);
    }

    @Override
    public long firstFreeSegment(long candidate) {
        return Math.max(candidate, highestSeen.get() + 1);
    }

    private void seen(long segment) {
        highestSeen.accumulateAndGet(segment, Math::max);
    }

    @Override
    public WriteHandle create(long segment) throws IOException {
        seen(segment);
        Long size = remote.get(segment);
        if (size != null && size > 0) {
            throw new FileAlreadyExistsException(key(segment), null, "the bucket already holds this segment");
        }
        return new UnsyncedWriteHandle(local.create(segment));
    }

    /**
     * A local segment of a repository in a bucket is never synced: a commit is durable once it is
     * uploaded, and a segment still on the volume when the repository is opened again was never
     * acknowledged and is discarded anyway. The fsync would only slow the commit down.
     */
    private static final class UnsyncedWriteHandle implements WriteHandle {
        private final WriteHandle local;

        UnsyncedWriteHandle(WriteHandle local) {
            this.local = local;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            local.write(src);
        }

        @Override
        public void sync() {
        }

        @Override
        public void close() throws IOException {
            local.close();
        }
    }

    @Override
    public WriteHandle replace(long segment) throws IOException {
        throw new IOException("segments in a bucket are never rewritten: a repair of a repository in object storage "
                + "writes a new prefix");
    }

    @Override
    public void delete(long segment) throws IOException {
        local.delete(segment);
        Long size = remote.get(segment);
        if (size == null) {
            return;
        }
        String key = key(segment);
        cache.invalidate(store, key);
        if (appendOnly.getAsBoolean()) {
            // never a DELETE: a zero-length object counts as absent (for Borg too)
            if (size > 0) {
                store.put(key, new byte[0]);
                remote.put(segment, 0L);
            }
            return;
        }
        remote.remove(segment);
        if (segment <= committedUpTo) {
            // replaced by compaction: gone for this repository now, gone from the bucket a while
            // after a checkpoint of the commit that replaced it is uploaded (instances still
            // reading an older state keep finding it meanwhile)
            replaced.add(key);
            return;
        }
        store.delete(key); // never committed (a failed commit, an interrupted writer's leftover)
        metrics.deletes.incrementAndGet();
    }

    /** A checkpoint newer than every compaction so far is in the bucket: replaced segments may go. */
    void checkpointUploaded() {
        replaced.checkpointUploaded();
    }

    @Override
    public void syncDirectories() {
        // nothing: see UnsyncedWriteHandle; the bucket is where durability comes from
    }

    @Override
    public void removeEmptyDirectories() throws IOException {
        local.removeEmptyDirectories();
    }

    @Override
    public long usableSpace() throws IOException {
        return local.usableSpace();
    }

    /**
     * Uploads every local segment up to {@code commitSegment}: the transaction's data segments in
     * parallel, then the one ending in the COMMIT, each created only if absent. Returns when the
     * commit is in the bucket; throws when it may not be (the caller rolls back).
     */
    /** One upload per small commit: the COMMIT ends the transaction's last segment. */
    @Override
    public boolean commitInSegment() {
        return true;
    }

    void fence(BooleanSupplier mayCommit) {
        this.fence = mayCommit;
    }

    @Override
    public void commit(long commitSegment) throws IOException {
        if (!fence.getAsBoolean()) {
            throw new IOException("this instance no longer holds the writer lease of the repository (or could not renew it "
                    + "in time): the commit is refused");
        }
        List<Long> pending = new ArrayList<>();
        for (long s : local.list()) {
            if (s <= commitSegment && !remote.containsKey(s)) {
                pending.add(s);
            } else if (s < commitSegment && remote.containsKey(s)) {
                local.delete(s);
            }
        }
        if (pending.isEmpty() || pending.get(pending.size() - 1) != commitSegment) {
            throw new IOException("commit segment " + commitSegment + " is not on the local volume");
        }
        long started = System.nanoTime();
        pending.remove(pending.size() - 1);
        List<Future<?>> running = new ArrayList<>();
        for (long s : pending) {
            running.add(uploads.submit(() -> {
                upload(s);
                return null;
            }));
        }
        IOException failed = null;
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                IOException io = c instanceof IOException i ? i : new IOException(c);
                if (failed == null) {
                    failed = io;
                } else {
                    failed.addSuppressed(io);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while uploading segments", e);
            }
        }
        if (failed != null) {
            throw failed;
        }
        if (!fence.getAsBoolean()) {
            throw new IOException("the writer lease was lost while the commit's segments were uploaded: the commit is refused");
        }
        upload(commitSegment);
        committedUpTo = commitSegment;
        metrics.commits.incrementAndGet();
        metrics.commitNanos.addAndGet(System.nanoTime() - started);
    }

    private void upload(long segment) throws IOException {
        Path file = local.file(segment);
        long size = Files.size(file);
        String key = key(segment);
        // numbers are never given twice here (firstFreeSegment), so the key is new unless an
        // earlier attempt of this very upload, or a previous holder's late one, got there first
        if (!store.createFromFile(key, file, fence)) {
            // a retry of a PUT that did succeed meets its own object: accept it if identical
            ObjectStore.Listed there = store.head(key);
            if (there == null || there.size() != size || !sameMd5(there.etag(), file)) {
                if (there != null && fence.getAsBoolean()) {
                    // holding the lease: a previous holder's upload that arrived late, never
                    // acknowledged; known now, so that discarding this failed commit removes it
                    remote.put(segment, there.size());
                }
                throw new IOException("segment " + segment + " already exists in the bucket with other content: another "
                        + "instance wrote it (a previous holder's late upload, or this one lost the writer lease)");
            }
        }
        metrics.uploads.incrementAndGet();
        metrics.bytesUploaded.addAndGet(size);
        remote.put(segment, size);
        seedCache(key, file, size);
        local.delete(segment);
    }

    /** A small segment just written is likely read soon (autocommits): its blocks go to the cache. */
    private void seedCache(String key, Path file, long size) {
        if (size > Math.min(cache.capacity() / 8, 4L * cache.blockSize())) {
            return; // a large upload would push out what readers use; its own readers fetch what they need
        }
        int bs = cache.blockSize();
        try (InputStream in = Files.newInputStream(file)) {
            for (long block = 0; block * bs < size; block++) {
                byte[] b = in.readNBytes((int) Math.min(bs, size - block * bs));
                cache.offer(store, key, block, b);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not seed the cache with {0}: {1}", key, e.toString());
        }
    }

    private static boolean sameMd5(String etag, Path file) throws IOException {
        if (etag == null) {
            return false;
        }
        String tag = etag.replace("\"", "").toLowerCase(java.util.Locale.ROOT);
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md5.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md5.digest()).equals(tag);
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
    }

    /** Marks a segment as present in the bucket (another instance committed it). */
    void learned(long segment, long size) {
        remote.put(segment, size);
    }

    @Override
    public void close() {
        // the store and the cache are shared by every repository of the instance
    }

    /** Positional reads of a segment object through the block cache. */
    private final class RemoteReadHandle implements ReadHandle {
        private final String key;
        private final long size;
        /**
         * The block fetched last, as {index, bytes}: a reader going through a segment in order
         * (check, compaction, large objects) is served from it without touching the cache file.
         */
        private volatile Object[] last;

        RemoteReadHandle(String key, long size) {
            this.key = key;
            this.size = size;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            if (position >= size) {
                return -1;
            }
            int bs = cache.blockSize();
            int total = 0;
            while (dst.hasRemaining() && position < size) {
                long block = position / bs;
                int at = (int) (position - block * bs);
                Object[] memo = last;
                int n;
                if (memo != null && (Long) memo[0] == block) {
                    n = copy((byte[]) memo[1], at, dst);
                    cache.hit();
                } else {
                    // a cached block is read from the cache file only as far as needed
                    n = cache.read(store, key, block, at, dst);
                    if (n < 0) {
                        byte[] b = cache.block(store, key, block, size);
                        last = new Object[] {block, b};
                        n = copy(b, at, dst);
                    }
                }
                if (n <= 0) {
                    throw new IOException("segment object " + key + " is shorter than its listed size " + size
                            + " (it changed since it was listed)");
                }
                position += n;
                total += n;
            }
            return total;
        }

        private static int copy(byte[] b, int at, ByteBuffer dst) {
            int n = Math.min(dst.remaining(), b.length - at);
            if (n > 0) {
                dst.put(b, at, n);
            }
            return n;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void close() {
        }
    }

    static NoSuchFileException absent(long segment) {
        return new NoSuchFileException("segment " + segment);
    }
}
