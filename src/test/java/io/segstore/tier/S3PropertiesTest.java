package io.segstore.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** What the configuration of stores accepts and refuses at start. */
class S3PropertiesTest {

    static S3Properties.Store store() {
        return new S3Properties.Store(URI.create("http://127.0.0.1:9000"), "us-east-1", "b", "p", "ACCESS-KEY-OF-TEST", "SECRET-KEY-OF-TEST", true,
                Duration.ofSeconds(5), 3);
    }

    static S3Properties with(Map<String, S3Properties.Store> stores, String defaultStorage) {
        return new S3Properties(stores, 1 << 20, 1 << 16, 2, Duration.ofSeconds(1), Duration.ofSeconds(30), null, defaultStorage);
    }

    @Test
    void defaultStorageNamingAConfiguredStoreIsKept() {
        assertEquals("main", with(Map.of("main", store()), "main").defaultStorage());
    }

    @Test
    void defaultStorageLocalOrBlankMeansTheDataDirectory() {
        assertNull(with(Map.of("main", store()), "local").defaultStorage());
        assertNull(with(Map.of("main", store()), " ").defaultStorage());
        assertNull(with(Map.of(), null).defaultStorage());
    }

    @Test
    void defaultStorageNamingNoStoreIsRefusedWithItsPropertyName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with(Map.of("main", store()), "mian"));
        assertTrue(e.getMessage().contains("segstore.s3.default-storage"), e.getMessage());
    }

    @Test
    void storeNamedLocalIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with(Map.of("local", store()), null));
        assertTrue(e.getMessage().contains("segstore.s3.stores.local"), e.getMessage());
    }

    @Test
    void storeDescriptionNeverShowsCredentials() {
        String shown = store().toString();
        assertTrue(!shown.contains("ACCESS-KEY-OF-TEST") && !shown.contains("SECRET-KEY-OF-TEST"), shown);
        assertTrue(!with(Map.of("main", store()), null).toString().contains("SECRET-KEY-OF-TEST"), "nor does the whole configuration");
    }

    @Test
    void theCacheDirectoryDefaultsToTheDataDirectoryAndCanBeSet() {
        S3Properties defaults = new Binder(new MapConfigurationPropertySource(Map.of("segstore.s3.lease-ttl", "5s")))
                .bind("segstore.s3", S3Properties.class).get();
        assertEquals(Path.of("/data/.s3-cache"), defaults.cacheDirectory(Path.of("/data")));
        assertEquals(256L << 20, defaults.cacheSize());
        assertEquals(1 << 20, defaults.blockSize());
        S3Properties set = new Binder(new MapConfigurationPropertySource(Map.of("segstore.s3.cache-directory", "/scratch/cache")))
                .bind("segstore.s3", S3Properties.class).get();
        assertEquals(Path.of("/scratch/cache"), set.cacheDirectory(Path.of("/data")));
        assertNull(with(Map.of(), null).cacheDirectory(), "the constructor without it leaves the default");
    }

    @Test
    void replacedSegmentsWaitThirtySecondsByDefaultAndTheDelayCanBeSetButNotNegative() {
        assertEquals(Duration.ofSeconds(30), new Binder(new MapConfigurationPropertySource(Map.of("segstore.s3.lease-ttl", "5s")))
                .bind("segstore.s3", S3Properties.class).get().deleteDelay());
        assertEquals(Duration.ofSeconds(90), new Binder(new MapConfigurationPropertySource(Map.of("segstore.s3.delete-delay", "90s")))
                .bind("segstore.s3", S3Properties.class).get().deleteDelay());
        assertEquals(Duration.ZERO, with(Map.of(), null).deleteDelay(), "built in code (tests, benchmarks): deleted at once");
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> with(Map.of(), null).withDeleteDelay(Duration.ofSeconds(-1)));
        assertTrue(negative.getMessage().contains("delete-delay"), negative.getMessage());
    }
}
