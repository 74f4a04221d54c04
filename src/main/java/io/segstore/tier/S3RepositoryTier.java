package io.segstore.tier;

import io.segstore.engine.LocalSegmentStore;
import io.segstore.engine.RepositoryAlreadyExistsException;
import io.segstore.engine.RepositoryTier;
import io.segstore.engine.SegmentStore;
import io.segstore.engine.format.BorgIndexFile;
import io.segstore.engine.format.HintsFile;
import io.segstore.engine.format.IntegrityFile;
import io.segstore.engine.format.KeyIndexFile;
import io.segstore.engine.format.NonceFile;
import io.segstore.engine.format.RepositoryConfig;
import io.segstore.engine.format.SegmentFile;
import io.segstore.engine.format.TransactionsLogFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;

/**
 * One repository in a bucket, under {@code <prefix>/<repository>/} in Borg's layout (README,
 * config, data/N/M, index.N, hints.N, integrity.N, plus Segstore's own index and nonce and
 * transactions when present).
 */
public final class S3RepositoryTier implements RepositoryTier {

    private static final System.Logger LOG = System.getLogger(S3RepositoryTier.class.getName());
    static final String README = "README";
    private static final String[] CHECKPOINT_PREFIXES = {HintsFile.PREFIX, BorgIndexFile.PREFIX, KeyIndexFile.PREFIX, IntegrityFile.PREFIX};

    private final ObjectStore store;
    private final String name;
    private final String root;
    private final BlockCache cache;
    private final ExecutorService uploads;
    private final TierMetrics metrics;
    private volatile TieredSegmentStore segments;
    private volatile BooleanSupplier fence = () -> true;

    private final DeleteScheduler deletes;

    S3RepositoryTier(ObjectStore store, String repository, BlockCache cache, ExecutorService uploads, TierMetrics metrics,
                            DeleteScheduler deletes) {
        this.deletes = deletes;
        this.store = store;
        this.name = repository;
        this.root = repository + "/";
        this.cache = cache;
        this.uploads = uploads;
        this.metrics = metrics;
    }

    public String storeName() {
        return store.name();
    }

    /** The repository's name (its prefix under the store's). */
    public String name() {
        return name;
    }

    /** Bytes of every object under the repository's prefix (one listing). */
    public long bytesInBucket() throws IOException {
        long total = 0;
        for (ObjectStore.Listed o : store.list(root)) {
            total += o.size();
        }
        return total;
    }

    /** Whether the bucket holds a repository of this name (its config). */
    public boolean existsInBucket() throws IOException {
        return store.head(root + RepositoryConfig.FILE_NAME) != null;
    }

    @Override
    public SegmentStore segments(LocalSegmentStore local, int segmentsPerDir, BooleanSupplier appendOnly) throws IOException {
        TieredSegmentStore s = new TieredSegmentStore(store, root, local, segmentsPerDir, cache, uploads, appendOnly, metrics,
                deletes);
        s.fence(fence);
        segments = s;
        return s;
    }

    /**
     * What must hold for a commit to start: this instance still holds the repository's writer
     * lease (checked before every upload; a commit without it fails, nothing acknowledged).
     */
    public S3RepositoryTier fence(BooleanSupplier mayCommit) {
        this.fence = mayCommit;
        TieredSegmentStore s = segments;
        if (s != null) {
            s.fence(mayCommit);
        }
        return this;
    }

    TieredSegmentStore segmentStore() {
        return segments;
    }

