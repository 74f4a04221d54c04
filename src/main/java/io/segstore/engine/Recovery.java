package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Brings the committed state back when a repository is opened: finds the newest committed
 * transaction (the newest segment that parses cleanly and ends in a COMMIT), removes the segments
 * of interrupted transactions after it, loads the newest usable checkpoint and replays the
 * segments written after that checkpoint.
 */
final class Recovery {

    private static final System.Logger LOG = System.getLogger(Recovery.class.getName());
    private static final int BATCH = 256;

    private Recovery() {
    }

    /** The outcome: a state to serve, or the reason only check can go on. */
    record Result(RepositoryState state, long checkpointTransaction, long replayedSegments, List<Long> removedSegments,
                  String checkNeeded, io.segstore.engine.format.KeyIndexFile.Mapped indexSource) {
    }

    static Result recover(Path repository, SegmentStore store, SegmentReaders readers, long seed, int shardBits,
                          boolean cleanup, ProgressListener progress) throws IOException {
        long[] segments = store.list();
        long tid = -1;
        List<Long> uncommitted = new ArrayList<>();
        for (int i = segments.length - 1; i >= 0; i--) {
            long s = segments[i];
            CommitState commit = store.length(s) > 0 ? commitState(store, s) : CommitState.UNCOMMITTED;
            if (commit == CommitState.COMMITTED) {
                tid = s;
                break;
            }
            if (commit == CommitState.DAMAGED) {
                // its COMMIT made it to disk, so it was committed: damage after the fact, which
                // only check and repair may deal with (an interrupted transaction never ends in a COMMIT)
                return new Result(RepositoryState.empty(seed, shardBits), -1, 0, List.of(),
                        "committed segment " + s + " is damaged: run check with repair", null);
            }
            uncommitted.add(s);
        }
        if (tid < 0 && Checkpoint.newestBorgIndex(repository) >= 0) {
            // An index says there were commits, the log has none: the log is damaged. Nothing may be
            // removed before check (and repair) looked at it.
            return new Result(RepositoryState.empty(seed, shardBits), -1, 0, List.of(),
                    "the repository has an index but no committed segment: it is damaged, run check with repair", null);
        }
        if (cleanup && !uncommitted.isEmpty()) {
            for (long s : uncommitted) {
                readers.invalidate(s);
                store.delete(s);
            }
            store.syncDirectories();
            LOG.log(System.Logger.Level.INFO, "removed {0} uncommitted segment(s) after transaction {1}", uncommitted.size(), tid);
        }
        if (tid < 0) {
            return new Result(RepositoryState.empty(seed, shardBits), -1, 0, uncommitted, null, null);
        }

        RepositoryState state = null;
        io.segstore.engine.format.KeyIndexFile.Mapped source = null;
        for (long t : Checkpoint.transactions(repository)) {
            if (t > tid) {
                LOG.log(System.Logger.Level.WARNING, "checkpoint {0} is newer than the last commit {1}; ignoring it", t, tid);
                continue;
            }
            Checkpoint.Loaded loaded = Checkpoint.load(repository, t, seed, shardBits);
            if (loaded != null) {
                state = loaded.state();
                source = loaded.indexSource();
                break;
            }
        }
        long checkpoint = state == null ? -1 : state.transactionId;
        if (state == null) {
            state = RepositoryState.empty(seed, shardBits);
        }
        long[] live = existing(store, segments, tid);
        if (checkpoint >= 0) {
            forgetVanishedSegments(state, store, live, checkpoint);
        }
        try {
            long replayed = replay(state, store, readers, live, checkpoint + 1, tid, progress);
            state.transactionId = tid;
            return new Result(state, checkpoint, replayed, uncommitted, null, source);
        } catch (IntegrityException e) {
            if (source != null) {
                source.close();
            }
            return new Result(RepositoryState.empty(seed, shardBits), -1, 0, uncommitted,
                    "a committed segment is damaged (" + e.getMessage() + "): run check with repair", null);
        }
    }

