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
}
