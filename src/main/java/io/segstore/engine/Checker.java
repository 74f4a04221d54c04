package io.segstore.engine;

import io.segstore.engine.format.RepositoryConfig;
import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Borg's repository check. A full check reads every committed segment, verifies every entry's
 * CRC, rebuilds the index from the log and compares it with the committed index. It reads a
 * pinned snapshot: writers go on meanwhile, and no segment it needs is deleted under it. A
 * partial check only verifies CRCs, for a limited time, and records where it stopped. A repair
 * holds the writer throughout: it salvages every intact entry of damaged segments, removes
 * uncommitted ones, adds a commit when none is left, and replaces index and hints with the
 * rebuilt ones.
 */
final class Checker {

    private static final System.Logger LOG = System.getLogger(Checker.class.getName());
    private static final String LAST_CHECKED = "last_segment_checked";
    private static final int MAX_REPORTED_MISMATCHES = 20;
    private static final Duration WRITER_WAIT = Duration.ofHours(1);

    private final Repository repo;
    private final List<String> errors = new ArrayList<>();
    private long salvaged;

    Checker(Repository repo) {
        this.repo = repo;
    }

    private void report(String message) {
        LOG.log(System.Logger.Level.ERROR, "{0}: {1}", repo.path(), message);
        errors.add(message);
    }

    CheckResult run(CheckOptions options, ProgressListener progress) {
        long started = System.nanoTime();
        try {
            if (options.repair()) {
                return repair(progress, started);
            }
            if (options.isPartial()) {
                return partial(options.maxDuration(), progress, started);
            }
            return full(progress, started);
        } catch (IOException e) {
            throw new RepositoryIOException("check of " + repo.path() + " failed", e);
        }
    }

    private static long millisSince(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }

    // ---- full check -------------------------------------------------------------------------

    private CheckResult full(ProgressListener progress, long started) throws IOException {
        long tid;
        KeyIndex.Snapshot committed;
        AutoCloseable pin;
        repo.writeLock.lock();
        try {
            if (repo.checkNeeded() != null) {
                committed = null;
                tid = damagedTransaction();
            } else {
                tid = repo.state.transactionId;
                committed = repo.state.index.snapshot();
            }
            pin = repo.pin(tid);
        } finally {
            repo.writeLock.unlock();
        }
        try {
            if (tid < 0) {
                if (repo.store().list().length > 0 || repo.checkNeeded() != null) {
                    report("This repository contains no valid data.");
                }
                return finish("full", 0, true, -1, started);
            }
            forgetPartialProgress();
            RepositoryState rebuilt = RepositoryState.empty(repo.seed(), Repository.SHARD_BITS);
            long checked = rebuild(rebuilt, tid, false, progress);
            if (committed != null) {
                compare(rebuilt.index, committed);
            } else {
                report("the committed state could not be loaded: " + repo.checkNeeded());
            }
            return finish("full", checked, true, -1, started);
        } finally {
            if (committed != null) {
                committed.close();
            }
            closeQuietly(pin);
        }
    }

    /** Borg's choice of transaction when the committed state is unusable: last commit, newest index, newest segment. */
    private long damagedTransaction() throws IOException {
        long[] segments = repo.store().list();
        for (int i = segments.length - 1; i >= 0; i--) {
            // a segment whose COMMIT is intact was committed, however damaged the rest: repair salvages it
            if (repo.store().length(segments[i]) > 0 && Recovery.commitState(repo.store(), segments[i]) != Recovery.CommitState.UNCOMMITTED) {
                return segments[i];
            }
        }
        long index = Checkpoint.newestBorgIndex(repo.path());
        if (index >= 0) {
            return index;
        }
        return segments.length == 0 ? -1 : segments[segments.length - 1];
    }

    /**
     * Replays every segment up to {@code tid} into {@code into}, reporting damaged ones (and, when
     * repairing, salvaging them first). Returns the number of segments checked.
     */
    private long rebuild(RepositoryState into, long tid, boolean repair, ProgressListener progress) throws IOException {
        long[] all = repo.store().list();
        long[] segments = Arrays.stream(all).filter(s -> s <= tid).toArray();
        long[] existing = Recovery.existing(repo.store(), all, tid);
        Recovery.Applier applier = new Recovery.Applier(into, repo.readers, existing);
        SegmentScanner scanner = new SegmentScanner();
        into.index.reserve(repo.state.index.size());
        for (int i = 0; i < segments.length; i++) {
            long segment = segments[i];
            progress.progress(repair ? "repair" : "check", i, segments.length);
            SegmentEntries entries = new SegmentEntries(segment);
            try {
                scanSegment(scanner, segment, entries);
            } catch (IntegrityException e) {
                report(e.getMessage());
                entries = new SegmentEntries(segment);
                if (repair) {
                    long kept = salvage(segment);
                    salvaged += kept;
                    scanSegment(scanner, segment, entries);
                }
            }
            entries.applyTo(applier);
        }
        progress.progress(repair ? "repair" : "check", segments.length, segments.length);
        into.transactionId = tid;
        return segments.length;
    }