    /**
     * A checkpoint lists segments that are gone when a compaction deleted them after it was
     * written and then crashed before the next one. The quota use in the checkpoint still counts
     * their data, and replaying the compaction's copies would count it again: it is recounted
     * from the log instead (it is, by definition, the size of every PUT on disk).
     */
    private static void forgetVanishedSegments(RepositoryState state, SegmentStore store, long[] existing, long checkpoint) throws IOException {
        List<Long> vanished = new ArrayList<>();
        for (long s : state.usage.liveView().keySet()) {
            if (s <= checkpoint && Arrays.binarySearch(existing, s) < 0) {
                vanished.add(s);
            }
        }
        if (vanished.isEmpty()) {
            return;
        }
        vanished.forEach(state.usage::forget);
        long[] quota = {0};
        SegmentScanner scanner = new SegmentScanner();
        for (long segment : existing) {
            if (segment > checkpoint) {
                break;
            }
            try (SegmentStore.ReadHandle h = store.openRead(segment)) {
                scanner.scan(h, segment, 0, false, (tag, buf, at, offset, size) -> {
                    if (tag == SegmentFile.TAG_PUT) {
                        quota[0] += size;
                    }
                    return true;
                });
            } catch (IntegrityException e) {
                // a damaged segment's PUTs past the damage cannot be counted; check reports it
            }
        }
        LOG.log(System.Logger.Level.INFO, "{0} segment(s) listed in checkpoint {1} were compacted away; quota use recounted: {2} -> {3}",
                vanished.size(), checkpoint, state.quotaUse, quota[0]);
        state.quotaUse = quota[0];
    }

