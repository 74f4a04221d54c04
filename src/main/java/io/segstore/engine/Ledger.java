package io.segstore.engine;

/**
 * Where the bookkeeping of log entries goes: the committed state directly (replay, compaction)
 * or a transaction's delta that is added to it on commit.
 */
interface Ledger {

    /** Changes a segment's count of live PUTs. */
    void live(long segment, long delta);

    /** Adds bytes that compaction could drop from a segment. */
    void freeable(long segment, long bytes);

    /** Lists a segment with no live entries yet. */
    void touch(long segment);

    /** Changes the storage quota use. */
    void quota(long bytes);

    /** Records that an older PUT of the id survives in {@code segment}. */
    void shadow(long k0, long k1, long k2, long k3, long segment);
}
