package io.segstore.tier;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
    private final DeleteScheduler scheduler;
    /** Key to the time (System.nanoTime) from which it may be deleted, or WAITING. */
    private final Map<String, Long> pending = new ConcurrentHashMap<>();

    ReplacedSegments(ObjectStore store, TierMetrics metrics, DeleteScheduler scheduler) {
        this.store = store;
        this.metrics = metrics;
        this.scheduler = scheduler;
    }

    void add(String key) {
        pending.put(key, WAITING);
    }

    /** A checkpoint newer than every replacement so far is in the bucket: their delay starts now. */
    void checkpointUploaded() {
        if (pending.isEmpty()) {
            return;
        }
        long due = System.nanoTime() + scheduler.delay().toNanos();
        pending.replaceAll((k, at) -> at == WAITING ? due : at);
        scheduler.later(this);
    }

    /**
     * Deletes what is due; true when nothing is left waiting. A failure leaves the rest for the
     * next checkpoint's round (or the shutdown's).
     */
    boolean deleteDue() {
        return delete(false);
    }

    /** Deletes everything a checkpoint covers, due or not (shutdown: nothing would delete it later). */
    void deleteCheckpointed() {
        delete(true);
    }

    private boolean delete(boolean evenIfEarly) {
        long now = System.nanoTime();
        boolean left = false;
        for (Map.Entry<String, Long> e : pending.entrySet()) {
            if (e.getValue() == WAITING) {
                continue;
            }
            if (!evenIfEarly && e.getValue() - now > 0) {
                left = true;
                continue;
            }
            try {
                store.delete(e.getKey());
                pending.remove(e.getKey());
                metrics.deletes.incrementAndGet();
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "could not delete replaced segment {0} (tried again after the next checkpoint): {1}",
                        e.getKey(), ex.getMessage());
                return false;
            }
        }
        return !left;
    }
}
