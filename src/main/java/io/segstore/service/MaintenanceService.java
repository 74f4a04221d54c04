package io.segstore.service;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.CompactionResult;
import io.segstore.engine.Repository;
import io.segstore.engine.format.TransactionsLogFile;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.springframework.stereotype.Service;

/**
 * Compaction and check as background jobs, with their last results kept in the repository's
 * config; Borg's key and nonce; the append-only transactions log.
 */
@Service
public class MaintenanceService {

    static final String LAST_CHECK = "last_check";
    static final String LAST_COMPACTION = "last_compaction";

    private final RepositoryService repositories;
    private final JobService jobs;

    public MaintenanceService(RepositoryService repositories, JobService jobs) {
        this.repositories = repositories;
        this.jobs = jobs;
    }

    public Job compact(String repo, Double threshold) {
        double t = threshold == null ? 0.1 : threshold;
        if (!(t >= 0 && t <= 1)) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "threshold is a freeable ratio from 0 to 1.");
        }
        Repository r = repositories.get(repo).repository();
        return jobs.submit(repo, "compaction", progress -> {
            CompactionResult c = r.compact(t, progress);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("segmentsCompacted", c.segmentsCompacted());
            result.put("bytesFreed", c.bytesFreed());
            result.put("quotaFreed", c.quotaFreed());
            result.put("steps", c.steps());
            result.put("durationMillis", c.millis());
            r.setSetting(LAST_COMPACTION, Instant.now() + " freed=" + c.bytesFreed() + " ms=" + c.millis());
            return result;
        });
    }

    public Job check(String repo, Boolean repair, Long maxDurationSeconds) {
        return check(repo, repair, maxDurationSeconds, null);
    }

    /**
     * A check, a partial check or a repair. A repository in object storage is repaired into the
     * new repository {@code into} of the same store (its segments are never rewritten); a local
     * one is repaired in place.
     */
    public Job check(String repo, Boolean repair, Long maxDurationSeconds, String into) {
        boolean rep = Boolean.TRUE.equals(repair);
        long max = maxDurationSeconds == null ? 0 : maxDurationSeconds;
        if (max < 0) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "maxDurationSeconds must not be negative.");
        }
        if (rep && max > 0) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "A repair always checks everything; leave out maxDurationSeconds.");
        }
        if (into != null && !rep) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "\"into\" names where a repair writes its result; "
                    + "it goes with \"repair\": true.");
        }
        Repository r = repositories.get(repo).repository();
        if (rep && r.isAppendOnly()) {
            throw new io.segstore.engine.AppendOnlyException("Repair");
        }
        boolean inBucket = repositories.storageOf(repo) != null;
        if (rep && inBucket) {
            if (into == null) {
                throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "Repository " + repo + " is in object storage, where "
                        + "segments are never rewritten: a repair writes the repaired repository under a new name in the same store "
                        + "and leaves the damaged one as it is. Name it: {\"repair\": true, \"into\": \"<new repository>\"}.");
            }
            Names.repository(into);
            if (repositories.exists(into) || java.nio.file.Files.exists(repositories.dataDir().resolve(into), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new ServiceException(ServiceException.Kind.REPOSITORY_EXISTS, "Repository " + into + " already exists.");
            }
            return jobs.submit(repo, "repair", progress -> {
                io.segstore.tier.BucketRepair.Result done = repositories.repairInBucket(repo, into, progress);
                CheckResult c = done.check();
                progress.progress("open", 0, 1);
                repositories.get(into);
                Map<String, Object> result = checkResult(c);
                result.put("into", into);
                result.put("objects", done.objects());
                result.put("bytesCopied", done.bytesDownloaded());
                return result;
            });
        }
        if (into != null) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "Repository " + repo + " is local and is repaired in place; "
                    + "leave out \"into\" (it is for a repository in object storage).");
        }
        CheckOptions options = new CheckOptions(rep, Duration.ofSeconds(max));
        return jobs.submit(repo, rep ? "repair" : "check", progress -> {
            CheckResult c = r.check(options, progress);
            recordCheck(r, c);
            return checkResult(c);
        });
    }

    private static Map<String, Object> checkResult(CheckResult c) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", c.mode());
        result.put("ok", c.ok());
        result.put("errors", c.errors());
        result.put("segmentsChecked", c.segmentsChecked());
        result.put("finished", c.finished());
        result.put("entriesSalvaged", c.entriesSalvaged());
        result.put("durationMillis", c.millis());
        return result;
    }

    /**
     * Brings back transaction {@code transactionId} of an append-only repository as the new
     * repository {@code into} (the original is untouched), then checks the copy. A job.
     */
    public Job restore(String repo, Long transactionId, String into) {
        if (transactionId == null || into == null) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "The body is {\"transactionId\": <a transaction of the "
                    + "repository's history>, \"into\": \"<name of the new repository>\"}.");
        }
        Names.repository(into);
        Repository r = repositories.get(repo).repository();
        if (!r.isAppendOnly()) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "Only an append-only repository keeps its earlier "
                    + "transactions; " + repo + " is not one.");
        }
        if (r.history().stream().noneMatch(e -> e.transaction() == transactionId)) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "Transaction " + transactionId + " is not in the "
                    + "transactions log of " + repo + " (GET /repos/" + repo + "/history lists them).");
        }
        if (repositories.exists(into) || java.nio.file.Files.exists(repositories.dataDir().resolve(into), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new ServiceException(ServiceException.Kind.REPOSITORY_EXISTS, "Repository " + into + " already exists.");
        }
        boolean inBucket = repositories.storageOf(repo) != null;
        return jobs.submit(repo, "restore", progress -> {
            progress.progress("copy", 0, 2);
            try {
                if (inBucket) {
                    repositories.copyInBucket(repo, transactionId, into); // into the same store, under its own prefix
                } else {
                    r.copyAtTransaction(transactionId, repositories.dataDir().resolve(into));
                }
            } catch (IllegalArgumentException e) {
                throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, e.getMessage());
            }
            progress.progress("check", 1, 2);
            Repository copy = repositories.get(into).repository();
            CheckResult c = copy.check(CheckOptions.full(), io.segstore.engine.ProgressListener.NONE);
            recordCheck(copy, c);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("into", into);
            result.put("transactionId", transactionId);
            result.put("objects", copy.objectCount());
            result.put("ok", c.ok());
            result.put("errors", c.errors());
            return result;
        });
    }

    /** Keeps a check's outcome in the repository's config (the API, health and metrics show it). */
    private static void recordCheck(Repository r, CheckResult c) {
        if (r.isReadOnly()) {
            return; // open read-only here (a repository in a bucket this instance does not write): the job's result says it all
        }
        r.setSetting(LAST_CHECK, Instant.now() + " mode=" + c.mode() + " errors=" + c.errors().size() + " ms=" + c.millis());
    }

    public Job job(String repo, String id) {
        repositories.get(repo);
        return jobs.get(repo, id);
    }

    /** The last check as recorded: when, mode, errors found, duration; null if none ran. */
    public record LastCheck(String time, String mode, int errors, long durationMillis) {
    }

    public static LastCheck lastCheck(Repository r) {
        Map<String, String> kv = recorded(r.setting(LAST_CHECK));
        if (kv == null) {
            return null;
        }
        try {
            return new LastCheck(kv.get(""), kv.get("mode"), Integer.parseInt(kv.get("errors")), Long.parseLong(kv.get("ms")));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The last compaction as recorded: when, bytes freed, duration; null if none ran. */
    public record LastCompaction(String time, long bytesFreed, long durationMillis) {
    }

    public static LastCompaction lastCompaction(Repository r) {
        Map<String, String> kv = recorded(r.setting(LAST_COMPACTION));
        if (kv == null) {
            return null;
        }
        try {
            return new LastCompaction(kv.get(""), Long.parseLong(kv.get("freed")), Long.parseLong(kv.getOrDefault("ms", "0")));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A recorded result: the time first, then key=value pairs; the time is under "". */
    private static Map<String, String> recorded(String v) {
        if (v == null || v.isBlank()) {
            return null;
        }
        String[] parts = v.trim().split(" ");
        Map<String, String> kv = new LinkedHashMap<>();
        kv.put("", parts[0]);
        for (int i = 1; i < parts.length; i++) {
            String[] p = parts[i].split("=", 2);
            if (p.length == 2) {
                kv.put(p[0], p[1]);
            }
        }
        return kv;
    }

    /** When the last check (or compaction) finished, or null. */
    static Instant lastRun(Repository r, String key) {
        Map<String, String> kv = recorded(r.setting(key));
        if (kv == null) {
            return null;
        }
        try {
            return Instant.parse(kv.get(""));
        } catch (RuntimeException e) {
            return null;
        }
    }

    public MaintenanceSchedule schedule(String repo) {
        return MaintenanceSchedule.of(repositories.get(repo).repository());
    }

    /** Changes the repository's scheduled maintenance (null fields stay as they are). */
    public MaintenanceSchedule reschedule(String repo, Long checkInterval, Long checkMaxDuration, Long compactionInterval, Double threshold) {
        Repository r = repositories.get(repo).repository();
        MaintenanceSchedule next = MaintenanceSchedule.of(r).with(checkInterval, checkMaxDuration, compactionInterval, threshold);
        next.saveTo(r);
        return next;
    }

    public byte[] loadKey(String repo) {
        return repositories.get(repo).repository().loadKey();
    }

    public void saveKey(String repo, byte[] key) {
        repositories.get(repo).repository().saveKey(key);
    }

    public OptionalLong freeNonce(String repo) {
        return repositories.get(repo).repository().freeNonce();
    }

    /** Reserves nonces; the caller must hold the writer (name its transaction). */
    public void reserveNonces(String repo, String transaction, long next, Long expected) {
        ManagedRepository m = repositories.get(repo);
        if (transaction == null) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER,
                    "Reserving nonces needs the writer: name your transaction with the Segstore-Transaction header.");
        }
        WriterLease lease = m.enter(transaction);
        try {
            m.repository().commitNonceReservation(next, expected);
        } finally {
            m.exit(lease);
        }
    }

    public List<TransactionsLogFile.Entry> history(String repo) {
        return repositories.get(repo).repository().history();
    }
}