    /** Segments up to {@code last} with a non-zero length (zero-length ones count as deleted). */
    static long[] existing(SegmentStore store, long[] segments, long last) throws IOException {
        long[] out = new long[segments.length];
        int n = 0;
        for (long s : segments) {
            if (s <= last && store.length(s) > 0) {
                out[n++] = s;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Whether the segment's last 9 bytes are a COMMIT entry (whatever comes before). */
    static boolean endsWithCommit(SegmentStore store, long segment) throws IOException {
        try (SegmentStore.ReadHandle h = store.openRead(segment)) {
            long size = h.size();
            if (size < SegmentFile.MAGIC_LENGTH + SegmentFile.COMMIT_SIZE) {
                return false;
            }
            ByteBuffer tail = ByteBuffer.allocate(SegmentFile.COMMIT_SIZE);
            while (tail.hasRemaining()) {
                if (h.read(tail, size - SegmentFile.COMMIT_SIZE + tail.position()) < 0) {
                    return false;
                }
            }
            return SegmentFile.isCommitEntry(tail, 0);
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** What a segment's bytes say about its transaction. */
    enum CommitState {
        /** Parses cleanly to its end and its last entry is a COMMIT (Borg's test). */
        COMMITTED,
        /** No COMMIT at its end: an interrupted transaction, or a data segment. */
        UNCOMMITTED,
        /**
         * Its last 9 bytes are a COMMIT entry but it does not parse cleanly: it was committed and
         * damaged afterwards (an interrupted write never ends in an intact COMMIT after a bad entry).
         */
        DAMAGED
    }

    static boolean isCommitted(SegmentStore store, long segment) throws IOException {
        return commitState(store, segment) == CommitState.COMMITTED;
    }

    static CommitState commitState(SegmentStore store, long segment) throws IOException {
        if (!endsWithCommit(store, segment)) {
            return CommitState.UNCOMMITTED;
        }
        try (SegmentStore.ReadHandle h = store.openRead(segment)) {
            boolean[] seenCommit = {false};
            boolean[] dataAfterCommit = {false};
            new SegmentScanner().scan(h, segment, 0, true, (tag, buf, at, offset, entrySize) -> {
                if (tag == SegmentFile.TAG_COMMIT) {
                    seenCommit[0] = true;
                } else if (seenCommit[0]) {
                    dataAfterCommit[0] = true;
                    return false;
                }
                return true;
            });
            // a clean parse whose last entry is a PUT whose data merely ends in COMMIT's bytes is uncommitted
            return seenCommit[0] && !dataAfterCommit[0] ? CommitState.COMMITTED : CommitState.UNCOMMITTED;
        } catch (NoSuchFileException e) {
            return CommitState.UNCOMMITTED;
        } catch (IntegrityException e) {
            return CommitState.DAMAGED;
        }
    }

    /**
     * Applies the entries of {@code segments} in [{@code from}, {@code to}] to {@code state}, with
     * the same bookkeeping as live writes. Returns the number of segments replayed.
     * IntegrityException when one of them is damaged.
     */
    static long replay(RepositoryState state, SegmentStore store, SegmentReaders readers, long[] segments, long from, long to,
                       ProgressListener progress) throws IOException {
        long[] todo = Arrays.stream(segments).filter(s -> s >= from && s <= to).toArray();
        if (todo.length == 0) {
            return 0;
        }
        state.index.reserve(state.index.size() + netPuts(store, todo));
        Applier applier = new Applier(state, readers, segments);
        SegmentScanner scanner = new SegmentScanner();
        for (int i = 0; i < todo.length; i++) {
            long segment = todo[i];
            progress.progress("replay", i, todo.length);
            try (SegmentStore.ReadHandle h = store.openRead(segment)) {
                scanner.scan(h, segment, 0, true, (tag, buf, at, offset, size) -> {
                    applier.add(tag, buf, at, Locations.of(segment, offset), size);
                    return true;
                });
            }
            applier.flush();
        }
        progress.progress("replay", todo.length, todo.length);
        return todo.length;
    }

    /** PUTs minus DELETEs in the given segments: how much the index grows, to size it once. */
    private static long netPuts(SegmentStore store, long[] segments) throws IOException {
        long[] net = {0};
        SegmentScanner scanner = new SegmentScanner();
        for (long segment : segments) {
            try (SegmentStore.ReadHandle h = store.openRead(segment)) {
                scanner.scan(h, segment, 0, false, (tag, buf, at, offset, size) -> {
                    if (tag == SegmentFile.TAG_PUT) {
                        net[0]++;
                    } else if (tag == SegmentFile.TAG_DELETE) {
                        net[0]--;
                    }
                    return true;
                });
            } catch (IntegrityException e) {
                // the replay itself reports the damage
            }
        }
        return Math.max(0, net[0]);
    }

    /**
     * Applies entries in batches: the index slots of a batch are touched together first, so
     * replaying millions of entries is not a long queue of cache misses.
     */
    /** The size of the entry at a location (what a superseded entry stops counting). */
    @FunctionalInterface
    interface EntrySizes {
        int of(long location) throws IOException;
    }

    static final class Applier {
        private final RepositoryState state;
        private final EntrySizes readers;
        private final long[] existingSegments;
        private final long[] keys = new long[4 * BATCH];
        private final int[] tags = new int[BATCH];
        private final long[] locations = new long[BATCH];
        private final int[] sizes = new int[BATCH];
        private int n;

        Applier(RepositoryState state, SegmentReaders readers, long[] existingSegments) {
            this(state, readers::entrySize, existingSegments);
        }

        Applier(RepositoryState state, EntrySizes sizes, long[] existingSegments) {
            this.state = state;
            this.readers = sizes;
            this.existingSegments = existingSegments;
        }

        void add(int tag, ByteBuffer buf, int at, long location, int size) throws IOException {
            tags[n] = tag;
            locations[n] = location;
            sizes[n] = size;
            if (tag == SegmentFile.TAG_PUT || tag == SegmentFile.TAG_DELETE) {
                int idAt = at + SegmentFile.HEADER_SIZE;
                keys[4 * n] = buf.getLong(idAt);
                keys[4 * n + 1] = buf.getLong(idAt + 8);
                keys[4 * n + 2] = buf.getLong(idAt + 16);
                keys[4 * n + 3] = buf.getLong(idAt + 24);
            }
            if (++n == BATCH) {
                flush();
            }
        }

        void flush() throws IOException {
            state.index.prefetch(keys, n);
            for (int i = 0; i < n; i++) {
                long k0 = keys[4 * i];
                long k1 = keys[4 * i + 1];
                long k2 = keys[4 * i + 2];
                long k3 = keys[4 * i + 3];
                long location = locations[i];
                switch (tags[i]) {
                    case SegmentFile.TAG_PUT -> {
                        long old = state.index.put(k0, k1, k2, k3, location);
                        if (old != KeyIndex.ABSENT && exists(Locations.segment(old))) {
                            // an overwrite without a DELETE (older Borg versions wrote those)
                            LogAccounting.supersede(state, k0, k1, k2, k3, old, readers.of(old));
                        }
                        LogAccounting.put(state, location, sizes[i]);
                    }
                    case SegmentFile.TAG_DELETE -> {
                        long old = state.index.remove(k0, k1, k2, k3);
                        LogAccounting.delete(state, location);
                        if (old != KeyIndex.ABSENT && exists(Locations.segment(old))) {
                            LogAccounting.supersede(state, k0, k1, k2, k3, old, readers.of(old));
                        }
                    }
                    default -> LogAccounting.commit(state, Locations.segment(location));
                }
            }
            n = 0;
        }

        private boolean exists(long segment) {
            return Arrays.binarySearch(existingSegments, segment) >= 0;
        }
    }
}
