package io.segstore.engine;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Borg's two per-segment ledgers: {@code segments} (live PUTs in a segment, the index entries
 * pointing into it) and {@code compact} (bytes in it that a compaction could drop). A segment
 * is listed in {@code segments} from its first entry until compaction deletes it, possibly with
 * a count of 0. Used both as the committed state and as a transaction's not-yet-committed delta.
 */
final class SegmentUsage {

    private final TreeMap<Long, Long> live;
    private final TreeMap<Long, Long> freeable;

    SegmentUsage() {
        this(new TreeMap<>(), new TreeMap<>());
    }

    SegmentUsage(NavigableMap<Long, Long> live, NavigableMap<Long, Long> freeable) {
        this.live = new TreeMap<>(live);
        this.freeable = new TreeMap<>(freeable);
    }

    SegmentUsage copy() {
        return new SegmentUsage(live, freeable);
    }

    /** Lists the segment (with no live entries) if it is not listed yet. */
    void touch(long segment) {
        live.putIfAbsent(segment, 0L);
    }

    void addLive(long segment, long delta) {
        live.merge(segment, delta, Long::sum);
    }

    void addFreeable(long segment, long bytes) {
        freeable.merge(segment, bytes, Long::sum);
    }

    void setFreeable(long segment, long bytes) {
        freeable.put(segment, bytes);
    }

    long live(long segment) {
        return live.getOrDefault(segment, 0L);
    }

    long freeable(long segment) {
        return freeable.getOrDefault(segment, 0L);
    }

    boolean isListed(long segment) {
        return live.containsKey(segment);
    }

    /** Forgets a segment that was deleted. */
    void forget(long segment) {
        live.remove(segment);
        freeable.remove(segment);
    }

    /** Adds a transaction's delta to this (committed) ledger. */
    void merge(SegmentUsage delta) {
        delta.live.forEach((s, d) -> live.merge(s, d, Long::sum));
        delta.freeable.forEach((s, d) -> freeable.merge(s, d, Long::sum));
    }

    NavigableMap<Long, Long> liveView() {
        return java.util.Collections.unmodifiableNavigableMap(live);
    }

    NavigableMap<Long, Long> freeableView() {
        return java.util.Collections.unmodifiableNavigableMap(freeable);
    }

    int segmentCount() {
        return live.size();
    }

    long totalFreeable() {
        long n = 0;
        for (Map.Entry<Long, Long> e : freeable.entrySet()) {
            n += Math.max(0, e.getValue());
        }
        return n;
    }

    boolean isEmpty() {
        return live.isEmpty() && freeable.isEmpty();
    }
}
