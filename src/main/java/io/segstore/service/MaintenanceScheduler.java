package io.segstore.service;

import io.segstore.engine.Repository;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Starts each repository's scheduled checks and compactions when they are due (see
 * {@link MaintenanceSchedule}), as ordinary jobs. Due means: the interval passed since the last
 * one finished (as recorded in the repository's config, so a restart does not reset it). Nothing
 * is started beside a repair, nor a second job of a kind already queued or running; compaction
 * is skipped in append-only repositories (it could free nothing) and in repositories that need
 * a check.
 */
@Component
public class MaintenanceScheduler implements DisposableBean {

    private static final System.Logger LOG = System.getLogger(MaintenanceScheduler.class.getName());

    private final RepositoryService repositories;
    private final MaintenanceService maintenance;
    private final JobService jobs;
    private final ScheduledExecutorService ticker;

    public MaintenanceScheduler(RepositoryService repositories, MaintenanceService maintenance, JobService jobs, SegstoreProperties properties) {
        this.repositories = repositories;
        this.maintenance = maintenance;
        this.jobs = jobs;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "segstore-maintenance");
            t.setDaemon(true);
            return t;
        });
        long tick = Math.max(50, properties.maintenance().tick().toMillis());
        ticker.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }

    void tick() {
        if (!repositories.startupComplete()) {
            return;
        }
        for (String name : repositories.openNames()) {
            try {
                consider(name);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "scheduled maintenance of {0}: {1}", name, e.getMessage());
            }
        }
    }

    private void consider(String name) {
        Repository r = repositories.get(name).repository();
        MaintenanceSchedule schedule = MaintenanceSchedule.of(r);
        if (schedule.checkIntervalSeconds() == 0 && schedule.compactionIntervalSeconds() == 0) {
            return;
        }
        Set<String> active = jobs.activeKinds(name);
        if (active.contains("repair")) {
            return;
        }
        Instant now = Instant.now();
        if (schedule.checkIntervalSeconds() > 0 && !active.contains("check")
                && due(MaintenanceService.lastRun(r, MaintenanceService.LAST_CHECK), schedule.checkIntervalSeconds(), now)) {
            maintenance.check(name, false, schedule.checkMaxDurationSeconds());
            LOG.log(System.Logger.Level.INFO, "scheduled {0} check of {1} started",
                    schedule.checkMaxDurationSeconds() > 0 ? "partial" : "full", name);
        }
        if (schedule.compactionIntervalSeconds() > 0 && !active.contains("compaction") && !r.isAppendOnly() && r.checkNeeded() == null
                && due(MaintenanceService.lastRun(r, MaintenanceService.LAST_COMPACTION), schedule.compactionIntervalSeconds(), now)) {
            maintenance.compact(name, schedule.compactionThreshold());
            LOG.log(System.Logger.Level.INFO, "scheduled compaction of {0} started", name);
        }
    }

    private static boolean due(Instant last, long intervalSeconds, Instant now) {
        return last == null || !last.plus(Duration.ofSeconds(intervalSeconds)).isAfter(now);
    }

    @Override
    public void destroy() {
        ticker.shutdownNow();
    }
}
