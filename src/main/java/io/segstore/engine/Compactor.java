package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeSet;

/**
 * Borg's compaction, in steps: each step copies the live entries of some sparse segments to the
 * end of the log (verbatim, so their CRCs stay valid), commits, points the index at the copies,
 * deletes the old segments and writes a checkpoint. Between steps other writers get their turn.
 *
 * <p>A DELETE is copied forward unless it is certain that no older PUT of its id survives and the
 * DELETE is covered by the checkpoint on disk (Borg's rule: otherwise a crash could bring the
 * object back when the log after the checkpoint is replayed).
 *
 * <p>Besides sparse segments, runs of small committed segments are merged, so that frequent small
 * commits do not pile up files.
 */
final class Compactor {

    private static final System.Logger LOG = System.getLogger(Compactor.class.getName());
    private static final Duration WRITER_WAIT = Duration.ofHours(1);
    private static final long SMALL_SEGMENT_LIMIT = 8L << 20;

    private final Repository repo;

    Compactor(Repository repo) {
        this.repo = repo;
    }

    private record Key(long k0, long k1, long k2, long k3) {
    }

    /** What one step changes in the committed state once its commit is durable. */
    private static final class Step {
        final List<long[]> moves = new ArrayList<>();          // k0..k3, old location, new location
        final List<Long> keptDeletes = new ArrayList<>();       // new locations of DELETEs copied forward
        final Map<Key, List<Long>> shadowRemovals = new HashMap<>();
        final List<Key> droppedShadowKeys = new ArrayList<>();
        final List<Long> segments = new ArrayList<>();
        long transaction;
        long quotaFreed;
        long oldBytes;
        long copiedBytes;
    }

    CompactionResult run(double threshold, ProgressListener progress) {
        long started = System.nanoTime();
        if (repo.isAppendOnly()) {
            // Borg's append-only mode: nothing is physically removed, so compaction is a no-op.
            return new CompactionResult(0, 0, 0, 0, 0);
        }
        repo.checkpointNow();
        long horizon = repo.checkpointTransaction();
        List<Long> candidates;
        try {
            candidates = select(threshold);
        } catch (IOException e) {
            throw new RepositoryIOException("cannot plan compaction of " + repo.path(), e);
        }
        long compacted = 0;
        long freed = 0;
        long quotaFreed = 0;
        int steps = 0;
        int done = 0;
        progress.progress("compact", 0, candidates.size());
        while (done < candidates.size()) {
            List<Long> batch = new ArrayList<>();
            long budget = 0;
            while (done + batch.size() < candidates.size() && (batch.isEmpty() || budget < repo.maxSegmentSize())) {
                long s = candidates.get(done + batch.size());
                batch.add(s);
                budget += liveBytes(s);
            }
            Step step = step(batch, horizon);
            done += batch.size();
            steps++;
            compacted += step.segments.size();
            freed += step.oldBytes - step.copiedBytes;
            quotaFreed += step.quotaFreed;
            progress.progress("compact", done, candidates.size());
        }
        if (steps > 0) {
            // under the write lock: the writer must not create a segment in a directory being removed
            repo.writeLock.lock();
            try {
                repo.store().removeEmptyDirectories();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: could not remove empty segment directories: {1}", repo.path(), e.toString());
            } finally {
                repo.writeLock.unlock();
            }
            repo.checkpointNow();
        }
        return new CompactionResult(compacted, freed, quotaFreed, steps, (System.nanoTime() - started) / 1_000_000);
    }

