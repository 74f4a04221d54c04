package io.segstore.service;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import io.segstore.engine.RepositoryAlreadyExistsException;
import io.segstore.engine.RepositoryException;
import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.segstore.engine.format.RepositoryConfig;
import io.segstore.tier.ObjectStores;
import io.segstore.tier.S3Properties;
import io.segstore.tier.S3RepositoryTier;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Service;

/**
 * The repositories under {@code segstore.data-dir}, by name: opened at start, created and
 * destroyed on request, closed (checkpointed, locks released) at shutdown. A background sweeper
 * expires idle leases, listing snapshots and old job records.
 */
@Service
public class RepositoryService implements DisposableBean {

    private static final System.Logger LOG = System.getLogger(RepositoryService.class.getName());
    static final String STAGING = ".staging";

    private final SegstoreProperties properties;
    private final JobService jobs;
    private final Path dataDir;
    private final Map<String, ManagedRepository> open = new ConcurrentHashMap<>();
    /** Repositories that exist but could not be opened, with the reason. */
    private final Map<String, String> unavailable = new ConcurrentHashMap<>();
    /** Repositories in object storage: name to store. */
    private final Map<String, String> tiers = new ConcurrentHashMap<>();
    /** Told before a repository is created in a bucket (the creator takes its writer lease first). */
    private volatile java.util.function.Consumer<String> createdInBucket = n -> { };
    /** What a commit of a repository in a bucket needs (its writer lease held); set by the lease coordinator. */
    private volatile java.util.function.Function<String, java.util.function.BooleanSupplier> fences = n -> () -> true;
    private final ScheduledExecutorService sweeper;
    private final List<RepositoryListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Opens the repositories found at start-up in the background, so that probes answer meanwhile. */
    private final Thread opener;
    private volatile boolean startupComplete;
    private volatile boolean closing;

    /** Told when a repository is opened (or created) and when it is closed (or destroyed). */
    public interface RepositoryListener {
        void opened(ManagedRepository repository);

        void closed(String name);
    }

    /** Where repositories in object storage live ({@code segstore.s3.*}); empty when none is configured. */
    private final ObjectStores objectStores;
    /** The setting in a repository's config naming the object store it lives in. */
    public static final String STORAGE = "storage";

    public RepositoryService(SegstoreProperties properties, JobService jobs, ObjectStores objectStores) throws IOException {
        this.properties = properties;
        this.jobs = jobs;
        this.objectStores = objectStores;
        this.dataDir = properties.dataDir().toAbsolutePath().normalize();
        Files.createDirectories(dataDir);
        clearStaging();
        this.opener = new Thread(this::openAtStartup, "segstore-opener");
        opener.setDaemon(true);
        opener.start();
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "segstore-sweeper");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    private void clearStaging() throws IOException {
        Path staging = stagingDir();
        if (Files.isDirectory(staging)) {
            try (Stream<Path> files = Files.list(staging)) {
                for (Path f : files.toList()) {
                    removeQuietly(f); // bodies, and the scratch directories of a restore or repair cut off by a crash
                }
            }
        }
    }

    private void openAtStartup() {
        long started = System.nanoTime();
        try {
            openExisting();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot list the data directory {0}: {1}", dataDir, e.toString());
        } finally {
            startupComplete = true;
            LOG.log(System.Logger.Level.INFO, "{0} repositories open, {1} unavailable, in {2} ms", open.size(), unavailable.size(),
                    (System.nanoTime() - started) / 1_000_000);
        }
    }

    /** Whether the repositories present at start-up have all been opened (or found unavailable). */
    public boolean startupComplete() {
        return startupComplete;
    }

    public void fences(java.util.function.Function<String, java.util.function.BooleanSupplier> fences) {
        this.fences = fences;
    }

    public void onCreatedInBucket(java.util.function.Consumer<String> listener) {
        this.createdInBucket = listener;
    }

    public void addListener(RepositoryListener listener) {
        listeners.add(listener);
        open.values().forEach(listener::opened);
    }

    private void register(String name, ManagedRepository managed) {
        open.put(name, managed);
        unavailable.remove(name);
        for (RepositoryListener l : listeners) {
            l.opened(managed);
        }
    }

    private void unregister(String name) {
        open.remove(name);
        for (RepositoryListener l : listeners) {
            l.closed(name);
        }
    }