    /**
     * A new repository's prefix must hold nothing: objects there without a config were left by a
     * restore or repair cut off half-way, and would be taken for the new repository's data.
     */
    void requireEmptyPrefix() throws IOException {
        if (existsInBucket()) {
            throw new RepositoryAlreadyExistsException(Path.of(store.name() + ":" + root));
        }
        List<ObjectStore.Listed> left = new ArrayList<>(store.list(root));
        left.removeIf(o -> o.key().equals(root + BucketLease.NAME)); // a lease taken for the name does not count
        if (!left.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "object store {0} holds {1} object(s) under {2} but no config (left by an "
                    + "interrupted restore or repair?): the name stays taken until they are removed", store.name(), left.size(), root);
            throw new RepositoryAlreadyExistsException(Path.of(store.name() + ":" + root));
        }
    }

    @Override
    public void created(Path repository) throws IOException {
        requireEmptyPrefix();
        // the config claims the name: two instances creating the same repository, one wins
        if (!store.createFromFile(root + RepositoryConfig.FILE_NAME, repository.resolve(RepositoryConfig.FILE_NAME))) {
            throw new RepositoryAlreadyExistsException(Path.of(store.name() + ":" + root));
        }
        store.createFromFile(root + README, repository.resolve(README));
    }

    @Override
    public void fileChanged(Path file) throws IOException {
        // fenced like a commit: a writer that lost its lease must not put back an older nonce
        // (nonces must never repeat) or an older config over its successor's
        if (!fence.getAsBoolean()) {
            throw new IOException("this instance no longer holds the writer lease of the repository (or could not renew it "
                    + "in time): " + file.getFileName() + " is not changed");
        }
        store.put(root + file.getFileName(), Files.readAllBytes(file));
    }

    @Override
    public void checkpointWritten(long transaction, List<Path> files, boolean keepOlder) throws IOException {
        for (Path f : files) {
            // a checkpoint of a transaction is the same whoever wrote it: an existing one is kept
            store.createFromFile(root + f.getFileName(), f);
            metrics.checkpointUploads.incrementAndGet();
        }
        TieredSegmentStore tiered = segments;
        if (tiered != null) {
            tiered.checkpointUploaded();
        }
        if (keepOlder) {
            return;
        }
        for (Map.Entry<Long, List<String>> e : checkpoints().entrySet()) {
            if (e.getKey() < transaction) {
                // the integrity file, written last, goes first: what is left is never taken for a complete set
                for (String n : e.getValue().stream().sorted(Comparator.comparing((String s) -> !s.startsWith(IntegrityFile.PREFIX))).toList()) {
                    store.delete(root + n);
                }
            }
        }
    }

    /** Checkpoint files in the bucket by transaction. */
    private TreeMap<Long, List<String>> checkpoints() throws IOException {
        TreeMap<Long, List<String>> out = new TreeMap<>();
        for (ObjectStore.Listed o : store.listFiles(root)) {
            String n = o.key().substring(root.length());
            for (String p : CHECKPOINT_PREFIXES) {
                if (n.startsWith(p) && SegmentFile.isNumberName(n.substring(p.length()))) {
                    out.computeIfAbsent(Long.parseLong(n.substring(p.length())), k -> new ArrayList<>()).add(n);
                }
            }
        }
        return out;
    }

    @Override
    public void destroy() throws IOException {
        store.delete(root + RepositoryConfig.FILE_NAME); // first: a half-removed prefix is no repository
        for (ObjectStore.Listed o : store.list(root)) {
            store.delete(o.key());
        }
        cache.invalidatePrefix(store, root); // a repository created again under this name reuses the keys
    }

    /**
     * Makes {@code dir} (absent or empty) the local working copy of the bucket's repository:
     * README, config, nonce, transactions log and the newest complete checkpoint (so that opening
     * replays only the segments after it); the segments stay in the bucket.
     */
    public void hydrate(Path dir) throws IOException {
        // new to this instance, but the name may have been destroyed and created again elsewhere
        cache.invalidatePrefix(store, root);
        Path tmp = dir.resolveSibling(dir.getFileName() + ".hydrating");
        if (Files.exists(tmp)) {
            try (var walk = Files.walk(tmp)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(tmp.resolve("data"));
        if (!store.download(root + RepositoryConfig.FILE_NAME, tmp.resolve(RepositoryConfig.FILE_NAME))) {
            throw new IOException("the bucket holds no repository " + name);
        }
        store.download(root + README, tmp.resolve(README));
        refreshLocal(tmp);
        Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Brings a local working copy up to the bucket: config, nonce and transactions log, and the
     * bucket's newest complete checkpoint when it is newer than the local one (so that reopening
     * replays only what came after it).
     */
    public void refreshLocal(Path dir) throws IOException {
        store.download(root + RepositoryConfig.FILE_NAME, dir.resolve(RepositoryConfig.FILE_NAME));
        store.download(root + NonceFile.NAME, dir.resolve(NonceFile.NAME));
        store.download(root + TransactionsLogFile.NAME, dir.resolve(TransactionsLogFile.NAME));
        long local = -1;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith(IntegrityFile.PREFIX) && SegmentFile.isNumberName(n.substring(IntegrityFile.PREFIX.length()))) {
                    local = Math.max(local, Long.parseLong(n.substring(IntegrityFile.PREFIX.length())));
                }
            }
        }
        TreeMap<Long, List<String>> sets = checkpoints();
        for (Long t : sets.descendingKeySet()) {
            if (t <= local) {
                break;
            }
            List<String> names = sets.get(t);
            boolean complete = names.contains(IntegrityFile.PREFIX + t) && names.contains(HintsFile.PREFIX + t)
                    && names.contains(BorgIndexFile.PREFIX + t);
            if (!complete) {
                continue;
            }
            // integrity last: a set interrupted half-way is never taken for complete
            for (String n : names.stream().sorted(Comparator.comparing((String x) -> x.startsWith(IntegrityFile.PREFIX))).toList()) {
                store.download(root + n, dir.resolve(n));
            }
            LOG.log(System.Logger.Level.INFO, "repository {0}: fetched checkpoint {1} from {2}", name, t, store.name());
            break;
        }
    }

    /**
     * Brings the local working copy's config, nonce and transactions log up to the bucket (after
     * another instance's commits were applied in place). True when the config changed, which
     * the open repository only sees when it is opened again.
     */
    public boolean refreshSmallFiles(Path dir) throws IOException {
        Path config = dir.resolve(RepositoryConfig.FILE_NAME);
        byte[] before = Files.exists(config) ? Files.readAllBytes(config) : new byte[0];
        store.download(root + NonceFile.NAME, dir.resolve(NonceFile.NAME));
        store.download(root + TransactionsLogFile.NAME, dir.resolve(TransactionsLogFile.NAME));
        if (!store.download(root + RepositoryConfig.FILE_NAME, config)) {
            return true; // gone: being destroyed; opening again finds out
        }
        return !java.util.Arrays.equals(before, Files.readAllBytes(config));
    }

    /** The highest segment number in the bucket (one listing), or -1. */
    public long highestSegment() throws IOException {
        long max = -1;
        String prefix = root + "data/";
        for (ObjectStore.Listed o : store.list(prefix)) {
            String rest = o.key().substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash > 0 && SegmentFile.isNumberName(rest.substring(slash + 1)) && o.size() > 0) {
                max = Math.max(max, Long.parseLong(rest.substring(slash + 1)));
            }
        }
        return max;
    }

    /**
     * Writes repository {@code into} (same store) holding this one as of commit {@code transaction}:
     * the segments up to it, the config (same repository id and key), the current nonce (so no
     * nonce is ever used twice) and the transactions log up to it; the index is rebuilt when the
     * copy is opened. The config goes last: until it is there, the copy does not exist for any
     * instance. Objects are copied through {@code scratch}, a local directory, one at a time.
     */
    public void copyAtTransaction(long transaction, S3RepositoryTier into, Path scratch) throws IOException {
        into.requireEmptyPrefix();
        Files.createDirectories(scratch);
        Path tmp = scratch.resolve("object");
        String prefix = root + "data/";
        for (ObjectStore.Listed o : store.list(prefix)) {
            String rest = o.key().substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash <= 0 || !SegmentFile.isNumberName(rest.substring(slash + 1)) || o.size() == 0
                    || Long.parseLong(rest.substring(slash + 1)) > transaction) {
                continue;
            }
            copyObject(o.key(), into.root + "data/" + rest, tmp);
        }
        ObjectStore.Fetched nonce = store.get(root + NonceFile.NAME);
        if (nonce != null && !store.create(into.root + NonceFile.NAME, nonce.data())) {
            throw new IOException("object " + into.root + NonceFile.NAME + " appeared in object store " + store.name()
                    + " while the copy was made; the copy stops");
        }
        Path log = Files.createDirectories(scratch.resolve("log-source"));
        Path kept = Files.createDirectories(scratch.resolve("log-copy"));
        if (store.download(root + TransactionsLogFile.NAME, log.resolve(TransactionsLogFile.NAME))) {
            for (TransactionsLogFile.Entry e : TransactionsLogFile.read(log)) {
                if (e.transaction() <= transaction) {
                    TransactionsLogFile.append(kept, e.transaction(), e.time());
                }
            }
            if (Files.exists(kept.resolve(TransactionsLogFile.NAME))
                    && !store.createFromFile(into.root + TransactionsLogFile.NAME, kept.resolve(TransactionsLogFile.NAME))) {
                throw new IOException("object " + into.root + TransactionsLogFile.NAME + " appeared in object store " + store.name()
                        + " while the copy was made; the copy stops");
            }
        }
        copyObject(root + README, into.root + README, tmp);
        if (!store.download(root + RepositoryConfig.FILE_NAME, tmp)) {
            throw new IOException("repository " + name + " has no config in object store " + store.name());
        }
        if (!store.createFromFile(into.root + RepositoryConfig.FILE_NAME, tmp)) {
            throw new RepositoryAlreadyExistsException(Path.of(store.name() + ":" + into.root));
        }
        Files.deleteIfExists(tmp);
    }

    /**
     * Downloads the whole repository into {@code dir} (absent or empty): README, config, nonce,
     * transactions log, the checkpoints and every segment, in Borg's layout, so that the copy
     * opens as a local repository. A segment that vanishes while it is copied was replaced by a
     * compaction (its live entries are in newer segments): the listing is taken again until one
     * pass finds every segment it lists. Returns the bytes downloaded.
     */
    public long downloadTo(Path dir, io.segstore.engine.ProgressListener progress) throws IOException {
        Files.createDirectories(dir.resolve("data"));
        long bytes = 0;
        java.util.Set<String> done = new java.util.HashSet<>();
        for (int pass = 1; ; pass++) {
            List<ObjectStore.Listed> wanted = new ArrayList<>();
            for (ObjectStore.Listed o : store.list(root)) {
                String rest = o.key().substring(root.length());
                if (!done.contains(rest) && isRepositoryFile(rest)) {
                    wanted.add(o);
                }
            }
            boolean vanished = false;
            for (int i = 0; i < wanted.size(); i++) {
                progress.progress("download", i, wanted.size());
                String rest = wanted.get(i).key().substring(root.length());
                Path target = dir.resolve(rest);
                Files.createDirectories(target.getParent());
                if (store.download(wanted.get(i).key(), target)) {
                    done.add(rest);
                    bytes += Files.size(target);
                } else {
                    vanished = true;
                }
            }
            progress.progress("download", wanted.size(), wanted.size());
            if (!vanished) {
                break;
            }
            if (pass == 5) {
                throw new IOException("repository " + name + " kept changing in object store " + store.name()
                        + " while it was copied (objects vanished five times); try again when no compaction runs");
            }
        }
        if (!done.contains(RepositoryConfig.FILE_NAME)) {
            throw new IOException("the bucket holds no repository " + name + " (no config) in object store " + store.name());
        }
        return bytes;
    }

    /** What belongs to a repository under its prefix (not the writer lease, not stray objects). */
    private static boolean isRepositoryFile(String rest) {
        int slash = rest.indexOf('/');
        if (rest.startsWith("data/")) {
            int second = rest.indexOf('/', 5);
            return second > 5 && SegmentFile.isNumberName(rest.substring(5, second)) && SegmentFile.isNumberName(rest.substring(second + 1));
        }
        if (slash >= 0) {
            return false;
        }
        if (rest.equals(RepositoryConfig.FILE_NAME) || rest.equals(README) || rest.equals(NonceFile.NAME)
                || rest.equals(TransactionsLogFile.NAME)) {
            return true;
        }
        for (String p : CHECKPOINT_PREFIXES) {
            if (rest.startsWith(p) && SegmentFile.isNumberName(rest.substring(p.length()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Uploads the local repository {@code dir} as this (new) repository: every non-empty segment
     * and the newest checkpoint by conditional create, then the nonce, transactions log and
     * README, and the config last, so that no instance sees the repository before it is whole.
     * When anything fails, what was uploaded is deleted again (best effort), leaving the name free.
     */
    public void uploadFrom(Path dir, io.segstore.engine.ProgressListener progress) throws IOException {
        requireEmptyPrefix();
        List<Path> files = new ArrayList<>();
        try (var walk = Files.walk(dir.resolve("data"))) {
            walk.filter(f -> Files.isRegularFile(f) && SegmentFile.isNumberName(f.getFileName().toString()))
                    .sorted(Comparator.comparingLong((Path f) -> Long.parseLong(f.getFileName().toString())))
                    .forEach(files::add);
        }
        List<Path> checkpoint = new ArrayList<>();
        try (var top = Files.list(dir)) {
            for (Path f : top.toList()) {
                String n = f.getFileName().toString();
                if (Files.isRegularFile(f) && isRepositoryFile(n) && !n.equals(RepositoryConfig.FILE_NAME) && !n.equals(README)
                        && !n.equals(NonceFile.NAME) && !n.equals(TransactionsLogFile.NAME)) {
                    checkpoint.add(f);
                }
            }
        }
        long newest = checkpoint.stream().map(f -> f.getFileName().toString()).filter(n -> n.startsWith(IntegrityFile.PREFIX))
                .mapToLong(n -> Long.parseLong(n.substring(IntegrityFile.PREFIX.length()))).max().orElse(-1);
        checkpoint.removeIf(f -> !f.getFileName().toString().endsWith("." + newest));
        // integrity last: a set cut off half-way is never taken for complete
        checkpoint.sort(Comparator.comparing((Path f) -> f.getFileName().toString().startsWith(IntegrityFile.PREFIX)));
        List<String> uploaded = new ArrayList<>();
        boolean complete = false;
        try {
            int total = files.size() + checkpoint.size();
            int n = 0;
            for (Path f : files) {
                progress.progress("upload", n++, total);
                if (Files.size(f) == 0) {
                    continue; // a deleted segment: nothing to carry over
                }
                createOrFail(dir.relativize(f).toString().replace('\\', '/'), f, uploaded);
            }
            for (Path f : checkpoint) {
                progress.progress("upload", n++, total);
                createOrFail(f.getFileName().toString(), f, uploaded);
            }
            for (String small : List.of(NonceFile.NAME, TransactionsLogFile.NAME, README)) {
                Path f = dir.resolve(small);
                if (Files.exists(f)) {
                    createOrFail(small, f, uploaded);
                }
            }
            if (!store.createFromFile(root + RepositoryConfig.FILE_NAME, dir.resolve(RepositoryConfig.FILE_NAME))) {
                throw new RepositoryAlreadyExistsException(Path.of(store.name() + ":" + root));
            }
            complete = true;
            progress.progress("upload", total, total);
        } finally {
            if (!complete) {
                for (String k : uploaded) {
                    try {
                        store.delete(root + k);
                    } catch (IOException e) {
                        LOG.log(System.Logger.Level.WARNING, "could not remove {0}{1} from {2} after a failed upload: {3}",
                                root, k, store.name(), e.toString());
                    }
                }
            }
        }
    }

    private void createOrFail(String rest, Path file, List<String> uploaded) throws IOException {
        if (!store.createFromFile(root + rest, file)) {
            throw new IOException("object " + root + rest + " already exists in object store " + store.name()
                    + " (left behind by an earlier attempt?); the upload stops without changing it");
        }
        uploaded.add(rest);
    }

    private void copyObject(String from, String to, Path tmp) throws IOException {
        if (!store.download(from, tmp)) {
            throw new IOException("object " + from + " vanished from object store " + store.name() + " while it was copied");
        }
        if (!store.createFromFile(to, tmp)) {
            throw new IOException("object " + to + " already exists in object store " + store.name() + "; the copy stops");
        }
        Files.deleteIfExists(tmp);
    }

    /** The writer lease of this repository for an instance called {@code me}, reachable at {@code url}. */
    public BucketLease lease(String me, String url, java.time.Duration ttl) {
        return new BucketLease(store, name, me, url, ttl);
    }
}
