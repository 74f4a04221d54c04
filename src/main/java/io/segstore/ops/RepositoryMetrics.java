package io.segstore.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.segstore.engine.EngineObserver;
import io.segstore.engine.Repository;
import io.segstore.engine.RepositoryInfo;
import io.segstore.service.JobService;
import io.segstore.service.MaintenanceService;
import io.segstore.service.ManagedRepository;
import io.segstore.service.ObjectTraffic;
import io.segstore.service.RepositoryService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.springframework.stereotype.Component;

/**
 * Segstore's own metrics, per repository (label {@code repository}, bounded by
 * {@link RepositoryLabels}): storage latency of get, put and commit, fsync time, bytes read and
 * written, and gauges of objects, segments, quota, freeable bytes, last check errors and open
 * transactions; plus the running jobs by kind. HTTP requests are Spring's own
 * {@code http.server.requests}. Names in Prometheus get the {@code segstore_} prefix and units.
 */
@Component
public class RepositoryMetrics implements RepositoryService.RepositoryListener, ObjectTraffic {

    private static final double[] PERCENTILES = {0.5, 0.95, 0.99};

    private final MeterRegistry registry;
    private final RepositoryLabels labels;
    private final Map<String, List<Meter>> gauges = new ConcurrentHashMap<>();

    public RepositoryMetrics(MeterRegistry registry, RepositoryLabels labels, RepositoryService repositories, JobService jobs) {
        this.registry = registry;
        this.labels = labels;
        for (String kind : jobs.running().keySet()) {
            Gauge.builder("segstore.jobs.running", jobs, j -> j.running().getOrDefault(kind, 0L))
                    .description("Maintenance jobs queued or running").tag("kind", kind).register(registry);
        }
        Gauge.builder("segstore.repositories.unavailable", repositories, r -> r.unavailable().size())
                .description("Repositories that exist but could not be opened").register(registry);
        Gauge.builder("segstore.data.dir.free", repositories, r -> {
            try {
                return java.nio.file.Files.getFileStore(r.dataDir()).getUsableSpace();
            } catch (java.io.IOException e) {
                return Double.NaN;
            }
        }).description("Free bytes on the data directory's file system").baseUnit("bytes").register(registry);
        repositories.addListener(this);
    }

    private Timer timer(String name, String description, String repository) {
        return Timer.builder(name).description(description).tags("repository", labels.of(repository))
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(10_000)).maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
    }

    @Override
    public void read(String repository, long bytes, long nanos) {
        timer("segstore.get", "Storage time of a GET (open and CRC check)", repository).record(nanos, TimeUnit.NANOSECONDS);
        Counter.builder("segstore.read.bytes").baseUnit("bytes").description("Object bytes read")
                .tags("repository", labels.of(repository)).register(registry).increment(bytes);
    }

    @Override
    public void wrote(String repository, long bytes, long nanos) {
        timer("segstore.put", "Storage time of a PUT (an autocommit's commit included)", repository).record(nanos, TimeUnit.NANOSECONDS);
        Counter.builder("segstore.written.bytes").baseUnit("bytes").description("Object bytes written")
                .tags("repository", labels.of(repository)).register(registry).increment(bytes);
    }

    @Override
    public void opened(ManagedRepository m) {
        String name = m.name();
        Timer commit = timer("segstore.commit", "Time of a commit, its fsyncs included", name);
        Timer fsync = timer("segstore.fsync", "Time of one fsync of a segment or directory", name);
        DistributionSummary committed = DistributionSummary.builder("segstore.commit.bytes").baseUnit("bytes")
                .description("Log bytes made durable by a commit").tags("repository", labels.of(name)).register(registry);
        m.repository().observe(new EngineObserver() {
            @Override
            public void committed(long nanos, long bytes) {
                commit.record(nanos, TimeUnit.NANOSECONDS);
                committed.record(bytes);
            }

            @Override
            public void synced(long nanos) {
                fsync.record(nanos, TimeUnit.NANOSECONDS);
            }
        });
        if (!labels.own(name)) {
            return; // gauges of a shared label would overwrite each other
        }
        Repository r = m.repository();
        Tags tags = Tags.of("repository", name);
        List<Meter> meters = new ArrayList<>();
        meters.add(gauge("segstore.repository.objects", "Committed objects", r, i -> i.objects(), tags, null));
        meters.add(gauge("segstore.repository.segments", "Segment files", r, i -> i.segments(), tags, null));
        meters.add(gauge("segstore.repository.sparse", "Bytes compaction could free", r, i -> i.sparseBytes(), tags, "bytes"));
        meters.add(gauge("segstore.repository.quota.used", "Storage quota use (as Borg counts it)", r, i -> i.quotaUsed(), tags, "bytes"));
        meters.add(gauge("segstore.repository.quota.limit", "Storage quota (0: none)", r, i -> i.quotaLimit(), tags, "bytes"));
        meters.add(gauge("segstore.repository.transaction", "Last committed transaction id", r,
                i -> i.transactionId() == null ? -1 : i.transactionId(), tags, null));
        meters.add(Gauge.builder("segstore.repository.check.errors", r, repo -> {
            MaintenanceService.LastCheck c = MaintenanceService.lastCheck(repo);
            return c == null ? 0 : c.errors();
        }).description("Errors found by the last check").tags(tags).register(registry));
        meters.add(Gauge.builder("segstore.repository.check.needed", r, repo -> repo.isClosed() || repo.checkNeeded() == null ? 0 : 1)
                .description("1 while the repository needs a check").tags(tags).register(registry));
        meters.add(Gauge.builder("segstore.repository.transactions.open", m, ManagedRepository::openLeases)
                .description("Open transactions (leases)").tags(tags).register(registry));
        gauges.put(name, meters);
    }

    private Meter gauge(String name, String description, Repository r, ToDoubleFunction<RepositoryInfo> value, Tags tags, String unit) {
        return Gauge.builder(name, r, repo -> repo.isClosed() ? Double.NaN : value.applyAsDouble(repo.info()))
                .description(description).tags(tags).baseUnit(unit).register(registry);
    }

    @Override
    public void closed(String name) {
        List<Meter> meters = gauges.remove(name);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }
}
