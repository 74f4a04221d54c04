package io.segstore.tier;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs the delayed deletes of replaced segment objects for every repository of the instance.
 * At shutdown, what a checkpoint already covers is deleted at once rather than forgotten: the
 * list of replaced segments lives only in memory, and nothing else would ever delete them.
 */
final class DeleteScheduler implements AutoCloseable {

    private final Duration delay;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "segstore-tier-deletes");
        t.setDaemon(true);
        return t;
    });
    private final Set<ReplacedSegments> waiting = ConcurrentHashMap.newKeySet();

    DeleteScheduler(Duration delay) {
        this.delay = delay;
    }

    Duration delay() {
        return delay;
    }

    /** Deletes what {@code replaced} holds once the delay has passed. */
    void later(ReplacedSegments replaced) {
        if (delay.isZero()) {
            replaced.deleteDue();
            return;
        }
        waiting.add(replaced);
        timer.schedule(() -> {
            if (replaced.deleteDue()) {
                waiting.remove(replaced);
            }
        }, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        for (ReplacedSegments r : waiting) {
            r.deleteCheckpointed();
        }
        waiting.clear();
    }
}
