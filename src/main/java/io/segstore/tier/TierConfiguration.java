package io.segstore.tier;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.segstore.service.SegstoreProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The object tier's beans: the configured stores (checked at start) and their metrics. */
@Configuration(proxyBeanMethods = false)
public class TierConfiguration {

    @Bean(destroyMethod = "close")
    public ObjectStores objectStores(S3Properties properties, SegstoreProperties segstore, ObjectProvider<MeterRegistry> registry) {
        ObjectStores stores;
        try {
            stores = new ObjectStores(properties, segstore.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the object-storage cache: " + e.getMessage(), e);
        }
        try {
            stores.verifyConditionalWrites();
        } catch (IOException e) {
            stores.close();
            throw new UncheckedIOException(e.getMessage(), e);
        }
        registry.ifAvailable(r -> {
            if (stores.names().isEmpty()) {
                return;
            }
            BlockCache c = stores.cache();
            FunctionCounter.builder("segstore.s3.cache.hits", c, BlockCache::hits).description("Reads of committed segment blocks served by the cache").register(r);
            FunctionCounter.builder("segstore.s3.cache.misses", c, BlockCache::misses).description("Reads of committed segment blocks that needed a ranged GET").register(r);
            FunctionCounter.builder("segstore.s3.cache.fetched", c, BlockCache::bytesFetched).baseUnit("bytes").description("Bytes fetched by ranged GETs").register(r);
            Gauge.builder("segstore.s3.cache.used", c, BlockCache::usedBytes).baseUnit("bytes")
                    .description("Bytes of the cache file on the volume holding blocks").register(r);
            TierMetrics m = stores.metrics();
            FunctionCounter.builder("segstore.s3.uploads", m, TierMetrics::uploads).description("Segment objects uploaded").register(r);
            FunctionCounter.builder("segstore.s3.uploaded", m, TierMetrics::bytesUploaded).baseUnit("bytes").register(r);
            FunctionCounter.builder("segstore.s3.deletes", m, TierMetrics::deletes).description("Segment objects deleted (compaction)").register(r);
            FunctionCounter.builder("segstore.s3.follow.applied", m, TierMetrics::followedInPlace)
                    .description("Catch-ups of a followed repository that applied another instance's commits in place").register(r);
            FunctionCounter.builder("segstore.s3.follow.reopened", m, TierMetrics::followedByReopen)
                    .description("Catch-ups of a followed repository that opened it again from the bucket").register(r);
        });
        return stores;
    }
}