    private long liveBytes(long segment) {
        try {
            RepositoryState s = repo.state;
            long freeable;
            synchronized (s) {
                freeable = s.usage.freeable(segment);
            }
            return Math.max(0, repo.store().length(segment) - freeable);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Segments worth compacting: those whose freeable share is above the threshold, and, when
     * there are at least two, all small ones (merged into one).
     */
    private List<Long> select(double threshold) throws IOException {
        RepositoryState s = repo.state;
        TreeSet<Long> chosen = new TreeSet<>();
        List<Long> small = new ArrayList<>();
        NavigableMap<Long, Long> freeable;
        NavigableMap<Long, Long> live;
        long tid;
        repo.writeLock.lock();
        try {
            synchronized (s) {
                tid = s.transactionId;
                freeable = new java.util.TreeMap<>(s.usage.freeableView());
                live = new java.util.TreeMap<>(s.usage.liveView());
            }
        } finally {
            repo.writeLock.unlock();
        }
        long smallLimit = Math.min(SMALL_SEGMENT_LIMIT, repo.maxSegmentSize() / 4);
        for (long segment : live.keySet()) {
            if (segment > tid) {
                continue;
            }
            long size;
            try {
                size = repo.store().length(segment);
            } catch (NoSuchFileException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: segment {1} not found, but listed in compaction data", repo.path(), segment);
                forget(segment);
                continue;
            }
            long free = freeable.getOrDefault(segment, 0L);
            if (size == 0 || (double) free / size > threshold) {
                chosen.add(segment);
            } else if (size < smallLimit) {
                small.add(segment);
            }
        }
        if (small.size() >= 2) {
            chosen.addAll(small);
        }
        return new ArrayList<>(chosen);
    }

    private void forget(long segment) {
        repo.writeLock.lock();
        try {
            synchronized (repo.state) {
                repo.state.usage.forget(segment);
            }
        } finally {
            repo.writeLock.unlock();
        }
    }

    private Step step(List<Long> segments, long horizon) {
        Transaction token = repo.beginMaintenance(WRITER_WAIT);
        Step step = new Step();
        try {
            repo.writeLock.lock();
            try {
                RepositoryState s = repo.state;
                for (long segment : segments) {
                    copyLive(s, segment, horizon, step);
                }
                CrashPoints.reached("compact.after-copy");
                long tid;
                try {
                    // a COMMIT-only segment, as Borg's final commit: the segment that holds the moved
                    // objects is then never the last one, whose damage would read as "not committed"
                    CrashPoints.reached("compact.before-commit");
                    tid = repo.writer.commit();
                    CrashPoints.reached("compact.after-commit-synced");
                } catch (IOException e) {
                    repo.discardUncommitted();
                    throw new RepositoryIOException("compaction commit failed in " + repo.path(), e);
                }
                apply(s, step, tid);
                step.transaction = tid;
                CrashPoints.reached("compact.after-apply");
            } catch (RuntimeException e) {
                if (repo.writer.openSegment() >= 0 || repo.writer.nextSegment() > repo.state.nextSegment()) {
                    repo.discardUncommitted();
                }
                throw e;
            } finally {
                repo.writeLock.unlock();
            }
        } finally {
            repo.endMaintenance(token);
        }
        deleteOld(step);
        return step;
    }

    private void copyLive(RepositoryState s, long segment, long horizon, Step step) {
        long[] liveLeft = {0};
        synchronized (s) {
            liveLeft[0] = s.usage.live(segment);
        }
        long size;
        try (SegmentStore.ReadHandle h = repo.store().openRead(segment)) {
            size = h.size();
            new SegmentScanner().scan(h, segment, 0, true, (tag, buf, at, offset, entrySize) -> {
                if (tag == SegmentFile.TAG_COMMIT) {
                    return true;
                }
                int idAt = at + SegmentFile.HEADER_SIZE;
                long k0 = buf.getLong(idAt);
                long k1 = buf.getLong(idAt + 8);
                long k2 = buf.getLong(idAt + 16);
                long k3 = buf.getLong(idAt + 24);
                long here = Locations.of(segment, offset);
                long current = s.index.get(k0, k1, k2, k3);
                ByteBuffer entry = buf.duplicate();
                entry.limit(at + entrySize).position(at);
                if (tag == SegmentFile.TAG_PUT) {
                    if (current == here) {
                        long moved = repo.writer.copy(entry);
                        step.moves.add(new long[] {k0, k1, k2, k3, here, moved});
                        step.copiedBytes += entrySize;
                        liveLeft[0]--;
                    } else {
                        // superseded: gone with this segment, so it no longer shadows anything
                        step.shadowRemovals.computeIfAbsent(new Key(k0, k1, k2, k3), k -> new ArrayList<>()).add(segment);
                        step.quotaFreed += entrySize;
                    }
                } else if (current == KeyIndex.ABSENT) {
                    long[] shadowed = effectiveShadow(s, step, k0, k1, k2, k3);
                    boolean shadowedPutExists = shadowed == null;
                    if (shadowed != null) {
                        for (long older : shadowed) {
                            if (older < segment) {
                                shadowedPutExists = true;
                                break;
                            }
                        }
                    }
                    boolean stable = horizon >= 0 && segment <= horizon;
                    if (shadowedPutExists || !stable) {
                        step.keptDeletes.add(repo.writer.copy(entry));
                        step.copiedBytes += entrySize;
                    } else if (shadowed.length == 0) {
                        step.droppedShadowKeys.add(new Key(k0, k1, k2, k3));
                    }
                }
                return true;
            });
        } catch (IOException e) {
            throw new RepositoryIOException("compaction cannot read segment " + segment + " of " + repo.path(), e);
        }
        if (liveLeft[0] != 0) {
            throw new CheckNeededException("Corrupted segment reference count - corrupted index or hints (segment " + segment
                    + ", " + liveLeft[0] + " live entries unaccounted for): run check with repair");
        }
        step.segments.add(segment);
        step.oldBytes += size;
    }

    /** The shadow list as it will be once this step's removals apply. */
    private static long[] effectiveShadow(RepositoryState s, Step step, long k0, long k1, long k2, long k3) {
        long[] list;
        synchronized (s) {
            list = s.shadow.get(k0, k1, k2, k3);
        }
        List<Long> removed = step.shadowRemovals.get(new Key(k0, k1, k2, k3));
        if (list == null || removed == null) {
            return list;
        }
        List<Long> left = new ArrayList<>();
        for (long x : list) {
            left.add(x);
        }
        for (Long r : removed) {
            left.remove(r);
        }
        return left.stream().mapToLong(Long::longValue).toArray();
    }

    /** Applies a committed step to the committed state (under the write lock). */
    private static void apply(RepositoryState s, Step step, long tid) {
        for (long[] m : step.moves) {
            s.index.put(m[0], m[1], m[2], m[3], m[5]);
        }
        synchronized (s) {
            for (long[] m : step.moves) {
                s.usage.addLive(Locations.segment(m[4]), -1);
                s.usage.addLive(Locations.segment(m[5]), 1);
            }
            for (long deleteLocation : step.keptDeletes) {
                LogAccounting.delete(s, deleteLocation);
            }
            LogAccounting.commit(s, tid);
            s.quotaUse -= step.quotaFreed;
            step.shadowRemovals.forEach((k, segs) -> {
                for (long segment : segs) {
                    s.shadow.removeSegment(k.k0(), k.k1(), k.k2(), k.k3(), segment);
                }
            });
            for (Key k : step.droppedShadowKeys) {
                long[] left = s.shadow.get(k.k0(), k.k1(), k.k2(), k.k3());
                if (left != null && left.length == 0) {
                    s.shadow.removeKey(k.k0(), k.k1(), k.k2(), k.k3());
                }
            }
            s.transactionId = tid;
        }
    }

    /** Deletes the compacted segments, oldest first, once no check is reading them. */
    private void deleteOld(Step step) {
        try {
            repo.lockWhenUnpinned(step.segments, step.transaction);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryIOException("interrupted while waiting to delete compacted segments", new IOException(e));
        }
        try {
            for (long segment : step.segments) {
                repo.readers.invalidate(segment);
                repo.store().delete(segment);
                CrashPoints.reached("compact.after-segment-deleted");
                synchronized (repo.state) {
                    repo.state.usage.forget(segment);
                }
            }
            repo.store().syncDirectories();
        } catch (IOException e) {
            throw new RepositoryIOException("cannot delete compacted segments of " + repo.path(), e);
        } finally {
            repo.writeLock.unlock();
        }
        CrashPoints.reached("compact.before-checkpoint");
        repo.checkpointNow();
    }
}