    private void scanSegment(SegmentScanner scanner, long segment, SegmentEntries entries) throws IOException {
        try (SegmentStore.ReadHandle h = repo.store().openRead(segment)) {
            scanner.scan(h, segment, 0, true, (tag, buf, at, offset, size) -> {
                entries.add(tag, buf, at, offset, size);
                return true;
            });
        } catch (NoSuchFileException e) {
            throw new IntegrityException("Segment " + segment + " vanished during the check");
        }
    }

    /**
     * A segment's entries, held until the whole segment proved intact (Borg ignores a damaged one
     * whole). Kept in flat primitive arrays: a segment of small objects holds hundreds of
     * thousands of entries, and an object per entry would be most of the check's garbage.
     */
    /** Reports every difference between the rebuilt and the committed index. */
    private void compare(KeyIndex rebuilt, KeyIndex.Snapshot committed) {
        long a = rebuilt.size();
        long b = committed.size();
        if (a != b) {
            report("Index object count mismatch: committed index " + b + " objects, rebuilt index " + a + " objects.");
        }
        long[] mismatches = {0};
        rebuilt.forEachAfter(null, (k0, k1, k2, k3, v) -> {
            long c = committed.get(k0, k1, k2, k3);
            if (c != v) {
                mismatch(mismatches, k0, k1, k2, k3, v, c);
            }
            return true;
        });
        committed.forEach((k0, k1, k2, k3, v) -> {
            if (rebuilt.get(k0, k1, k2, k3) == KeyIndex.ABSENT) {
                mismatch(mismatches, k0, k1, k2, k3, KeyIndex.ABSENT, v);
            }
            return true;
        });
        if (mismatches[0] > MAX_REPORTED_MISMATCHES) {
            report((mismatches[0] - MAX_REPORTED_MISMATCHES) + " more index entries differ.");
        }
    }

    private void mismatch(long[] count, long k0, long k1, long k2, long k3, long rebuilt, long committed) {
        if (++count[0] <= MAX_REPORTED_MISMATCHES) {
            report("ID: " + ObjectId.wrap(KeyIndex.keyBytes(k0, k1, k2, k3)).hex() + " rebuilt index: " + describe(rebuilt)
                    + " committed index: " + describe(committed));
        }
    }

    private static String describe(long location) {
        return location == KeyIndex.ABSENT ? "<not found>" : "(" + Locations.segment(location) + ", " + Locations.offset(location) + ")";
    }

    // ---- partial check ------------------------------------------------------------------------

    private CheckResult partial(Duration maxDuration, ProgressListener progress, long started) throws IOException {
        long tid;
        AutoCloseable pin;
        repo.writeLock.lock();
        try {
            tid = repo.checkNeeded() != null ? damagedTransaction() : repo.state.transactionId;
            pin = repo.pin(tid);
        } finally {
            repo.writeLock.unlock();
        }
        try {
            long last;
            try {
                last = repo.config().lastSegmentChecked();
            } catch (io.segstore.engine.format.FormatException e) {
                last = -1;
            }
            long resumeAfter = last;
            long[] segments = Arrays.stream(repo.store().list()).filter(s -> s > resumeAfter && s <= tid).toArray();
            long deadline = started + maxDuration.toNanos();
            SegmentScanner scanner = new SegmentScanner();
            long checked = 0;
            for (long segment : segments) {
                progress.progress("check", checked, segments.length);
                try (SegmentStore.ReadHandle h = repo.store().openRead(segment)) {
                    scanner.scan(h, segment, 0, true, (tag, buf, at, offset, size) -> true);
                } catch (IntegrityException e) {
                    report(e.getMessage());
                } catch (NoSuchFileException e) {
                    report("Segment " + segment + " vanished during the check");
                }
                checked++;
                if (System.nanoTime() > deadline && checked < segments.length) {
                    long stoppedAt = segment;
                    if (!repo.isReadOnly()) {
                        repo.updateConfig(c -> c.set(RepositoryConfig.REPOSITORY, LAST_CHECKED, Long.toString(stoppedAt)));
                    }
                    return finish("partial", checked, false, stoppedAt, started);
                }
            }
            progress.progress("check", segments.length, segments.length);
            forgetPartialProgress();
            return finish("partial", checked, true, -1, started);
        } finally {
            closeQuietly(pin);
        }
    }

