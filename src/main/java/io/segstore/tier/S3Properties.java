package io.segstore.tier;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code segstore.s3.*}: the object stores repositories may be created in, and how the tier
 * behaves. Nothing here is needed for local repositories (the default).
 *
 * @param stores          named stores; a repository created with {@code "storage": "<name>"} lives
 *                        under {@code <prefix>/<repository>/} in that store's bucket
 * @param cacheSize       bytes of committed segment data kept in memory for reads
 * @param blockSize       the unit of ranged GETs and of the cache
 * @param uploadThreads   parallel uploads of one commit's segments
 * @param refreshInterval how often an instance that does not hold a repository's writer lease
 *                        looks for other instances' commits
 * @param leaseTtl        how long a writer lease lasts without renewal
 * @param advertiseUrl    the URL other instances forward writes to (this instance's, as they reach it)
 * @param defaultStorage  the store a repository is created in when its create request names none
 *                        (clients such as borg and restic cannot name one); none: local
 */
@ConfigurationProperties("segstore.s3")
public record S3Properties(Map<String, Store> stores, @DefaultValue("268435456") long cacheSize,
                           @DefaultValue("1048576") int blockSize, @DefaultValue("8") int uploadThreads,
                           @DefaultValue("2s") Duration refreshInterval, @DefaultValue("30s") Duration leaseTtl,
                           String advertiseUrl, String defaultStorage) {

    /** The name a create request uses for the local data directory, whatever the default is. */
    public static final String LOCAL = "local";

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
