package io.segstore.tier;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The configured object stores of this instance, with the block cache and upload threads their
 * repositories share. Empty when none is configured: then every repository is local.
 */
public final class ObjectStores implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ObjectStores.class.getName());

    private final Map<String, ObjectStore> stores;
    private final BlockCache cache;
    private final ExecutorService uploads;
    /** Runs the delayed deletes of replaced segment objects. */
    private final DeleteScheduler deletions;
    private final TierMetrics metrics = new TierMetrics();
    private final S3Properties properties;

    /**
     * The stores of {@code properties}; the block cache goes to their cache directory, by default
     * in {@code dataDir}. Nothing is created on the volume when no store is configured.
     */
    public ObjectStores(S3Properties properties, Path dataDir) throws IOException {
        this.properties = properties;
        this.deletions = new DeleteScheduler(properties.deleteDelay());
        this.cache = properties.stores().isEmpty()
                ? new BlockCache(0, properties.blockSize(), null)
                : new BlockCache(properties.cacheSize(), properties.blockSize(), properties.cacheDirectory(dataDir));
        Map<String, ObjectStore> m = new LinkedHashMap<>();
        try {
            properties.stores().forEach((name, s) -> m.put(name, new S3ObjectStore(new S3Settings(name, s.endpoint(), s.region(),
                    s.bucket(), s.prefix(), s.accessKey(), s.secretKey(), s.pathStyle(), s.attemptTimeout(), s.maxAttempts()))));
        } catch (RuntimeException e) {
            cache.close(); // frees the cache directory for a corrected start in the same process
            throw e;
        }
        this.stores = Map.copyOf(m);
        properties.stores().forEach((name, st) -> {
            if (st.attemptTimeout() != null && properties.leaseTtl() != null && st.attemptTimeout().compareTo(properties.leaseTtl()) >= 0) {
                // an upload attempt sent just before the lease ran out could still land after a takeover
                LOG.log(System.Logger.Level.WARNING, "segstore.s3.stores.{0}.attempt-timeout ({1}) is not below segstore.s3.lease-ttl "
                        + "({2}): keep the lease longer than one upload attempt", name, st.attemptTimeout(), properties.leaseTtl());
            }
        });
        AtomicInteger n = new AtomicInteger();
        this.uploads = Executors.newFixedThreadPool(Math.max(1, properties.uploadThreads()), r -> {
            Thread t = new Thread(r, "segstore-upload-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public S3Properties properties() {
        return properties;
    }

    public Set<String> names() {
        return stores.keySet();
    }

    public ObjectStore store(String name) {
        return stores.get(name);
    }

    public BlockCache cache() {
        return cache;
    }

    public TierMetrics metrics() {
        return metrics;
    }

    /** The tier of one repository in a store. */
    public S3RepositoryTier tier(String store, String repository) {
        ObjectStore s = stores.get(store);
        if (s == null) {
            throw new IllegalArgumentException("no object store named " + store);
        }
        return new S3RepositoryTier(s, repository, cache, uploads, metrics, deletions);
    }

    /**
     * Refuses a store that does not honour conditional writes: a second create of the same key
     * must fail, and a replace with a wrong entity tag too. Without them two instances could
     * overwrite each other's segments.
     */
    public void verifyConditionalWrites() throws IOException {
        for (ObjectStore s : stores.values()) {
            verifyConditionalWrites(s);
        }
    }

    static void verifyConditionalWrites(ObjectStore s) throws IOException {
        {
            String key = ".segstore-probe/" + java.util.UUID.randomUUID();
            try {
                if (!s.create(key, new byte[] {1})) {
                    throw new IOException("object store " + s.name() + ": the probe object could not be created");
                }
                if (s.create(key, new byte[] {2})) {
                    throw new IOException("object store " + s.name() + " ignores conditional create (If-None-Match): "
                            + "it cannot hold Segstore repositories");
                }
                if (s.replace(key, new byte[] {3}, "\"0123456789abcdef0123456789abcdef\"") != null) {
                    throw new IOException("object store " + s.name() + " ignores conditional overwrite (If-Match): "
                            + "it cannot hold Segstore repositories");
                }
            } finally {
                try {
                    s.delete(key);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "probe object left behind: {0}", e.toString());
                }
            }
        }
    }

    @Override
    public void close() {
        uploads.shutdown();
        deletions.close(); // deletes what checkpoints cover before the stores close
        cache.close();
        for (ObjectStore s : stores.values()) {
            try {
                s.close();
            } catch (IOException e) {
                // closing
            }
        }
    }
}
