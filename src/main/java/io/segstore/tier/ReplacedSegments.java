package io.segstore.tier;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Segment objects a compaction replaced, on their way out of the bucket. An object may go once a
 * checkpoint newer than the replacing commit is in the bucket (an instance starting from the
 * bucket no longer needs it), and {@code delay} after that: instances following the repository
 * apply the replacing commit at their next refresh and until then still read the old object.
 */
final class ReplacedSegments {

    private static final System.Logger LOG = System.getLogger(ReplacedSegments.class.getName());
    /** Not yet covered by an uploaded checkpoint. */
    private static final long WAITING = Long.MAX_VALUE;

    private final ObjectStore store;
    private final TierMetrics metrics;
    private final Duration delay;
    private final ScheduledExecutorService timer;
    /** Key to the time (System.nanoTime) from which it may be deleted, or WAITING. */
    private final Map<String, Long> pending = new ConcurrentHashMap<>();

    ReplacedSegments(ObjectStore store, TierMetrics metrics, Duration delay, ScheduledExecutorService timer) {
        this.store = store;
        this.metrics = metrics;
        this.delay = delay;
        this.timer = timer;
    }

    void add(String key) {
        pending.put(key, WAITING);
    }

    /** Forgets a key (its number is being written again); true when it was pending. */
    boolean remove(String key) {
        return pending.remove(key) != null;
    }

    /** A checkpoint newer than every replacement so far is in the bucket: their delay starts now. */
    void checkpointUploaded() {
        long due = System.nanoTime() + delay.toNanos();
        pending.replaceAll((k, at) -> at == WAITING ? due : at);
        if (delay.isZero() || delay.isNegative()) {
            deleteDue();
        } else {
            timer.schedule(this::deleteDue, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Deletes what is due; a failure leaves the rest for the next checkpoint's round. */
    void deleteDue() {
        long now = System.nanoTime();
        for (Map.Entry<String, Long> e : pending.entrySet()) {
            if (e.getValue() == WAITING || e.getValue() - now > 0) {
                continue;
            }
            try {
                store.delete(e.getKey());
                pending.remove(e.getKey());
                metrics.deletes.incrementAndGet();
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "could not delete replaced segment {0} (tried again after the next checkpoint): {1}",
                        e.getKey(), ex.getMessage());
                return;
            }
        }
    }
}
