package io.segstore.engine;

/**
 * The committed state of a repository: the index (id -> location of its current PUT), the
 * per-segment ledgers, the storage quota use and the shadow index, as of transaction
 * {@link #transactionId}. Changed only by whoever holds the repository's writer; readers use the
 * index, which is safe to read concurrently.
 */
final class RepositoryState implements Ledger {

    final KeyIndex index;
    SegmentUsage usage;
    ShadowIndex shadow;
    long quotaUse;
    /** Newest committed transaction, or -1 for a repository without any commit. */
    long transactionId;

    RepositoryState(KeyIndex index, SegmentUsage usage, ShadowIndex shadow, long quotaUse, long transactionId) {
        this.index = index;
        this.usage = usage;
        this.shadow = shadow;
        this.quotaUse = quotaUse;
        this.transactionId = transactionId;
    }

    static RepositoryState empty(long seed, int shardBits) {
        return new RepositoryState(new KeyIndex(seed, shardBits), new SegmentUsage(), new ShadowIndex(seed, shardBits), 0, -1);
    }

    /** The first segment number after the committed log. */
    long nextSegment() {
        return transactionId + 1;
    }

    @Override
    public void live(long segment, long delta) {
        usage.addLive(segment, delta);
    }

    @Override
    public void freeable(long segment, long bytes) {
        usage.addFreeable(segment, bytes);
    }

    @Override
    public void touch(long segment) {
        usage.touch(segment);
    }

    @Override
    public void quota(long bytes) {
        quotaUse += bytes;
    }

    @Override
    public void shadow(long k0, long k1, long k2, long k3, long segment) {
        shadow.add(k0, k1, k2, k3, segment);
    }
}
