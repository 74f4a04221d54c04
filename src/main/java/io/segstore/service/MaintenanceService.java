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
            r.setSetting(LAST_COMPACTION, Instant.now() + " freed=" + c.bytesFreed());
            return result;
        });
    }

    public Job check(String repo, Boolean repair, Long maxDurationSeconds) {
        boolean rep = Boolean.TRUE.equals(repair);
        long max = maxDurationSeconds == null ? 0 : maxDurationSeconds;
        if (max < 0) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "maxDurationSeconds must not be negative.");
        }
        if (rep && max > 0) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "A repair always checks everything; leave out maxDurationSeconds.");
        }
        Repository r = repositories.get(repo).repository();
        if (rep && r.isAppendOnly()) {
            throw new io.segstore.engine.AppendOnlyException("Repair");
        }
        CheckOptions options = new CheckOptions(rep, Duration.ofSeconds(max));
        return jobs.submit(repo, rep ? "repair" : "check", progress -> {
            CheckResult c = r.check(options, progress);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("mode", c.mode());
            result.put("ok", c.ok());
            result.put("errors", c.errors());
            result.put("segmentsChecked", c.segmentsChecked());
            result.put("finished", c.finished());
            result.put("entriesSalvaged", c.entriesSalvaged());
            result.put("durationMillis", c.millis());
            r.setSetting(LAST_CHECK, Instant.now() + " mode=" + c.mode() + " errors=" + c.errors().size() + " ms=" + c.millis());
            return result;
        });
    }

    public Job job(String repo, String id) {
        repositories.get(repo);
        return jobs.get(repo, id);
    }

    /** The last check as recorded: when, mode, errors found, duration; null if none ran. */
    public record LastCheck(String time, String mode, int errors, long durationMillis) {
    }

    public static LastCheck lastCheck(Repository r) {
        String v = r.setting(LAST_CHECK);
        if (v == null) {
            return null;
        }
        try {
            String[] parts = v.split(" ");
            Map<String, String> kv = new LinkedHashMap<>();
            for (int i = 1; i < parts.length; i++) {
                String[] p = parts[i].split("=", 2);
                kv.put(p[0], p[1]);
            }
            return new LastCheck(parts[0], kv.get("mode"), Integer.parseInt(kv.get("errors")), Long.parseLong(kv.get("ms")));
        } catch (RuntimeException e) {
            return null;
        }
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
