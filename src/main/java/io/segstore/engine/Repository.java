package io.segstore.engine;

import io.segstore.engine.format.AtomicFile;
import io.segstore.engine.format.BorgIndexFile;
import io.segstore.engine.format.FormatException;
import io.segstore.engine.format.NonceFile;
import io.segstore.engine.format.RepositoryConfig;
import io.segstore.engine.format.SegmentFile;
import io.segstore.engine.format.TransactionsLogFile;
import java.io.IOException;
import java.util.Arrays;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * A Borg 1.2 repository: a transactional key-value store of 32-byte ids to data, kept as a log of
 * segment files in Borg's on-disk format.
 *
 * <p>Readers see the newest commit and never wait for the writer; there is one writer at a time
 * (a {@link Transaction}, or compaction and repair between their steps), and a commit is durable
 * when it returns. Borg's lock files are held exclusively while the repository is open.
 */
public final class Repository implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Repository.class.getName());

    static final String README_NAME = "README";
    static final String README = "This is a Borg Backup repository.\nSee https://borgbackup.readthedocs.io/\n";
    static final int SHARD_BITS = 8;
    private static final String SEED_OPTION = "index_seed";

    private final Path path;
    private final OpenOptions options;
    private final RepositoryLock lock;
    private final byte[] id;
    private final long maxSegmentSize;
    private final int segmentsPerDir;
    private final long seed;
    private final SegmentStore store;
    /** The durable tier beside the local directory (object storage), or null. */
    private final RepositoryTier tier;
    final SegmentReaders readers;
    final SegmentWriter writer;

    private final Object configLock = new Object();
    private RepositoryConfig config;
    private volatile boolean appendOnly;
    private volatile long storageQuota;
    private volatile long additionalFreeSpace;

    volatile RepositoryState state;
    private volatile String checkNeeded;
    private volatile boolean closed;
    /** Set when close begins: no new writer, no new checkpoint. */
    private volatile boolean closing;

    /** Serialises appends, commits and every change to the committed state. */
    final ReentrantLock writeLock = new ReentrantLock();
    /** Serializes {@link #followCommits()} (read-only repositories only). */
    private final ReentrantLock followLock = new ReentrantLock();
    /** Guards {@link #current}: the one writer. */
    private final ReentrantLock slotLock = new ReentrantLock();
    private final Condition slotFree = slotLock.newCondition();
    private Transaction current;

    /** The transaction whose changes are being applied to the index right now. */
    private volatile Transaction publishing;
    private final AtomicLong publishGeneration = new AtomicLong();

    private final ReentrantLock checkpointLock = new ReentrantLock();
    /** Transaction of the newest checkpoint on disk: compaction's stability horizon. */
    private volatile long checkpointTransaction;
    private int commitsSinceCheckpoint;
    private long logBytesSinceCheckpoint;
    private long lastCheckpointNanos = System.nanoTime();
    private ExecutorService checkpointer;
    private Thread indexLoader;
    private Future<?> pendingCheckpoint;

    /**
     * Pins keep segments from being deleted under a reader. A check reads every segment up to
     * its transaction; a view only the segments its index points into.
     */
    private final Object pinLock = new Object();
    private final List<long[]> pins = new ArrayList<>(); // {transaction, PIN_SEGMENTS or PIN_STATE}
    private static final long PIN_SEGMENTS = 0;
    private static final long PIN_STATE = 1;

    private Repository(Path path, OpenOptions options, RepositoryLock lock, RepositoryConfig config, long seed) throws FormatException {
        this.tier = options.tier();
        this.path = path;
        this.options = options;
        this.lock = lock;
        this.config = config;
        this.id = config.id();
        this.maxSegmentSize = config.maxSegmentSize();
        this.segmentsPerDir = config.segmentsPerDir();
        this.appendOnly = config.appendOnly();
        this.storageQuota = config.storageQuota();
        this.additionalFreeSpace = config.additionalFreeSpace();
        this.seed = seed;
        LocalSegmentStore local = new LocalSegmentStore(path, segmentsPerDir);
        try {
            this.store = options.tier() == null ? local : options.tier().segments(local, segmentsPerDir, () -> this.appendOnly);
        } catch (IOException e) {
            throw new RepositoryIOException("cannot reach the storage of repository " + path, e);
        }
        this.readers = new SegmentReaders(store, options.openSegments());
        this.writer = new SegmentWriter(store, maxSegmentSize, 0);
    }

    // ---- create / open / close ------------------------------------------------------------

    /** Creates a new repository at {@code path} and opens it. */
    public static Repository create(Path path, CreateOptions create, OpenOptions open) {
        Path p = path.toAbsolutePath().normalize();
        checkCanCreate(p);
        try {
            if (!Files.exists(p)) {
                if (!Files.isDirectory(p.getParent())) {
                    throw new RepositoryDoesNotExistException(p.getParent());
                }
                AtomicFile.createDirectory(p);
            }
            AtomicFile.write(p.resolve(README_NAME), README.getBytes(StandardCharsets.US_ASCII));
            AtomicFile.createDirectory(p.resolve("data"));
            byte[] repoId = new byte[32];
            new SecureRandom().nextBytes(repoId);
            RepositoryConfig config = RepositoryConfig.create(HexFormat.of().formatHex(repoId), create.maxSegmentSize(),
                    create.segmentsPerDir(), create.appendOnly(), create.storageQuota(), create.additionalFreeSpace());
            config.set(RepositoryConfig.SEGSTORE, SEED_OPTION, Long.toHexString(new SecureRandom().nextLong()));
            config.save(p.resolve(RepositoryConfig.FILE_NAME));
            AtomicFile.syncDirectory(p);
            AtomicFile.syncDirectory(p.getParent());
            if (open.tier() != null) {
                open.tier().created(p);
            }
        } catch (IOException e) {
            throw new RepositoryIOException("cannot create repository " + p, e);
        }
        return open(p, open);
    }

    /** Borg's rule: the target is absent or an empty directory, and no parent is a repository. */
    private static void checkCanCreate(Path p) {
        if (Files.exists(p)) {
            if (isRepository(p)) {
                throw new RepositoryAlreadyExistsException(p);
            }
            try (Stream<Path> entries = Files.isDirectory(p) ? Files.list(p) : null) {
                if (entries == null || entries.findAny().isPresent()) {
                    throw new PathAlreadyExistsException(p);
                }
            } catch (IOException e) {
                throw new RepositoryIOException("cannot inspect " + p, e);
            }
        }
        for (Path parent = p.getParent(); parent != null; parent = parent.getParent()) {
            if (isRepository(parent)) {
                throw new RepositoryAlreadyExistsException(parent);
            }
        }
    }

    /** True if {@code dir} holds a Borg repository README. */
    public static boolean isRepository(Path dir) {
        try (var in = Files.newInputStream(dir.resolve(README_NAME))) {
            String head = new String(in.readNBytes(100), StandardCharsets.ISO_8859_1);
            return head.contains("Borg Backup repository") || head.contains("Borg repository");
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens an existing repository: takes Borg's lock, then recovers the committed state. */
    public static Repository open(Path path, OpenOptions options) {
        Path p = path.toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            throw new RepositoryDoesNotExistException(p);
        }
        if (!Files.isDirectory(p)) {
            throw new InvalidRepositoryException(p + " is not a valid repository. Check repo config.");
        }
        RepositoryLock lock = RepositoryLock.acquire(p, !options.readOnly(), options.lockWait(), options.hostId());
        Repository repo = null;
        try {
            if (!options.readOnly()) {
                for (String name : new String[] {RepositoryConfig.FILE_NAME, NonceFile.NAME}) {
                    AtomicFile.removeLeftovers(p.resolve(name)); // temporaries of a write a crash interrupted
                }
            }
            RepositoryConfig config = readConfig(p);
            long seed = ensureSeed(p, config, options.readOnly());
            repo = new Repository(p, options, lock, config, seed);
            repo.recover();
            return repo;
        } catch (RuntimeException e) {
            if (repo != null) {
                repo.readers.close();
            }
            lock.close();
            throw e;
        } catch (IOException e) {
            if (repo != null) {
                repo.readers.close();
            }
            lock.close();
            throw new RepositoryIOException("cannot open repository " + p, e);
        }
    }

    private static RepositoryConfig readConfig(Path p) throws IOException {
        RepositoryConfig config;
        try {
            config = RepositoryConfig.read(p.resolve(RepositoryConfig.FILE_NAME));
        } catch (NoSuchFileException e) {
            throw new InvalidRepositoryException(p + " is not a valid repository. Check repo config.");
        } catch (FormatException e) {
            throw new InvalidRepositoryException(p + " does not have a valid configuration. Check repo config [" + e.getMessage() + "].", e);
        }
        if (!config.hasSection(RepositoryConfig.REPOSITORY)) {
            throw new InvalidRepositoryException(p + " does not have a valid configuration. Check repo config [no repository section found].");
        }
        try {
            int version = config.version();
            if (version != 1) {
                throw new InvalidRepositoryException(p + " does not have a valid configuration. Check repo config [repository version "
                        + version + " is not supported by this version].");
            }
            long maxSegment = config.maxSegmentSize();
            if (maxSegment >= SegmentFile.MAX_SEGMENT_SIZE_LIMIT || maxSegment <= 0) {
                throw new InvalidRepositoryException(p + " does not have a valid configuration. Check repo config [max_segment_size >= "
                        + SegmentFile.MAX_SEGMENT_SIZE_LIMIT + "].");
            }
            if (config.segmentsPerDir() < 1) {
                throw new InvalidRepositoryException(p + " does not have a valid configuration. Check repo config [segments_per_dir < 1].");
            }
            config.id();
            config.appendOnly();
            config.storageQuota();
            config.additionalFreeSpace();
        } catch (FormatException e) {
            throw new InvalidRepositoryException(p + " does not have a valid configuration. Check repo config [" + e.getMessage() + "].", e);
        }
        return config;
    }

    /** The secret seed of the index hash, kept in the config so that listing order survives restarts. */
    private static long ensureSeed(Path p, RepositoryConfig config, boolean readOnly) throws IOException {
        String s = config.get(RepositoryConfig.SEGSTORE, SEED_OPTION);
        if (s != null) {
            try {
                return Long.parseUnsignedLong(s.strip(), 16);
            } catch (NumberFormatException e) {
                LOG.log(System.Logger.Level.WARNING, "ignoring an invalid index seed in {0}", p);
            }
        }
        long seed = new SecureRandom().nextLong();
        if (readOnly) {
            return seed; // a reader keeps it for this session only
        }
        config.set(RepositoryConfig.SEGSTORE, SEED_OPTION, Long.toHexString(seed));
        config.save(p.resolve(RepositoryConfig.FILE_NAME));
        return seed;
    }

    private void recover() throws IOException {
        long[] segments = store.list();
        if (segments.length > 0) {
            long latest = segments[segments.length - 1];
            if (SegmentFile.isAtticMagic(readers.magic(latest))) {
                throw new AtticRepositoryException(path);
            }
            readers.invalidate(latest);
        }
        Recovery.Result r = Recovery.recover(path, store, readers, seed, SHARD_BITS, !options.readOnly(), ProgressListener.NONE);
        state = r.state();
        checkNeeded = r.checkNeeded();
        if (r.indexSource() != null) {
            loadIndexInBackground(r.state().index, r.indexSource(), r.state().transactionId);
        }
        checkpointTransaction = r.checkpointTransaction();
        writer.abandon(firstFreeSegment());
        if (checkNeeded == null && state.transactionId >= 0 && r.checkpointTransaction() != state.transactionId && !options.readOnly()) {
            LOG.log(System.Logger.Level.INFO, "{0}: replayed {1} segment(s) after checkpoint {2}", path, r.replayedSegments(),
                    r.checkpointTransaction());
            // the next open should not replay again; a full disk must not keep reads from being served
            if (options.backgroundCheckpoints()) {
                writeLock.lock();
                try {
                    scheduleCheckpoint();
                } finally {
                    writeLock.unlock();
                }
            } else {
                try {
                    checkpointNow();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: could not write a checkpoint after replay: {1}", path, e.toString());
                }
            }
        }
    }

    /**
     * Reads the rest of segstore-index.T while the repository already serves: shards not loaded
     * yet are loaded by whoever touches them first. A damaged file stops the repository (the
     * next open falls back to Borg's index or the log).
     */
    private void loadIndexInBackground(KeyIndex index, io.segstore.engine.format.KeyIndexFile.Mapped source, long transaction) {
        Thread t = new Thread(() -> {
            try {
                Checkpoint.finishLoading(index, source);
            } catch (IntegrityException e) {
                LOG.log(System.Logger.Level.ERROR, "{0}: {1}", path, e.getMessage());
                checkNeeded = "its index file was damaged; reopening the repository rebuilds the index";
                if (options.readOnly()) {
                    return;
                }
                try {
                    Files.deleteIfExists(path.resolve(io.segstore.engine.format.KeyIndexFile.PREFIX + transaction));
                } catch (IOException io) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: could not remove the damaged index file: {1}", path, io.toString());
                }
            }
        }, "segstore-index-load-" + path.getFileName());
        t.setDaemon(true);
        t.start();
        indexLoader = t;
    }

    /**
     * Closes the repository: rolls back an open transaction, writes a final checkpoint and
     * releases Borg's lock.
     */
    @Override
    public void close() {
        Transaction open;
        slotLock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true; // no writer begins from here on
            open = current;
            slotFree.signalAll();
        } finally {
            slotLock.unlock();
        }
        if (open != null && open.isOpen()) {
            try {
                rollback(open);
            } catch (RepositoryException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: rollback on close failed: {1}", path, e.toString());
            }
        }
        try {
            awaitNoWriter();
            if (indexLoader != null) {
                indexLoader.join();
            }
            waitForCheckpoint(); // before the write lock: the background checkpoint needs it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writeLock.lock();
        try {
            if (checkNeeded == null && state.transactionId >= 0 && state.transactionId != checkpointTransaction && !options.readOnly()) {
                checkpointNow();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: final checkpoint failed (the log will be replayed): {1}", path, e.toString());
        } finally {
            closed = true;
            if (checkpointer != null) {
                checkpointer.shutdownNow();
            }
            writer.abandon(state.nextSegment());
            readers.close();
            lock.close();
            writeLock.unlock();
        }
    }

    /** Waits until a maintenance step that holds the writer has let it go (it cannot begin another). */
    private void awaitNoWriter() throws InterruptedException {
        slotLock.lock();
        try {
            while (current != null && current.isOpen()) {
                slotFree.await();
            }
        } finally {
            slotLock.unlock();
        }
    }

    /**
     * Removes the repository from disk (config first, so that a half-removed directory is no
     * longer a repository). Refused in append-only mode.
     */
    public void destroy() {
        requireWritable("Destroying the repository");
        if (appendOnly) {
            throw new AppendOnlyException("Destroying the repository");
        }
        close();
        try {
            if (tier != null) {
                tier.destroy();
            }
            Files.deleteIfExists(path.resolve(RepositoryConfig.FILE_NAME));
            try (Stream<Path> walk = Files.walk(path)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new RepositoryIOException("cannot destroy " + path, e);
        }
    }

    /** Borg's break-lock for a repository that is not open here. */
    public static void breakLock(Path path) {
        try {
            RepositoryLock.breakLock(path.toAbsolutePath().normalize());
        } catch (IOException e) {
            throw new RepositoryIOException("cannot break the lock of " + path, e);
        }
    }

    // ---- reading ----------------------------------------------------------------------------

    private void ensureUsable() {
        if (closed || closing) {
            throw new RepositoryClosedException();
        }
        String reason = checkNeeded;
        if (reason != null) {
            throw new CheckNeededException("Inconsistency detected in " + path + ": " + reason + ".");
        }
    }

    /** The committed location of an id, consistent with one commit even while another is being published. */
    long committedLocation(long k0, long k1, long k2, long k3) {
        while (true) {
            long generation = publishGeneration.get();
            Transaction p = publishing;
            RepositoryState s = state;
            long location = KeyIndex.ABSENT;
            boolean decided = false;
            if (p != null) {
                long o = p.overlay.get(k0, k1, k2, k3);
                if (o != KeyIndex.ABSENT) {
                    location = o == Transaction.DELETED ? KeyIndex.ABSENT : o;
                    decided = true;
                }
            }
            if (!decided) {
                location = s.index.get(k0, k1, k2, k3);
            }
            if (publishGeneration.get() == generation) {
                return location;
            }
        }
    }

    private long location(Transaction txn, byte[] id) {
        long k0 = KeyIndex.word(id, 0);
        long k1 = KeyIndex.word(id, 1);
        long k2 = KeyIndex.word(id, 2);
        long k3 = KeyIndex.word(id, 3);
        if (txn != null) {
            long o = txn.overlay.get(k0, k1, k2, k3);
            if (o != KeyIndex.ABSENT) {
                return o == Transaction.DELETED ? KeyIndex.ABSENT : o;
            }
        }
        return committedLocation(k0, k1, k2, k3);
    }

    /** The committed data of an object; ObjectNotFoundException if there is none. */
    public byte[] get(ObjectId id) {
        return get(null, id);
    }

    byte[] get(Transaction txn, ObjectId id) {
        ensureUsable();
        byte[] key = id.bytes();
        for (int attempt = 0; ; attempt++) {
            long location = location(txn, key);
            if (location == KeyIndex.ABSENT) {
                throw new ObjectNotFoundException(id);
            }
            try {
                if (txn != null) {
                    flushFor(location);
                }
                return readers.readPut(location, key);
            } catch (NoSuchFileException | IntegrityException e) {
                // compaction may have moved the object and deleted the segment meanwhile
                if (attempt < 3 && location(txn, key) != location) {
                    continue;
                }
                if (e instanceof IntegrityException ie) {
                    throw ie;
                }
                throw new IntegrityException("Segment " + Locations.segment(location) + " is missing (object " + id.hex()
                        + "): run check with repair", e);
            } catch (IOException e) {
                throw new RepositoryIOException("cannot read object " + id.hex(), e);
            }
        }
    }

    /** A transaction's own write may still be in the writer's buffer: put it in the file first. */
    private void flushFor(long location) throws IOException {
        writeLock.lock();
        try {
            writer.flushFor(location);
        } finally {
            writeLock.unlock();
        }
    }

    /** Objects up to this size are read into memory whole; larger ones are streamed. */
    private static final int STREAM_ABOVE = 256 * 1024;

    /** Opens an object for reading (committed data only); ObjectNotFoundException if absent. */
    public StoredObject open(ObjectId id) {
        return open(null, id);
    }

    StoredObject open(Transaction txn, ObjectId id) {
        ensureUsable();
        byte[] key = id.bytes();
        for (int attempt = 0; ; attempt++) {
            long location = location(txn, key);
            if (location == KeyIndex.ABSENT) {
                throw new ObjectNotFoundException(id);
            }
            try {
                if (txn != null) {
                    flushFor(location);
                }
                if (readers.entrySize(location) - SegmentFile.PUT_HEADER_SIZE <= STREAM_ABOVE) {
                    return new StoredObject(readers.readPut(location, key));
                }
                return new StoredObject(readers.openPut(location, key));
            } catch (NoSuchFileException | IntegrityException e) {
                if (attempt < 3 && location(txn, key) != location) {
                    continue;
                }
                throw e instanceof IntegrityException ie ? ie
                        : new IntegrityException("Segment " + Locations.segment(location) + " is missing (object " + id.hex()
                        + "): run check with repair", e);
            } catch (IOException e) {
                throw new RepositoryIOException("cannot read object " + id.hex(), e);
            }
        }
    }

    /**
     * The committed state as of now, held still for paging through it (see CommittedView).
     * Close the view when done: it keeps compaction from deleting segments.
     */
    public CommittedView view() {
        ensureUsable();
        writeLock.lock();
        try {
            RepositoryState s = state;
            return new CommittedView(this, s.transactionId, s.index.snapshot(), pin(s.transactionId, PIN_STATE));
        } finally {
            writeLock.unlock();
        }
    }

    /** A page of an index-order listing and the marker of the next one (null: this was the last). */
    public record Page(List<ObjectEntry> objects, ObjectId next) {
    }

    /**
     * Up to {@code limit} objects with their sizes in index order after {@code marker}, as
     * {@code txn} sees them (null: committed data only). The order does not change as the
     * repository changes, so paging with the returned marker sees every object that stays
     * present exactly once.
     */
    public Page page(Transaction txn, int limit, ObjectId marker) {
        ensureUsable();
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        byte[] after = marker == null ? null : marker.bytes();
        List<long[]> committed = keysAfter(state.index, after, limit);
        List<long[]> own = txn == null ? List.of() : keysAfter(txn.overlay, after, limit);
        boolean more = committed.size() == limit || own.size() == limit;
        // merge the two sorted runs; the transaction's entry wins for an id in both
        KeyIndex order = state.index;
        List<ObjectEntry> out = new ArrayList<>(Math.min(limit, committed.size() + own.size()));
        byte[] last = null;
        int i = 0;
        int j = 0;
        while ((i < committed.size() || j < own.size()) && out.size() < limit) {
            long[] c = i < committed.size() ? committed.get(i) : null;
            long[] o = j < own.size() ? own.get(j) : null;
            int cmp = c == null ? 1 : o == null ? -1 : order.compareOrder(KeyIndex.keyBytes(c[0], c[1], c[2], c[3]),
                    KeyIndex.keyBytes(o[0], o[1], o[2], o[3]));
            long[] pick = cmp <= 0 ? c : o;
            if (cmp <= 0) {
                i++;
            }
            if (cmp >= 0) {
                j++;
            }
            last = KeyIndex.keyBytes(pick[0], pick[1], pick[2], pick[3]);
            if (cmp >= 0 && o[4] == Transaction.DELETED) {
                continue; // deleted by the transaction
            }
            ObjectId oid = ObjectId.wrap(last);
            long size = size(cmp >= 0 ? txn : null, oid);
            if (size >= 0) {
                out.add(new ObjectEntry(oid, size)); // an object deleted meanwhile is left out
            }
        }
        boolean exhausted = !more && i >= committed.size() && j >= own.size();
        return new Page(out, exhausted || last == null ? null : ObjectId.wrap(last));
    }

    private static List<long[]> keysAfter(KeyIndex index, byte[] after, int limit) {
        List<long[]> found = new ArrayList<>(Math.min(limit, 4096));
        index.forEachAfter(after, (k0, k1, k2, k3, v) -> {
            found.add(new long[] {k0, k1, k2, k3, v});
            return found.size() < limit;
        });
        return found;
    }

    /** The data of several objects, in order. */
    public List<byte[]> getMany(List<ObjectId> ids) {
        List<byte[]> out = new ArrayList<>(ids.size());
        for (ObjectId i : ids) {
            out.add(get(i));
        }
        return out;
    }

    public boolean contains(ObjectId id) {
        return contains(null, id);
    }

    boolean contains(Transaction txn, ObjectId id) {
        ensureUsable();
        return location(txn, id.bytes()) != KeyIndex.ABSENT;
    }

    /** Length of an object's data, or -1 when it is absent (read from the entry header). */
    public long size(ObjectId id) {
        return size(null, id);
    }

    long size(Transaction txn, ObjectId id) {
        ensureUsable();
        byte[] key = id.bytes();
        for (int attempt = 0; ; attempt++) {
            long location = location(txn, key);
            if (location == KeyIndex.ABSENT) {
                return -1;
            }
            try {
                if (txn != null) {
                    flushFor(location);
                }
                return readers.entrySize(location) - SegmentFile.PUT_HEADER_SIZE;
            } catch (NoSuchFileException | IntegrityException e) {
                if (attempt < 3 && location(txn, key) != location) {
                    continue;
                }
                throw e instanceof IntegrityException ie ? ie
                        : new IntegrityException("Segment " + Locations.segment(location) + " is missing: run check with repair", e);
            } catch (IOException e) {
                throw new RepositoryIOException("cannot read object " + id.hex(), e);
            }
        }
    }

    /** Number of committed objects. */
    public long objectCount() {
        ensureUsable();
        return state.index.size();
    }

    /**
     * Up to {@code limit} ids after {@code marker} (from the start when null) in index order:
     * Borg's list(). The order is a keyed hash order that does not change as the repository
     * grows or shrinks, so paging with the last id as marker sees every object that stays
     * present exactly once; the marker need not exist any more.
     */
    public List<ObjectId> list(int limit, ObjectId marker) {
        ensureUsable();
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        List<ObjectId> out = new ArrayList<>(Math.min(limit, 4096));
        state.index.forEachAfter(marker == null ? null : marker.bytes(), (k0, k1, k2, k3, v) -> {
            out.add(ObjectId.wrap(KeyIndex.keyBytes(k0, k1, k2, k3)));
            return out.size() < limit;
        });
        return out;
    }

    /**
     * Up to {@code limit} ids after {@code marker} in on-disk order: Borg's scan(). Reading
     * objects in this order reads the log front to back. The marker must be a present id.
     */
    public List<ObjectId> scan(int limit, ObjectId marker) {
        List<ObjectId> out = new ArrayList<>();
        long start = 0;
        if (marker != null) {
            start = location(null, marker.bytes());
            if (start == KeyIndex.ABSENT) {
                throw new ObjectNotFoundException(marker);
            }
        }
        scanFrom(start, marker != null, limit, (entry, location) -> out.add(entry.id()));
        return out;
    }

    /** Receives objects found by a disk-order scan, with their location for resuming. */
    @FunctionalInterface
    public interface ScanSink {
        void accept(ObjectEntry entry, long location);
    }

    /**
     * Visits up to {@code limit} current objects in on-disk order starting at {@code location}
     * (0 for the beginning), skipping the entry at {@code location} itself when
     * {@code skipFirst}. Returns the location of the last object visited, or -1 when the end
     * of the committed log was reached.
     */
    public long scanFrom(long location, boolean skipFirst, int limit, ScanSink sink) {
        ensureUsable();
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        long committed = state.transactionId;
        long startSegment = Locations.segment(location);
        long[] last = {-1};
        int[] found = {0};
        try {
            SegmentScanner scanner = new SegmentScanner();
            for (long segment : store.list()) {
                if (segment < startSegment || segment > committed) {
                    continue;
                }
                long from = segment == startSegment ? Locations.offset(location) : 0;
                boolean[] skip = {skipFirst && segment == startSegment && from > 0};
                SegmentStore.ReadHandle h;
                try {
                    h = store.openRead(segment); // its own handle: the shared ones may be evicted mid-scan
                } catch (NoSuchFileException e) {
                    continue; // compacted away meanwhile
                }
                try (h) {
                    boolean reachedEnd = scanner.scan(h, segment, from, false, (tag, buf, at, offset, size) -> {
                        if (skip[0]) {
                            skip[0] = false;
                            return true;
                        }
                        if (tag != SegmentFile.TAG_PUT) {
                            return true;
                        }
                        int idAt = at + SegmentFile.HEADER_SIZE;
                        long k0 = buf.getLong(idAt);
                        long k1 = buf.getLong(idAt + 8);
                        long k2 = buf.getLong(idAt + 16);
                        long k3 = buf.getLong(idAt + 24);
                        long here = Locations.of(segment, offset);
                        if (committedLocation(k0, k1, k2, k3) == here) {
                            sink.accept(new ObjectEntry(ObjectId.wrap(KeyIndex.keyBytes(k0, k1, k2, k3)), size - SegmentFile.PUT_HEADER_SIZE), here);
                            last[0] = here;
                            return ++found[0] < limit;
                        }
                        return true;
                    });
                    if (!reachedEnd) {
                        return last[0];
                    }
                } catch (IntegrityException e) {
                    // Borg's scan skips the rest of a damaged segment: nothing after a bad header can be located
                    LOG.log(System.Logger.Level.WARNING, "{0}: scan skips the rest of segment {1}: {2}", path, segment, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new RepositoryIOException("cannot scan " + path, e);
        }
        return -1;
    }

    // ---- writing ----------------------------------------------------------------------------

    /** Starts the write transaction, waiting up to {@code wait} for the current one to end. */
    public Transaction begin(Duration wait) {
        return begin(wait, Duration.ZERO);
    }

    /**
     * Starts the write transaction, waiting up to {@code wait} for another transaction to end,
     * and up to {@code maintenanceWait} while the writer is held by a maintenance step
     * (compaction, repair), which lets go of it on its own.
     */
    public Transaction begin(Duration wait, Duration maintenanceWait) {
        ensureUsable();
        requireWritable("Writing");
        return acquireWriter(wait, maintenanceWait, false, false);
    }

    /**
     * Compactions and repairs rewrite the log and its accounting from what they read before
     * their steps: one at a time, or each would free what the other already freed. Checks keep
     * their resume position in one place: one at a time too. A check runs beside a compaction.
     */
    private final ReentrantLock rewriting = new ReentrantLock();
    private final ReentrantLock checking = new ReentrantLock();

    private volatile EngineObserver observer = EngineObserver.NONE;

    /** Reports commit and fsync timings to {@code observer} from now on. */
    public void observe(EngineObserver observer) {
        this.observer = observer;
        store().observe(observer);
    }

    /** Callers of begin waiting for the writer right now (guarded by slotLock). */
    private int writersWaiting;

    /** How many callers are waiting for the writer (for operators, and for tests that need a waiter to be waiting). */
    public int writersWaiting() {
        slotLock.lock();
        try {
            return writersWaiting;
        } finally {
            slotLock.unlock();
        }
    }

    private Transaction acquireWriter(Duration wait, Duration maintenanceWait, boolean evenIfCheckNeeded, boolean forMaintenance) {
        long start = System.nanoTime();
        long deadline = start + Math.max(0, wait.toNanos());
        long maintenanceDeadline = start + Math.max(0, maintenanceWait.toNanos());
        slotLock.lock();
        try {
            if (closing) {
                throw new RepositoryClosedException();
            }
            if (current != null) {
                writersWaiting++;
                try {
                    while (current != null) {
                        long left = (current.maintenance ? Math.max(deadline, maintenanceDeadline) : deadline) - System.nanoTime();
                        if (left <= 0) {
                            throw new WriterBusyException("another transaction is writing to " + path);
                        }
                        slotFree.awaitNanos(left);
                        if (closing) {
                            throw new RepositoryClosedException();
                        }
                        if (!evenIfCheckNeeded) {
                            ensureUsable();
                        }
                    }
                } finally {
                    writersWaiting--;
                }
            }
            current = new Transaction(this, seed, SHARD_BITS, state.transactionId);
            current.maintenance = forMaintenance;
            return current;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WriterBusyException("interrupted while waiting for the writer of " + path);
        } finally {
            slotLock.unlock();
        }
    }

    /** Starts the write transaction if none is open, failing at once otherwise. */
    public Transaction begin() {
        return begin(Duration.ZERO);
    }

    /** The writer passes from a committed transaction to a new one; null when the repository is closing. */
    private Transaction handOver(Transaction from) {
        slotLock.lock();
        try {
            if (current != from) {
                throw new IllegalStateException("the committed transaction did not hold the writer");
            }
            if (closing) {
                current = null;
                slotFree.signalAll();
                return null;
            }
            current = new Transaction(this, seed, SHARD_BITS, state.transactionId);
            return current;
        } finally {
            slotLock.unlock();
        }
    }

    private void release(Transaction txn) {
        slotLock.lock();
        try {
            if (current == txn) {
                current = null;
                slotFree.signalAll();
            }
        } finally {
            slotLock.unlock();
        }
    }

    private void checkWritable(Transaction txn) {
        ensureUsable();
        if (txn.state != Transaction.State.OPEN) {
            throw new TransactionStateException("the transaction was already " + (txn.state == Transaction.State.COMMITTED
                    ? "committed" : "rolled back"));
        }
        if (txn.doomed != null) {
            throw new TransactionDoomedException(txn.doomed);
        }
    }

    void put(Transaction txn, ObjectId objectId, ByteBuffer data) {
        int length = data.remaining();
        if (length > SegmentFile.MAX_DATA_SIZE) {
            throw new ObjectTooLargeException(length);
        }
        int crc = SegmentFile.putCrc(objectId.bytes(), data);
        append(txn, objectId, length, manifest -> writer.put(objectId.bytes(), crc, data, manifest));
    }

    void put(Transaction txn, ObjectId objectId, ObjectSource source) {
        long length = source.length();
        if (length > SegmentFile.MAX_DATA_SIZE) {
            throw new ObjectTooLargeException(length);
        }
        int crc;
        try {
            crc = sourceCrc(objectId.bytes(), source);
        } catch (IOException e) {
            throw new RepositoryIOException("cannot read the data of object " + objectId.hex(), e);
        }
        append(txn, objectId, length, manifest -> writer.put(objectId.bytes(), crc, source, manifest));
    }

    private static final ThreadLocal<ByteBuffer> CRC_CHUNK = ThreadLocal.withInitial(() -> ByteBuffer.allocate(64 * 1024));

    /** The PUT's CRC, computed before the write lock is taken: the lock is only held while appending. */
    private static int sourceCrc(byte[] key, ObjectSource source) throws IOException {
        java.util.zip.CRC32 crc = SegmentFile.putCrcStart(key, source.length());
        ByteBuffer chunk = CRC_CHUNK.get();
        long pos = 0;
        while (pos < source.length()) {
            chunk.clear();
            int n = source.read(chunk, pos);
            if (n <= 0) {
                throw new IOException("object source ended after " + pos + " of " + source.length() + " bytes");
            }
            chunk.flip();
            crc.update(chunk);
            pos += n;
        }
        return (int) crc.getValue();
    }

    @FunctionalInterface
    private interface EntryAppender {
        long append(boolean manifest) throws IOException;
    }

    private void append(Transaction txn, ObjectId objectId, long length, EntryAppender appender) {
        byte[] key = objectId.bytes();
        long k0 = KeyIndex.word(key, 0);
        long k1 = KeyIndex.word(key, 1);
        long k2 = KeyIndex.word(key, 2);
        long k3 = KeyIndex.word(key, 3);
        boolean manifest = objectId.isManifest();
        writeLock.lock();
        try {
            checkWritable(txn);
            long old = location(txn, key);
            if (old != KeyIndex.ABSENT) {
                // An overwrite is a DELETE and a PUT, so that the quota and the shadow index stay right.
                supersede(txn, k0, k1, k2, k3, old, manifest);
            }
            long location = appender.append(manifest);
            txn.overlay.put(k0, k1, k2, k3, location);
            LogAccounting.put(txn.delta, location, SegmentFile.PUT_HEADER_SIZE + (long) length);
            txn.puts++;
            txn.bytesWritten += SegmentFile.PUT_HEADER_SIZE + (long) length;
            txn.addsData = true;
            long quota = storageQuota;
            if (quota > 0) {
                long used;
                synchronized (state) {
                    used = state.quotaUse + txn.delta.quota;
                }
                if (used > quota) {
                    txn.doomed = new StorageQuotaExceededException(quota, used);
                    throw txn.doomed;
                }
            }
        } catch (IOException e) {
            throw failWrite(txn, e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Whether a put of {@code dataLength} bytes fits the storage quota next to what is
     * committed and what the transaction wrote: grouped writers ask before they write, so one
     * writer over the quota does not doom the others' transaction.
     */
    boolean quotaAllows(Transaction txn, long dataLength) {
        long quota = storageQuota;
        if (quota <= 0) {
            return true;
        }
        long used;
        synchronized (state) {
            used = state.quotaUse + txn.delta.quota;
        }
        return used + SegmentFile.PUT_HEADER_SIZE + dataLength <= quota;
    }

    void delete(Transaction txn, ObjectId objectId) {
        byte[] key = objectId.bytes();
        writeLock.lock();
        try {
            checkWritable(txn);
            long old = location(txn, key);
            if (old == KeyIndex.ABSENT) {
                throw new ObjectNotFoundException(objectId);
            }
            long k0 = KeyIndex.word(key, 0);
            long k1 = KeyIndex.word(key, 1);
            long k2 = KeyIndex.word(key, 2);
            long k3 = KeyIndex.word(key, 3);
            supersede(txn, k0, k1, k2, k3, old, objectId.isManifest());
            txn.overlay.put(k0, k1, k2, k3, Transaction.DELETED);
            txn.deletes++;
        } catch (IOException e) {
            throw failWrite(txn, e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes a DELETE for the id and books the superseded PUT at {@code old}. */
    private void supersede(Transaction txn, long k0, long k1, long k2, long k3, long old, boolean manifest) throws IOException {
        writer.flushFor(old);
        int oldSize;
        try {
            oldSize = readers.entrySize(old);
        } catch (NoSuchFileException e) {
            throw new IntegrityException("Segment " + Locations.segment(old) + " is missing: run check with repair", e);
        }
        long deleteLocation = writer.delete(KeyIndex.keyBytes(k0, k1, k2, k3), manifest);
        LogAccounting.supersede(txn.delta, k0, k1, k2, k3, old, oldSize);
        LogAccounting.delete(txn.delta, deleteLocation);
        txn.bytesWritten += SegmentFile.DELETE_SIZE;
    }

    /** An I/O error while appending leaves the log in an unknown state: the transaction is doomed. */
    private RepositoryException failWrite(Transaction txn, IOException e) {
        RepositoryIOException error = new RepositoryIOException("cannot write to " + path, e);
        txn.doomed = error;
        return error;
    }

    long commit(Transaction txn) {
        return commit(txn, false);
    }

    /**
     * Commits and, with {@code keepWriter}, hands the writer straight to a new transaction
     * (left in {@code txn.successor}) so nobody else can take it in between.
     */
    long commit(Transaction txn, boolean keepWriter) {
        writeLock.lock();
        try {
            ensureUsable();
            if (txn.state != Transaction.State.OPEN) {
                throw new TransactionStateException("the transaction was already " + (txn.state == Transaction.State.COMMITTED
                        ? "committed" : "rolled back"));
            }
            if (txn.doomed != null) {
                RepositoryException cause = txn.doomed;
                rollbackLocked(txn);
                throw cause;
            }
            if (txn.addsData) {
                try {
                    checkFreeSpace();
                } catch (RepositoryException e) {
                    rollbackLocked(txn);
                    throw e;
                }
            }
            long written = writer.bytesSinceCommit();
            long tid;
            long started = System.nanoTime();
            long firstNew = state.nextSegment();
            try {
                tid = store.commitInSegment() ? writer.commitInline() : writer.commit();
                observer.committed(System.nanoTime() - started, written);
            } catch (IOException e) {
                rollbackLocked(txn);
                throw new RepositoryIOException("commit failed in " + path, e);
            }
            if (tier != null) {
                // the tier moved the transaction's segments off the volume: handles on the local
                // files would keep their space until evicted
                for (long s = firstNew; s <= tid; s++) {
                    readers.invalidate(s);
                }
            }
            publish(txn, tid);
            txn.state = Transaction.State.COMMITTED;
            txn.committedAs = tid;
            if (keepWriter) {
                txn.successor = handOver(txn);
            } else {
                release(txn);
            }
            if (appendOnly) {
                try {
                    TransactionsLogFile.append(path, tid, Instant.now());
                    if (tier != null) {
                        tier.fileChanged(path.resolve(TransactionsLogFile.NAME));
                    }
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: transaction {1} is committed but not in the transactions log: {2}",
                            path, tid, e.toString());
                }
            }
            commitsSinceCheckpoint++;
            logBytesSinceCheckpoint += written + SegmentFile.MAGIC_LENGTH + SegmentFile.COMMIT_SIZE;
            maybeCheckpoint();
            return tid;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Applies a committed transaction to the committed state. While it runs, readers consult the
     * transaction's overlay first, so they see either all of it or (before the generation moved)
     * none of it.
     */
    private void publish(Transaction txn, long tid) {
        publishing = txn;
        publishGeneration.incrementAndGet();
        try {
            RepositoryState s = state;
            KeyIndex index = s.index;
            long added = Math.min(txn.puts, txn.overlay.size());
            if (added > 4096) {
                // one growth step per shard instead of many while a large transaction is applied
                index.reserve(index.size() + added);
            }
            txn.overlay.forEachAfter(null, (k0, k1, k2, k3, v) -> {
                if (v == Transaction.DELETED) {
                    index.remove(k0, k1, k2, k3);
                } else {
                    index.put(k0, k1, k2, k3, v);
                }
                return true;
            });
            synchronized (s) {
                s.usage.merge(txn.delta.usage);
                s.quotaUse += txn.delta.quota;
                if (txn.delta.shadow() != null) {
                    s.shadow.merge(txn.delta.shadow());
                }
                LogAccounting.commit(s, tid);
                s.transactionId = tid;
            }
        } finally {
            publishGeneration.incrementAndGet();
            publishing = null;
        }
    }

    void rollback(Transaction txn) {
        writeLock.lock();
        try {
            if (txn.state == Transaction.State.OPEN) {
                rollbackLocked(txn);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Drops the transaction's segments (everything after the last commit) and frees the writer. */
    private void rollbackLocked(Transaction txn) {
        try {
            discardUncommitted();
        } finally {
            txn.state = Transaction.State.ROLLED_BACK;
            release(txn);
        }
    }

    /** Deletes the segments after the last commit and resets the writer to follow it. */
    void discardUncommitted() {
        long first = state.nextSegment();
        long last = writer.nextSegment();
        writer.abandon(store.firstFreeSegment(first)); // a store shared with others skips the discarded numbers
        try {
            for (long s = first; s <= last; s++) {
                readers.invalidate(s);
                store.delete(s);
            }
            store.syncDirectories();
        } catch (IOException e) {
            // recovery removes them at the next open; the writer must not reuse the numbers meanwhile
            LOG.log(System.Logger.Level.WARNING, "{0}: could not remove uncommitted segments: {1}", path, e.toString());
            checkNeeded = "uncommitted segments could not be removed (" + e.getMessage() + ")";
        }
    }

    /**
     * Borg's rule before a commit that adds data: enough space must stay free for the next
     * checkpoint, one full segment (compaction's working space), the configured reserve and the
     * repository's additional_free_space.
     */
    private void checkFreeSpace() {
        long count = state.index.size();
        long checkpoint = BorgIndexFile.fileSize((int) Math.min(Integer.MAX_VALUE / 2, count)) + state.index.memoryBytes()
                + 10L * state.usage.segmentCount() * 2 + 64L * state.shadow.size() + 4096;
        long reserve = Math.max(options.freeSpaceReserve(), checkpoint + maxSegmentSize + SegmentFile.MAX_ENTRY_SIZE);
        long required = reserve + additionalFreeSpace;
        long free;
        try {
            free = store.usableSpace();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: could not check free space: {1}", path, e.toString());
            return;
        }
        if (free < required) {
            throw new InsufficientFreeSpaceException(required, free);
        }
    }

    // ---- writer slot for maintenance ------------------------------------------------------

    /** Takes the writer for a maintenance step; the returned token is released with {@link #endMaintenance}. */
    Transaction beginMaintenance(Duration wait) {
        ensureUsable();
        requireWritable("Maintenance");
        return acquireWriter(wait, Duration.ZERO, false, true);
    }

    /** Takes the writer for a repair, which must work on a repository that needs a check. */
    Transaction beginMaintenanceForRepair(Duration wait) {
        if (closed) {
            throw new RepositoryClosedException();
        }
        requireWritable("Repair");
        return acquireWriter(wait, Duration.ZERO, true, true);
    }

    /** Where the next segment goes: after the committed log, at a number the store has not given before. */
    long firstFreeSegment() {
        return store.firstFreeSegment(state.nextSegment());
    }

    /** Puts a rebuilt state in place (repair); the caller holds the write lock and writes a checkpoint next. */
    void replaceState(RepositoryState rebuilt) {
        state = rebuilt;
        checkNeeded = null;
        checkpointTransaction = -2;
        writer.abandon(store.firstFreeSegment(rebuilt.nextSegment()));
    }

    void endMaintenance(Transaction token) {
        token.state = Transaction.State.COMMITTED;
        release(token);
    }

    // ---- checkpoints ------------------------------------------------------------------------

    private void maybeCheckpoint() {
        if (closing) {
            return; // close writes the last one
        }
        boolean due = commitsSinceCheckpoint >= options.checkpointCommits()
                || logBytesSinceCheckpoint >= options.checkpointLogBytes()
                || System.nanoTime() - lastCheckpointNanos >= options.checkpointInterval().toNanos();
        if (!due) {
            return;
        }
        if (!options.backgroundCheckpoints()) {
            checkpointNow();
            return;
        }
        scheduleCheckpoint();
    }

    /** Starts a checkpoint on the background thread unless one is pending (caller holds the write lock). */
    private void scheduleCheckpoint() {
        if (pendingCheckpoint != null && !pendingCheckpoint.isDone()) {
            return;
        }
        if (checkpointer == null) {
            checkpointer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "segstore-checkpoint-" + path.getFileName());
                t.setDaemon(true);
                return t;
            });
        }
        pendingCheckpoint = checkpointer.submit(() -> {
            try {
                checkpointNow();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: background checkpoint failed: {1}", path, e.toString());
            }
        });
    }

    private void waitForCheckpoint() {
        Future<?> f;
        writeLock.lock();
        try {
            f = pendingCheckpoint;
        } finally {
            writeLock.unlock();
        }
        if (f != null) {
            try {
                f.get(10, TimeUnit.MINUTES);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: background checkpoint did not finish: {1}", path, e.toString());
            }
        }
    }

    /**
     * Writes a checkpoint of the committed state now. The state is frozen under the write lock
     * (copy-on-write, so briefly); the files are written without holding it.
     */
    public void checkpointNow() {
        if (options.readOnly()) {
            return;
        }
        Checkpoint.State snapshot;
        RepositoryState snapshotOf;
        // Lock order: write lock, then checkpoint lock (which waits for a checkpoint being written).
        writeLock.lock();
        try {
            checkpointLock.lock();
            try {
                RepositoryState s = state;
                snapshotOf = s;
                if (s.transactionId < 0 || s.transactionId == checkpointTransaction || checkNeeded != null) {
                    checkpointLock.unlock();
                    return;
                }
                synchronized (s) {
                    snapshot = new Checkpoint.State(s.transactionId, s.index.snapshot(), s.usage.copy(), s.quotaUse, s.shadow.snapshot());
                }
            } catch (RuntimeException e) {
                checkpointLock.unlock();
                throw e;
            }
            commitsSinceCheckpoint = 0;
            logBytesSinceCheckpoint = 0;
            lastCheckpointNanos = System.nanoTime();
        } finally {
            writeLock.unlock();
        }
        try {
            try {
                Checkpoint.write(path, snapshot);
            } catch (IOException e) {
                throw new RepositoryIOException("cannot write checkpoint " + snapshot.transactionId() + " of " + path, e);
            } finally {
                snapshot.index().close();
            }
            if (state == snapshotOf) {
                // a repair may have replaced the state while this one was written: then it is not current
                checkpointTransaction = snapshot.transactionId();
            }
            if (tier != null) {
                try {
                    tier.checkpointWritten(snapshot.transactionId(), Checkpoint.files(path, snapshot.transactionId()), appendOnly);
                } catch (IOException e) {
                    // the commits stand; the next checkpoint (or a replay) covers them
                    LOG.log(System.Logger.Level.WARNING, "{0}: checkpoint {1} was not copied to the storage tier: {2}", path,
                            snapshot.transactionId(), e.toString());
                }
            }
        } finally {
            checkpointLock.unlock();
        }
    }

    /** Transaction of the newest checkpoint on disk (-1 for none). */
    long checkpointTransaction() {
        return checkpointTransaction;
    }

    // ---- pins -----------------------------------------------------------------------------

    /** Keeps every segment up to {@code transaction} from being deleted until the returned pin is closed. */
    AutoCloseable pin(long transaction) {
        return pin(transaction, PIN_SEGMENTS);
    }

    private AutoCloseable pin(long transaction, long kind) {
        long[] pin = {transaction, kind};
        synchronized (pinLock) {
            pins.add(pin);
        }
        return () -> {
            synchronized (pinLock) {
                pins.remove(pin);
                pinLock.notifyAll();
            }
        };
    }

    /**
     * Whether a pin still needs {@code segment}, which compaction emptied in transaction
     * {@code compactedIn}: a check reading up to it does, and so does a view of a state older
     * than the compaction (its index still points into the segment).
     */
    private boolean pinned(long segment, long compactedIn) {
        for (long[] pin : pins) {
            long t = pin[0];
            if (pin[1] == PIN_SEGMENTS ? t >= segment : t >= segment && t < compactedIn) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes the write lock once no pin needs any of {@code segments} (emptied by the compaction
     * committed as {@code compactedIn}). Pins are taken under the write lock, so none can appear
     * between this check and the deletion the caller makes while holding it.
     */
    void lockWhenUnpinned(List<Long> segments, long compactedIn) throws InterruptedException {
        while (true) {
            synchronized (pinLock) {
                while (segments.stream().anyMatch(seg -> pinned(seg, compactedIn))) {
                    pinLock.wait();
                }
            }
            writeLock.lockInterruptibly();
            synchronized (pinLock) {
                if (segments.stream().noneMatch(seg -> pinned(seg, compactedIn))) {
                    return;
                }
            }
            writeLock.unlock();
        }
    }

    // ---- maintenance --------------------------------------------------------------------

    /**
     * Compacts: copies the live entries of segments whose freeable share exceeds
     * {@code threshold} (and of runs of small segments) forward, commits, deletes the old
     * segments. Works in steps, each a short transaction, so writers are not locked out for long.
     * In append-only mode nothing is removed and this does nothing.
     */
    public CompactionResult compact(double threshold, ProgressListener progress) {
        ensureUsable();
        requireWritable("Compaction");
        rewriting.lock();
        try {
            return new Compactor(this).run(threshold, progress);
        } finally {
            rewriting.unlock();
        }
    }

    /**
     * Creates a repository at {@code target} holding this one's state as of the committed
     * transaction {@code transactionId} (see RepositoryCopy); this repository is not changed.
     * The target must be absent (or an empty directory) and not inside a repository. Used to
     * bring back an earlier state of an append-only repository.
     */
    public void copyAtTransaction(long transactionId, Path target) {
        ensureUsable();
        if (!(store() instanceof LocalSegmentStore local)) {
            throw new UnsupportedOperationException("copies are made of repositories on local storage only");
        }
        if (!appendOnly) {
            // compaction has moved and deleted what earlier transactions were made of
            throw new IllegalArgumentException("only an append-only repository keeps its earlier transactions; " + path + " is not one");
        }
        Path t = target.toAbsolutePath().normalize();
        checkCanCreate(t);
        try (AutoCloseable pin = pin(transactionId)) {
            Long current = transactionId();
            if (transactionId < 0 || current == null || transactionId > current || !store().exists(transactionId)
                    || Recovery.commitState(store(), transactionId) != Recovery.CommitState.COMMITTED) {
                throw new IllegalArgumentException("transaction " + transactionId + " is not a commit of " + path
                        + (current == null ? " (it has none)" : " (its commits are at most " + current + "; see its transactions log)"));
            }
            RepositoryCopy.atTransaction(this, local, transactionId, t);
        } catch (IOException e) {
            throw new RepositoryIOException("cannot copy " + path + " at transaction " + transactionId + " to " + t, e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e); // closing a pin does not fail
        }
    }

    /** Runs Borg's check: a full check, a partial one (max duration), or a repair. */
    public CheckResult check(CheckOptions check, ProgressListener progress) {
        if (closed) {
            throw new RepositoryClosedException();
        }
        if (check.repair() && appendOnly) {
            throw new AppendOnlyException("Repair");
        }
        ReentrantLock one = check.repair() ? rewriting : checking;
        one.lock();
        try {
            return new Checker(this).run(check, progress);
        } finally {
            one.unlock();
        }
    }

    // ---- key, nonce, settings -------------------------------------------------------------

    /** The client's repokey blob (empty when none was stored). */
    public byte[] loadKey() {
        synchronized (configLock) {
            return config.key().getBytes(StandardCharsets.UTF_8);
        }
    }

    public void saveKey(byte[] key) {
        String text = new String(key, StandardCharsets.UTF_8);
        updateConfig(c -> c.set(RepositoryConfig.REPOSITORY, "key", text));
    }

    /** The next free nonce, or empty when no client reserved any yet. */
    public OptionalLong freeNonce() {
        ensureNotClosed();
        try {
            return NonceFile.read(path);
        } catch (IOException e) {
            throw new RepositoryIOException("cannot read the nonce of " + path, e);
        }
    }

    /**
     * Reserves nonces up to {@code next}; {@code expectedStart} must be what {@link #freeNonce}
     * returns now (null for none), so two clients cannot reserve the same range.
     */
    public void commitNonceReservation(long next, Long expectedStart) {
        ensureNotClosed();
        requireWritable("Reserving nonces");
        synchronized (configLock) {
            OptionalLong now = freeNonce();
            boolean matches = expectedStart == null ? now.isEmpty() : now.isPresent() && now.getAsLong() == expectedStart;
            if (!matches) {
                throw new NonceReservationException("nonce space reservation with mismatched previous state");
            }
            try {
                NonceFile.write(path, next);
                if (tier != null) {
                    tier.fileChanged(path.resolve(NonceFile.NAME));
                }
            } catch (IOException e) {
                throw new RepositoryIOException("cannot write the nonce of " + path, e);
            }
        }
    }

    public void setAppendOnly(boolean value) {
        updateConfig(c -> c.set(RepositoryConfig.REPOSITORY, "append_only", value ? "1" : "0"));
        appendOnly = value;
    }

    public void setStorageQuota(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("the storage quota must not be negative");
        }
        updateConfig(c -> c.set(RepositoryConfig.REPOSITORY, "storage_quota", Long.toString(bytes)));
        storageQuota = bytes;
    }

    public void setAdditionalFreeSpace(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("additional free space must not be negative");
        }
        updateConfig(c -> c.set(RepositoryConfig.REPOSITORY, "additional_free_space", Long.toString(bytes)));
        additionalFreeSpace = bytes;
    }

    /** A setting of Segstore's own in the config's [segstore] section, or null. */
    public String setting(String name) {
        synchronized (configLock) {
            return config.get(RepositoryConfig.SEGSTORE, name);
        }
    }

    /** Stores (or with null removes) a setting in the config's [segstore] section. */
    public void setSetting(String name, String value) {
        if (SEED_OPTION.equals(name)) {
            throw new IllegalArgumentException(name + " is managed by the engine");
        }
        updateConfig(c -> {
            if (value == null) {
                c.remove(RepositoryConfig.SEGSTORE, name);
            } else {
                c.set(RepositoryConfig.SEGSTORE, name, value);
            }
        });
    }

    interface ConfigChange {
        void apply(RepositoryConfig config);
    }

    void updateConfig(ConfigChange change) {
        ensureNotClosed();
        requireWritable("Changing the config");
        synchronized (configLock) {
            try {
                RepositoryConfig c = RepositoryConfig.parse(config.format());
                change.apply(c);
                c.save(path.resolve(RepositoryConfig.FILE_NAME));
                config = c;
                if (tier != null) {
                    tier.fileChanged(path.resolve(RepositoryConfig.FILE_NAME));
                }
            } catch (IOException e) {
                throw new RepositoryIOException("cannot write the config of " + path, e);
            }
        }
    }

    RepositoryConfig config() {
        synchronized (configLock) {
            return config;
        }
    }

    private void requireWritable(String operation) {
        if (options.readOnly()) {
            throw new ReadOnlyRepositoryException(operation);
        }
    }

    /** What {@link #followCommits()} did. */
    public enum Followed {
        /** No commit appeared since the state was built (or last followed). */
        UNCHANGED,
        /** Newer commits were applied to the state in place. */
        APPLIED,
        /**
         * Segments this state stands on are gone (a compaction elsewhere replaced them), or a new
         * one is damaged: the state cannot be brought forward in place; open the repository again.
         */
        REOPEN
    }

    /**
     * For a repository open read-only whose segments another process commits (a bucket shared by
     * several instances): reads the store's list of segments again and replays the commits that
     * appeared after this state's transaction into it, in place, with the same bookkeeping as an
     * open's replay. Reads go on meanwhile (the index is thread-safe and every applied entry is
     * committed), and listings keep their position. Segments written after the newest COMMIT
     * belong to a transaction still being uploaded and wait for the next call.
     */
    public Followed followCommits() {
        ensureNotClosed();
        if (!options.readOnly()) {
            throw new IllegalStateException("only a repository open read-only follows another writer's commits");
        }
        // one caller at a time; the reads from the store happen without the write lock, so that
        // closing the repository never waits for the bucket
        followLock.lock();
        try {
            RepositoryState s = state;
            long tid = s.transactionId;
            long[] before = store.list();
            store.rescan();
            long[] after = store.list();
            if (checkNeeded != null) {
                // a damaged repository has no state to bring forward: open it again only when the
                // writer added something (a fixed state may follow), not at every call
                return Arrays.equals(before, after) ? Followed.UNCHANGED : Followed.REOPEN;
            }
            for (long seg : before) {
                if (seg <= tid && Arrays.binarySearch(after, seg) < 0) {
                    return Followed.REOPEN;
                }
            }
            for (long seg : after) {
                if (seg > tid) {
                    readers.invalidate(seg); // a handle from the last call may be of an object since replaced
                }
            }
            long newest = -1;
            for (int i = after.length - 1; i >= 0 && after[i] > tid; i--) {
                if (store.length(after[i]) == 0) {
                    continue;
                }
                Recovery.CommitState c = Recovery.commitState(store, after[i]);
                if (c == Recovery.CommitState.COMMITTED) {
                    newest = after[i];
                    break;
                }
                if (c == Recovery.CommitState.DAMAGED) {
                    return Followed.REOPEN;
                }
            }
            if (newest < 0) {
                return Followed.UNCHANGED;
            }
            long[] existing = Recovery.existing(store, after, newest);
            // read everything first: a failure here leaves the state as it was
            List<SegmentEntries> read = new ArrayList<>();
            SegmentScanner scanner = new SegmentScanner();
            for (long seg : existing) {
                if (seg <= tid) {
                    continue;
                }
                SegmentEntries entries = new SegmentEntries(seg);
                try (SegmentStore.ReadHandle h = store.openRead(seg)) {
                    scanner.scan(h, seg, 0, true, (tag, buf, at, offset, size) -> {
                        entries.add(tag, buf, at, offset, size);
                        return true;
                    });
                }
                read.add(entries);
            }
            // what readers see while the entries are applied (all of the new commits at once), and
            // the sizes of the entries they supersede, looked up now rather than under the lock
            Transaction view = new Transaction(this, seed(), SHARD_BITS, tid);
            java.util.Map<Long, Integer> sizes = new java.util.HashMap<>();
            for (SegmentEntries entries : read) {
                entries.forEach((tag, k0, k1, k2, k3, location, size) -> {
                    if (tag != SegmentFile.TAG_PUT && tag != SegmentFile.TAG_DELETE) {
                        return;
                    }
                    long current = view.overlay.get(k0, k1, k2, k3);
                    if (current == KeyIndex.ABSENT) {
                        current = s.index.get(k0, k1, k2, k3);
                        if (current != KeyIndex.ABSENT && !sizes.containsKey(current)
                                && Arrays.binarySearch(existing, Locations.segment(current)) >= 0) {
                            sizes.put(current, readers.entrySize(current));
                        }
                    }
                    if (tag == SegmentFile.TAG_PUT) {
                        sizes.put(location, size);
                        view.overlay.put(k0, k1, k2, k3, location);
                    } else {
                        view.overlay.put(k0, k1, k2, k3, Transaction.DELETED);
                    }
                });
            }
            writeLock.lock();
            try {
                ensureNotClosed();
                publishing = view;
                publishGeneration.incrementAndGet();
                try {
                    synchronized (s) {
                        Recovery.Applier applier = new Recovery.Applier(s, location -> {
                            Integer z = sizes.get(location);
                            return z != null ? z : readers.entrySize(location);
                        }, existing);
                        for (SegmentEntries entries : read) {
                            entries.applyTo(applier);
                        }
                        s.transactionId = newest;
                    }
                } finally {
                    publishGeneration.incrementAndGet();
                    publishing = null;
                }
            } finally {
                writeLock.unlock();
            }
            return Followed.APPLIED;
        } catch (IntegrityException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: a commit written elsewhere cannot be applied ({1}); reopening", path, e.getMessage());
            return Followed.REOPEN;
        } catch (IOException e) {
            throw new RepositoryIOException("cannot follow the commits of " + path, e);
        } finally {
            followLock.unlock();
        }
    }

    /** True when opened read-only (Borg's shared lock): nothing is written. */
    public boolean isReadOnly() {
        return options.readOnly();
    }

    private void ensureNotClosed() {
        if (closed) {
            throw new RepositoryClosedException();
        }
    }

    // ---- information ----------------------------------------------------------------------

    public RepositoryInfo info() {
        ensureNotClosed();
        RepositoryState s = state;
        long objects = s.index.size();
        long segments;
        long sparse;
        long quotaUsed;
        synchronized (s) {
            segments = s.usage.segmentCount();
            sparse = s.usage.totalFreeable();
            quotaUsed = s.quotaUse;
        }
        return new RepositoryInfo(HexFormat.of().formatHex(id), s.transactionId < 0 ? null : s.transactionId, objects, segments,
                sparse, quotaUsed, storageQuota, appendOnly, additionalFreeSpace, maxSegmentSize, segmentsPerDir,
                s.index.memoryBytes(), checkNeeded);
    }

    /** Bytes of all segment files (a directory walk: for operators, not for hot paths). */
    public long segmentBytes() {
        ensureNotClosed();
        long total = 0;
        try {
            for (long s : store().list()) {
                try {
                    total += store().length(s);
                } catch (java.nio.file.NoSuchFileException e) {
                    // deleted by a compaction meanwhile
                }
            }
        } catch (IOException e) {
            throw new RepositoryIOException("cannot list the segments of " + path, e);
        }
        return total;
    }

    public Path path() {
        return path;
    }

    /** Borg's repository id. */
    public byte[] id() {
        return id.clone();
    }

    /** The newest committed transaction, or null before the first commit. */
    public Long transactionId() {
        long t = state.transactionId;
        return t < 0 ? null : t;
    }

    public boolean isAppendOnly() {
        return appendOnly;
    }

    public long storageQuota() {
        return storageQuota;
    }

    /** Why only check can go on, or null. */
    public String checkNeeded() {
        return checkNeeded;
    }

    void setCheckNeeded(String reason) {
        checkNeeded = reason;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Borg's transactions log (append-only repositories). */
    public List<TransactionsLogFile.Entry> history() {
        try {
            return TransactionsLogFile.read(path);
        } catch (IOException e) {
            throw new RepositoryIOException("cannot read the transactions log of " + path, e);
        }
    }

    SegmentStore store() {
        return store;
    }

    long maxSegmentSize() {
        return maxSegmentSize;
    }

    long seed() {
        return seed;
    }

    @Override
    public String toString() {
        return "Repository[" + path + "]";
    }
}
