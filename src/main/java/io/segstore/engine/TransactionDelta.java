package io.segstore.engine;

/**
 * A transaction's changes to the ledgers, kept apart from the committed state until commit (and
 * dropped on rollback): per-segment counts, quota use and shadow-index additions.
 */
final class TransactionDelta implements Ledger {

    final SegmentUsage usage = new SegmentUsage();
    long quota;
    private ShadowIndex shadow;
    private final long seed;
    private final int shardBits;

    TransactionDelta(long seed, int shardBits) {
        this.seed = seed;
        this.shardBits = shardBits;
    }

    /** The shadow additions, or null when there were none. */
    ShadowIndex shadow() {
        return shadow;
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
        quota += bytes;
    }

    @Override
    public void shadow(long k0, long k1, long k2, long k3, long segment) {
        if (shadow == null) {
            shadow = new ShadowIndex(seed, Math.min(shardBits, 4), KeyIndex.Sizing.FAST);
        }
        shadow.add(k0, k1, k2, k3, segment);
    }
}
