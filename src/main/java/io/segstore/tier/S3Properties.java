package io.segstore.tier;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code segstore.s3.*}: the object stores repositories may be created in, and how the tier
 * behaves. Nothing here is needed for local repositories (the default).
 *
 * @param stores          named stores; a repository created with {@code "storage": "<name>"} lives
 *                        under {@code <prefix>/<repository>/} in that store's bucket
 * @param cacheSize       bytes of committed segment data kept for reads in a file on the local
 *                        volume (whole blocks; 0 or less than one block: no cache, every read is
 *                        a ranged GET). The file is emptied at every start, so nothing in it needs
 *                        to survive, and is never synced
 * @param blockSize       the unit of ranged GETs and of the cache
 * @param uploadThreads   parallel uploads of one commit's segments
 * @param refreshInterval how often an instance that does not hold a repository's writer lease
 *                        looks for other instances' commits
 * @param leaseTtl        how long a writer lease lasts without renewal
 * @param advertiseUrl    the URL other instances forward writes to (this instance's, as they reach it)
 * @param defaultStorage  the store a repository is created in when its create request names none
 *                        (clients such as borg and restic cannot name one); none: local
 * @param cacheDirectory  where the cache file lives; none: {@code .s3-cache} in the data
 *                        directory (not a repository: repository names start with a letter or
 *                        digit). One instance per directory
 * @param deleteDelay     how long a segment object that compaction replaced stays in the bucket
 *                        after the next checkpoint, so that instances following the repository
 *                        apply the compaction before it goes (well above refreshInterval)
 */
@ConfigurationProperties("segstore.s3")
public record S3Properties(Map<String, Store> stores, @DefaultValue("268435456") long cacheSize,
                           @DefaultValue("1048576") int blockSize, @DefaultValue("8") int uploadThreads,
                           @DefaultValue("2s") Duration refreshInterval, @DefaultValue("30s") Duration leaseTtl,
                           String advertiseUrl, String defaultStorage, Path cacheDirectory,
                           @DefaultValue("30s") Duration deleteDelay) {

    /** The name a create request uses for the local data directory, whatever the default is. */
    public static final String LOCAL = "local";

    @ConstructorBinding
    public S3Properties {
        stores = stores == null ? Map.of() : Map.copyOf(stores);
        if (stores.containsKey(LOCAL)) {
            throw new IllegalArgumentException("segstore.s3.stores.local: \"local\" names the data directory; give the store another name");
        }
        if (defaultStorage != null && defaultStorage.isBlank()) {
            defaultStorage = null;
        }
        if (defaultStorage != null && !LOCAL.equals(defaultStorage) && !stores.containsKey(defaultStorage)) {
            throw new IllegalArgumentException("segstore.s3.default-storage is \"" + defaultStorage
                    + "\", but no store of that name is configured (segstore.s3.stores.<name>)");
        }
        if (LOCAL.equals(defaultStorage)) {
            defaultStorage = null;
        }
        if (deleteDelay == null) {
            deleteDelay = Duration.ZERO;
        }
        if (deleteDelay.isNegative()) {
            throw new IllegalArgumentException("segstore.s3.delete-delay must not be negative");
        }
    }

    /**
     * Without a cache directory of its own (the default: in the data directory), and deleting
     * replaced segments as soon as a checkpoint allows (no followers to wait for).
     */
    public S3Properties(Map<String, Store> stores, long cacheSize, int blockSize, int uploadThreads, Duration refreshInterval,
                        Duration leaseTtl, String advertiseUrl, String defaultStorage) {
        this(stores, cacheSize, blockSize, uploadThreads, refreshInterval, leaseTtl, advertiseUrl, defaultStorage, null, Duration.ZERO);
    }

    /** The same, with another delete delay. */
    public S3Properties withDeleteDelay(Duration delay) {
        return new S3Properties(stores, cacheSize, blockSize, uploadThreads, refreshInterval, leaseTtl, advertiseUrl, defaultStorage,
                cacheDirectory, delay);
    }

    /** The directory of the cache file, given the data directory it defaults to. */
    public Path cacheDirectory(Path dataDir) {
        return cacheDirectory != null ? cacheDirectory : dataDir.resolve(".s3-cache");
    }

    /** One store. The access and secret keys usually come from a Kubernetes Secret (environment). */
    public record Store(URI endpoint, String region, String bucket, String prefix, String accessKey, String secretKey,
                        @DefaultValue("false") boolean pathStyle, @DefaultValue("30s") Duration attemptTimeout,
                        @DefaultValue("4") int maxAttempts) {

        @Override
        public String toString() {
            return "Store[endpoint=" + endpoint + ", bucket=" + bucket + ", prefix=" + prefix + "]";
        }
    }
}