    /**
     * Makes a local working copy of every repository of the configured object stores that has
     * none yet (an instance started on an empty volume serves the whole bucket).
     */
    private void hydrateFromStores() {
        for (String store : objectStores.names()) {
            List<String> names;
            try {
                names = objectStores.store(store).listNames("");
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot list the repositories of object store {0}: {1}", store, e.getMessage());
                continue;
            }
            for (String name : names) {
                try {
                    Names.repository(name);
                } catch (ServiceException e) {
                    continue;
                }
                Path dir = dataDir.resolve(name);
                if (Files.exists(dir) || open.containsKey(name)) {
                    continue;
                }
                S3RepositoryTier tier = objectStores.tier(store, name);
                try {
                    if (tier.existsInBucket()) {
                        tier.hydrate(dir);
                    }
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.ERROR, "cannot fetch repository {0} from object store {1}: {2}", name, store, e.getMessage());
                }
            }
        }
    }

    /** Fetches a repository of that name from the first configured store that holds one. */
    private void hydrate(String name, Path dir) {
        for (String store : objectStores.names()) {
            S3RepositoryTier tier = objectStores.tier(store, name);
            try {
                if (tier.existsInBucket()) {
                    tier.hydrate(dir);
                    return;
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot fetch repository {0} from object store {1}: {2}", name, store, e.getMessage());
            }
        }
    }

    /** The tier of a repository whose local copy names an object store, or null for a local one. */
    private S3RepositoryTier tierOf(String name, Path dir) {
        if (objectStores.names().isEmpty()) {
            return null;
        }
        String storage;
        try {
            storage = RepositoryConfig.read(dir.resolve(RepositoryConfig.FILE_NAME)).get(RepositoryConfig.SEGSTORE, STORAGE);
        } catch (IOException e) {
            return null; // opening reports the damage
        }
        if (storage == null || storage.isBlank()) {
            return null;
        }
        if (!objectStores.names().contains(storage.strip())) {
            throw new io.segstore.engine.InvalidRepositoryException("repository " + name + " lives in object store " + storage.strip()
                    + ", which is not configured (segstore.s3.stores." + storage.strip() + ")");
        }
        return objectStores.tier(storage.strip(), name);
    }

    /**
     * A repository in a bucket opens read-only: it follows the bucket until a write makes this
     * instance take its writer lease ({@link #reopen}).
     */
    private OpenOptions openOptions(String name, Path dir) {
        S3RepositoryTier tier = tierOf(name, dir);
        if (tier == null) {
            return openOptions();
        }
        tiers.put(name, tier.storeName());
        return openOptions().withTier(tier.fence(fences.apply(name))).withReadOnly(true);
    }

    /**
     * Writes new repository {@code into}, in the same object store as repository {@code name},
     * holding {@code name} as of commit {@code transaction} (a restore of a repository in a
     * bucket); the copy is opened on first use like any repository another instance created.
     */
    public void copyInBucket(String name, long transaction, String into) {
        String store = tiers.get(name);
        if (store == null) {
            throw new IllegalStateException(name + " is not in an object store");
        }
        Path scratch = stagingDir().resolve("restore-" + java.util.UUID.randomUUID());
        try {
            objectStores.tier(store, name).copyAtTransaction(transaction, objectStores.tier(store, into), scratch);
        } catch (IOException e) {
            throw new io.segstore.engine.RepositoryIOException("cannot copy " + name + " into " + into + " in object store " + store, e);
        } finally {
            removeQuietly(scratch);
        }
    }

    /**
     * Repairs repository {@code name}, in an object store, into the new repository {@code into} of
     * the same store (segments in a bucket are never rewritten); the damaged original is left as
     * it is. The copy passes through the local volume and is opened on first use.
     */
    public io.segstore.tier.BucketRepair.Result repairInBucket(String name, String into, io.segstore.engine.ProgressListener progress) {
        String store = tiers.get(name);
        if (store == null) {
            throw new IllegalStateException(name + " is not in an object store");
        }
        Path scratch = stagingDir().resolve("repair-" + java.util.UUID.randomUUID());
        try {
            return io.segstore.tier.BucketRepair.run(objectStores.tier(store, name), objectStores.tier(store, into), scratch, progress);
        } catch (IOException e) {
            throw new io.segstore.engine.RepositoryIOException("cannot repair " + name + " into " + into + " in object store " + store, e);
        } finally {
            removeQuietly(scratch);
        }
    }

    /** The object store a repository lives in, or null for a local one (or one not open). */
    public String storageOf(String name) {
        return tiers.get(name);
    }

    /** The tier of a repository in a bucket, new (for a new open), or null. */
    public S3RepositoryTier newTier(String name) {
        String store = tiers.get(name);
        return store == null ? null : objectStores.tier(store, name);
    }

    public ObjectStores objectStores() {
        return objectStores;
    }

    /**
     * Forgets a repository in a bucket that another instance destroyed: closes it here and removes
     * the local working copy (the bucket no longer holds it).
     */
    public synchronized void forgetDestroyed(String name) {
        ManagedRepository old = open.get(name);
        if (old != null) {
            unregister(name);
            try {
                old.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing {0}: {1}", name, e.toString());
            }
        }
        tiers.remove(name);
        unavailable.remove(name);
        removeQuietly(dataDir.resolve(name));
        LOG.log(System.Logger.Level.INFO, "repository {0} was destroyed in its object store: forgotten here", name);
    }

    /**
     * Opens a repository in a bucket again, from the bucket's newest state: read-only to follow
     * another instance's commits, or writable once this instance holds the writer lease. The old
     * instance is closed (a read-only one a little later, so reads in flight finish).
     */
    public synchronized ManagedRepository reopen(String name, boolean writable) {
        ManagedRepository old = open.get(name);
        String store = tiers.get(name);
        if (store == null) {
            throw new IllegalStateException(name + " is not in an object store");
        }
        Path dir = dataDir.resolve(name);
        S3RepositoryTier tier = objectStores.tier(store, name).fence(fences.apply(name));
        boolean oldWritable = old != null && !old.repository().isReadOnly();
        if (old != null) {
            unregister(name); // listeners (metrics) see the old one go before the new one comes
        }
        if (old != null && (writable || oldWritable)) {
            try {
                old.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing {0} before reopening it: {1}", name, e.toString());
            }
        }
        try {
            tier.refreshLocal(dir);
        } catch (IOException e) {
            throw new io.segstore.engine.RepositoryIOException("cannot refresh " + name + " from object store " + store, e);
        }
        ManagedRepository m;
        try {
            m = new ManagedRepository(name, Repository.open(dir, openOptions().withTier(tier).withReadOnly(!writable)), properties);
        } catch (RepositoryException e) {
            unregister(name);
            unavailable.put(name, e.getMessage());
            throw e;
        }
        register(name, m);
        if (old != null && !(writable || oldWritable)) {
            sweeper.schedule(() -> {
                try {
                    old.close();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "closing a replaced view of {0}: {1}", name, e.toString());
                }
            }, 10, TimeUnit.SECONDS);
        }
        return m;
    }

    /** Opens every repository in the data directory that is not open yet. */
    private void openExisting() throws IOException {
        hydrateFromStores();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(dataDir)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                try {
                    Names.repository(name);
                } catch (ServiceException e) {
                    continue;
                }
                discover(name);
            }
        }
    }

    /**
     * Opens a repository that appeared in the data directory after start-up (copied or restored
     * there by an operator). Returns whether it is now known, open or unavailable.
     */
    private synchronized boolean discover(String name) {
        if (open.containsKey(name) || unavailable.containsKey(name)) {
            return true;
        }
        if (closing) {
            return false;
        }
        Path dir = dataDir.resolve(name);
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            hydrate(name, dir); // created in a bucket by another instance since this one started
        }
        // a symbolic link could lead out of the data directory: only real directories are repositories
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS) || !Repository.isRepository(dir)) {
            return false;
        }
        try {
            register(name, new ManagedRepository(name, Repository.open(dir, openOptions(name, dir)), properties));
        } catch (RepositoryException e) {
            LOG.log(System.Logger.Level.ERROR, "repository {0} cannot be opened: {1}", name, e.getMessage());
            unavailable.put(name, e.getMessage());
        }
        return true;
    }

    OpenOptions openOptions() {
        OpenOptions o = OpenOptions.defaults()
                .withLockWait(properties.lock().openWait())
                .withCheckpointCommits(properties.checkpoint().commits())
                .withCheckpointInterval(properties.checkpoint().interval())
                .withCheckpointLogBytes(properties.checkpoint().logBytes());
        String hostId = properties.lock().hostId();
        return hostId == null || hostId.isBlank() ? o : o.withHostId(hostId);
    }

    public Path stagingDir() {
        return dataDir.resolve(STAGING);
    }

    /** The names of the repositories open now, sorted (no discovery). */
    public List<String> openNames() {
        return new ArrayList<>(new java.util.TreeSet<>(open.keySet()));
    }

    /** The repositories that could not be opened, with the reason. */
    public Map<String, String> unavailable() {
        return Map.copyOf(unavailable);
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The names of all repositories, sorted. */
    public List<String> names() {
        if (startupComplete) { // during start-up the opener does this
            try {
                openExisting();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot list the data directory " + dataDir, e);
            }
        }
        TreeMap<String, Boolean> all = new TreeMap<>();
        open.keySet().forEach(n -> all.put(n, true));
        unavailable.keySet().forEach(n -> all.put(n, false));
        return new ArrayList<>(all.keySet());
    }

    /** The open repository; UNKNOWN_REPOSITORY or REPOSITORY_UNAVAILABLE otherwise. */
    public ManagedRepository get(String name) {
        Names.repository(name);
        ManagedRepository r = open.get(name);
        if (r != null) {
            return r;
        }
        if (closing) {
            throw new ServiceException(ServiceException.Kind.REPOSITORY_UNAVAILABLE, "The service is shutting down.", 30, null);
        }
        if (discover(name)) {
            r = open.get(name);
            if (r != null) {
                return r;
            }
        }
        String reason = unavailable.get(name);
        if (reason != null) {
            throw new ServiceException(ServiceException.Kind.REPOSITORY_UNAVAILABLE,
                    "Repository " + name + " exists but could not be opened: " + reason, 30, null);
        }
        throw new ServiceException(ServiceException.Kind.UNKNOWN_REPOSITORY, "There is no repository " + name + ".");
    }

    /** Whether a name is taken (open or not). */
    public boolean exists(String name) {
        return open.containsKey(name) || unavailable.containsKey(name);
    }

    /** Settings a repository is created with; null fields take Borg's defaults. */
    public record CreateRequest(Boolean appendOnly, Long storageQuota, Long maxSegmentSize, Integer segmentsPerDir,
                                Long additionalFreeSpace, String verify, String storage) {
    }

    public synchronized ManagedRepository create(String name, CreateRequest request) {
        Names.repository(name);
        if (exists(name)) {
            throw new ServiceException(ServiceException.Kind.REPOSITORY_EXISTS, "Repository " + name + " already exists.");
        }
        CreateRequest r = request == null ? new CreateRequest(null, null, null, null, null, null, null) : request;
        CreateOptions options = CreateOptions.defaults();
        try {
            if (r.appendOnly() != null) {
                options = options.withAppendOnly(r.appendOnly());
            }
            if (r.storageQuota() != null) {
                options = options.withStorageQuota(nonNegative(r.storageQuota(), "storageQuota"));
            }
            if (r.additionalFreeSpace() != null) {
                options = options.withAdditionalFreeSpace(nonNegative(r.additionalFreeSpace(), "additionalFreeSpace"));
            }
            if (r.maxSegmentSize() != null) {
                options = options.withMaxSegmentSize(r.maxSegmentSize());
            }
            if (r.segmentsPerDir() != null) {
                options = options.withSegmentsPerDir(r.segmentsPerDir());
            }
        } catch (IllegalArgumentException e) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, e.getMessage() + (r.maxSegmentSize() != null
                    ? " (maxSegmentSize must be 1024.." + (SegmentFile.MAX_SEGMENT_SIZE_LIMIT - 1) + ")" : ""), e);
        }
        String verify = verifyMode(r.verify());
        Path dir = dataDir.resolve(name);
        OpenOptions open = openOptions();
        String storage = r.storage() == null || r.storage().isBlank() ? objectStores.properties().defaultStorage() : r.storage().strip();
        if (S3Properties.LOCAL.equals(storage)) {
            storage = null;
        }
        if (storage != null) {
            if (!objectStores.names().contains(storage)) {
                throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "storage names an object store configured as "
                        + "segstore.s3.stores.<name>; there is no store \"" + Names.printable(storage) + "\".");
            }
            S3RepositoryTier tier = objectStores.tier(storage, name);
            try {
                if (tier.existsInBucket()) {
                    throw new ServiceException(ServiceException.Kind.REPOSITORY_EXISTS,
                            "Repository " + name + " already exists in object store " + storage + ".");
                }
            } catch (IOException e) {
                throw new io.segstore.engine.RepositoryIOException("cannot reach object store " + storage, e);
            }
            open = open.withTier(tier.fence(fences.apply(name)));
            tiers.put(name, storage);
            createdInBucket.accept(name); // the creator is the first writer: it takes the lease first
        }
        Repository repository;
        boolean existedBefore = Files.exists(dir);
        try {
            repository = Repository.create(dir, options, open);
        } catch (RepositoryAlreadyExistsException | io.segstore.engine.PathAlreadyExistsException e) {
            if (storage != null && !existedBefore) {
                removeQuietly(dir);
                tiers.remove(name);
                throw new ServiceException(ServiceException.Kind.REPOSITORY_EXISTS,
                        "Repository " + name + " already exists in object store " + storage + ".", e);
            }
            throw new ServiceException(ServiceException.Kind.REPOSITORY_EXISTS,
                    "Something named " + name + " already exists in the data directory.", e);
        } catch (RepositoryException e) {
            if (storage != null && !existedBefore) {
                removeQuietly(dir); // the bucket refused it: no local leftover may pass for a repository
            }
            if (storage != null) {
                tiers.remove(name);
            }
            throw e;
        }
        if (storage != null) {
            repository.setSetting(STORAGE, storage);
            tiers.put(name, storage);
        }
        if (!"none".equals(verify)) {
            repository.setSetting(ManagedRepository.VERIFY, verify);
        }
        ManagedRepository managed = new ManagedRepository(name, repository, properties);
        register(name, managed);
        return managed;
    }

    /** Changes the settings that may change after creation; null fields stay as they are. */
    public ManagedRepository update(String name, Boolean appendOnly, Long storageQuota, Long additionalFreeSpace, String verify) {
        ManagedRepository m = get(name);
        Repository r = m.repository();
        if (storageQuota != null) {
            r.setStorageQuota(nonNegative(storageQuota, "storageQuota"));
        }
        if (additionalFreeSpace != null) {
            r.setAdditionalFreeSpace(nonNegative(additionalFreeSpace, "additionalFreeSpace"));
        }
        if (verify != null) {
            String v = verifyMode(verify);
            r.setSetting(ManagedRepository.VERIFY, "none".equals(v) ? null : v);
        }
        if (appendOnly != null) {
            r.setAppendOnly(appendOnly);
        }
        return m;
    }

    /** Removes a repository and its data. Refused (403) for an append-only repository. */
    public synchronized void destroy(String name) {
        ManagedRepository m = get(name);
        if (m.repository().isAppendOnly()) {
            throw new io.segstore.engine.AppendOnlyException("Destroying the repository");
        }
        m.rollbackAll();
        unregister(name);
        try {
            m.repository().destroy();
        } finally {
            jobs.forget(name);
            tiers.remove(name);
        }
    }

    /**
     * Borg's break-lock for a repository: rolls back any lease. A repository that could not be
     * opened because of a stale lock is opened again after its lock files are removed.
     */
    public synchronized void breakLock(String name) {
        Names.repository(name);
        ManagedRepository m = open.get(name);
        if (m != null) {
            m.rollbackAll();
            return;
        }
        if (!unavailable.containsKey(name)) {
            throw new ServiceException(ServiceException.Kind.UNKNOWN_REPOSITORY, "There is no repository " + name + ".");
        }
        Path dir = dataDir.resolve(name);
        Repository.breakLock(dir);
        try {
            register(name, new ManagedRepository(name, Repository.open(dir, openOptions(name, dir)), properties));
        } catch (RepositoryException e) {
            unavailable.put(name, e.getMessage());
            throw e;
        }
    }

    private static void removeQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not remove {0}: {1}", dir, e.toString());
        }
    }

    private static long nonNegative(long v, String name) {
        if (v < 0) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, name + " must not be negative.");
        }
        return v;
    }

    private static String verifyMode(String v) {
        if (v == null || v.equals("none")) {
            return "none";
        }
        if (v.equals("sha256")) {
            return v;
        }
        throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "verify is \"none\" or \"sha256\", not \"" + Names.printable(v) + "\".");
    }

    private void sweep() {
        try {
            for (ManagedRepository m : open.values()) {
                m.expireLeases();
                m.expireListings();
            }
            jobs.expire();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sweeper: {0}", e.toString());
        }
    }

    /**
     * Graceful shutdown, after the web server stopped taking requests and let those in flight
     * finish: no repository is opened any more, open transactions are rolled back, and each
     * repository is closed (its final checkpoint written, Borg's lock released).
     */
    @Override
    public void destroy() {
        closing = true;
        sweeper.shutdownNow();
        opener.interrupt();
        synchronized (this) { // an open in progress finishes first
            for (ManagedRepository m : open.values()) {
                try {
                    int rolledBack = m.openLeases();
                    m.close();
                    LOG.log(System.Logger.Level.INFO, "closed repository {0}{1}", m.name(),
                            rolledBack > 0 ? " (its open transaction was rolled back)" : "");
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "closing {0}: {1}", m.name(), e.toString());
                }
                for (RepositoryListener l : listeners) {
                    l.closed(m.name());
                }
            }
            open.clear();
        }
    }
}