    private void forgetPartialProgress() {
        if (!repo.isReadOnly() && repo.config().get(RepositoryConfig.REPOSITORY, LAST_CHECKED) != null) {
            repo.updateConfig(c -> c.remove(RepositoryConfig.REPOSITORY, LAST_CHECKED));
        }
    }

    // ---- repair -----------------------------------------------------------------------------

    private CheckResult repair(ProgressListener progress, long started) throws IOException {
        Transaction token = repo.beginMaintenanceForRepair(WRITER_WAIT);
        try {
            repo.writeLock.lock();
            try {
                long tid = repo.checkNeeded() != null ? damagedTransaction() : repo.state.transactionId;
                if (tid < 0) {
                    if (repo.store().list().length > 0) {
                        report("This repository contains no valid data.");
                    }
                    return finish("repair", 0, true, -1, started);
                }
                // segments after the transaction are garbage of an interrupted one
                for (long s : repo.store().list()) {
                    if (s > tid) {
                        repo.readers.invalidate(s);
                        repo.store().delete(s);
                    }
                }
                repo.store().syncDirectories();
                boolean committed = repo.store().exists(tid) && Recovery.endsWithCommit(repo.store(), tid);
                forgetPartialProgress();
                RepositoryState rebuilt = RepositoryState.empty(repo.seed(), Repository.SHARD_BITS);
                long checked = rebuild(rebuilt, tid, true, progress);
                repo.writer.abandon(tid + 1);
                if (!committed) {
                    report("Adding commit tag to segment " + (tid + 1));
                    tid = repo.writer.commit();
                    LogAccounting.commit(rebuilt, tid);
                    rebuilt.transactionId = tid;
                }
                repo.replaceState(rebuilt);
                repo.checkpointNow();
                return finish("repair", checked, true, -1, started);
            } finally {
                repo.writeLock.unlock();
            }
        } finally {
            repo.endMaintenance(token);
        }
    }

    /**
     * Rewrites a damaged segment with every intact entry found in it: Borg's recover_segment,
     * which slides byte by byte over damage until a header with a matching CRC turns up.
     */
    private long salvage(long segment) throws IOException {
        LOG.log(System.Logger.Level.INFO, "{0}: attempting to recover segment {1}", repo.path(), segment);
        repo.readers.invalidate(segment);
        long kept = 0;
        try (SegmentStore.ReadHandle in = repo.store().openRead(segment);
             SegmentStore.WriteHandle out = repo.store().replace(segment)) {
            out.write(ByteBuffer.wrap(SegmentFile.MAGIC));
            long size = in.size();
            int window = 2 * SegmentFile.MAX_ENTRY_SIZE;
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(window, Math.max(size, 1))).order(ByteOrder.LITTLE_ENDIAN);
            long bufStart = 0;
            buf.limit(0);
            CRC32 crc = new CRC32();
            long p = 0;
            while (size - p >= SegmentFile.HEADER_SIZE) {
                int at = (int) (p - bufStart);
                if (at + SegmentFile.PUT_HEADER_SIZE > buf.limit() && bufStart + buf.limit() < size) {
                    bufStart = p;
                    at = 0;
                    fill(in, buf, p, size);
                }
                SegmentFile.Header header = SegmentFile.readHeader(buf, at);
                long entry = header.size();
                boolean plausible = header.problem() == null && entry <= size - p;
                if (plausible && at + entry > buf.limit()) {
                    bufStart = p;
                    at = 0;
                    fill(in, buf, p, size);
                }
                if (plausible) {
                    crc.reset();
                    ByteBuffer body = buf.duplicate();
                    body.limit(at + (int) entry).position(at + 4);
                    crc.update(body);
                    if ((int) crc.getValue() == header.crc()) {
                        ByteBuffer whole = buf.duplicate();
                        whole.limit(at + (int) entry).position(at);
                        out.write(whole);
                        p += entry;
                        kept++;
                        continue;
                    }
                }
                p++;
            }
            out.commitReplacement();
        }
        repo.readers.invalidate(segment); // a handle opened during the salvage still shows the old file
        return kept;
    }

    private static void fill(SegmentStore.ReadHandle in, ByteBuffer buf, long position, long size) throws IOException {
        buf.clear();
        buf.limit((int) Math.min(buf.capacity(), size - position));
        while (buf.hasRemaining()) {
            if (in.read(buf, position + buf.position()) < 0) {
                break;
            }
        }
        buf.flip();
    }

    private CheckResult finish(String mode, long checked, boolean finished, long lastChecked, long started) {
        return new CheckResult(mode, List.copyOf(errors), checked, finished, lastChecked, salvaged, millisSince(started));
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // a pin cannot fail to close
        }
    }
}
