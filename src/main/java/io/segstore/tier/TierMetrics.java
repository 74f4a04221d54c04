package io.segstore.tier;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the object tier, shared by its repositories; exported by {@link TierConfiguration}. */
public final class TierMetrics {
    final AtomicLong uploads = new AtomicLong();
    final AtomicLong bytesUploaded = new AtomicLong();
    final AtomicLong commits = new AtomicLong();
    final AtomicLong commitNanos = new AtomicLong();
    final AtomicLong deletes = new AtomicLong();
    final AtomicLong checkpointUploads = new AtomicLong();
    private final AtomicLong followedInPlace = new AtomicLong();
    private final AtomicLong followedByReopen = new AtomicLong();

    public long uploads() {
        return uploads.get();
    }

    public long bytesUploaded() {
        return bytesUploaded.get();
    }

    public long commits() {
        return commits.get();
    }

    public long deletes() {
        return deletes.get();
    }

    public long checkpointUploads() {
        return checkpointUploads.get();
    }

    /** Other instances' commits a follower applied to its open state. */
    public long followedInPlace() {
        return followedInPlace.get();
    }

    /** Times a follower had to open a repository again to follow it (after a compaction elsewhere, a config change). */
    public long followedByReopen() {
        return followedByReopen.get();
    }

    public void followed(boolean inPlace) {
        (inPlace ? followedInPlace : followedByReopen).incrementAndGet();
    }
}
