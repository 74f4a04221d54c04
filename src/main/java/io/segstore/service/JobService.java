package io.segstore.service;

import io.segstore.engine.ProgressListener;
import io.segstore.engine.RepositoryException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Service;

/**
 * Runs maintenance (compaction, check, repair) in the background on a few worker threads and
 * keeps each job's state, progress and result for a while after it finished. Job records live
 * in memory only: after a restart their ids answer 404.
 */
@Service
public class JobService implements DisposableBean {

    /** The work of a job; it reports progress and returns its result. */
    @FunctionalInterface
    public interface Task {
        Map<String, Object> run(ProgressListener progress);
    }

    private static final SecureRandom IDS = new SecureRandom();

    private final SegstoreProperties properties;
    private final ExecutorService workers;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();

    public JobService(SegstoreProperties properties) {
        this.properties = properties;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(Math.max(1, properties.jobs().threads()), r -> {
            Thread t = new Thread(r, "segstore-job-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Job submit(String repository, String kind, Task task) {
        long active = jobs.values().stream().filter(j -> j.repository().equals(repository) && !j.done()).count();
        if (active >= properties.jobs().maxPerRepository()) {
            throw new ServiceException(ServiceException.Kind.TOO_MANY_JOBS, "Repository " + repository + " already has " + active
                    + " maintenance jobs queued or running; wait for one to finish.", 10, null);
        }
        byte[] b = new byte[12];
        IDS.nextBytes(b);
        Job job = new Job(Base64.getUrlEncoder().withoutPadding().encodeToString(b), repository, kind);
        jobs.put(job.id(), job);
        workers.submit(() -> {
            job.running();
            try {
                job.succeeded(task.run(job::progress));
            } catch (RepositoryException | ServiceException e) {
                job.failed(e.getMessage());
            } catch (RuntimeException e) {
                job.failed(e.toString());
            }
        });
        return job;
    }

    public Job get(String repository, String id) {
        Job job = jobs.get(id);
        if (job == null || !job.repository().equals(repository)) {
            throw new ServiceException(ServiceException.Kind.UNKNOWN_JOB, "There is no job " + Names.printable(id) + " in repository "
                    + repository + " (job records do not survive a restart).");
        }
        return job;
    }

    /** Forgets jobs that finished longer ago than the configured time. */
    void expire() {
        Instant cutoff = Instant.now().minus(properties.jobs().keepFinished());
        jobs.values().removeIf(j -> j.done() && j.finished() != null && j.finished().isBefore(cutoff));
    }

    /** The kinds of the repository's jobs that are queued or running ("check", "repair", "compaction"). */
    public java.util.Set<String> activeKinds(String repository) {
        java.util.Set<String> kinds = new java.util.HashSet<>();
        for (Job j : jobs.values()) {
            if (j.repository().equals(repository) && !j.done()) {
                kinds.add(j.kind());
            }
        }
        return kinds;
    }

    /** Jobs queued or running, by kind (for metrics). */
    public Map<String, Long> running() {
        Map<String, Long> byKind = new java.util.TreeMap<>();
        for (String kind : java.util.List.of("check", "repair", "compaction", "restore")) {
            byKind.put(kind, 0L);
        }
        for (Job j : jobs.values()) {
            if (!j.done()) {
                byKind.merge(j.kind(), 1L, Long::sum);
            }
        }
        return byKind;
    }

    /** Forgets the jobs of a destroyed repository. */
    void forget(String repository) {
        jobs.values().removeIf(j -> j.repository().equals(repository) && j.done());
    }

    @Override
    public void destroy() {
        workers.shutdownNow();
    }
}
