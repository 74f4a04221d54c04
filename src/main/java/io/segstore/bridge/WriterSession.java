package io.segstore.bridge;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Borg's exclusive repository lock, held as Segstore's writer lease for the whole borg session.
 *
 * <p>The lease is taken when borg opens the repository exclusively (waiting up to borg's
 * --lock-wait, then answering LockTimeout as borg does), kept across borg's commits (a commit
 * with {@code keep} continues in a new transaction under the same lease), renewed in the
 * background while borg is busy elsewhere, and rolled back when the session ends without a
 * commit. Compaction and repair need the writer themselves, so around them the lease is let go
 * and taken again by the next write.
 */
final class WriterSession implements AutoCloseable {

    /** The longest wait asked of the service in one begin (its segstore.max-lock-wait may be short). */
    private static final double WAIT_PER_REQUEST = 10;

    private final SegstoreClient client;
    private final String repo;
    private final String lockName;
    private final long leaseSeconds;
    private final BorgLog log;
    private final ScheduledExecutorService renewer;
    /** Borg's lock_wait in seconds (null: wait for ever, as borg's lock does with None). */
    private volatile Double lockWait;
    private volatile String lease;
    private volatile long lastUsedNanos = System.nanoTime();
    /** Why the lease was lost behind borg's back (expired), reported at the next write; null if not. */
    private volatile String lost;

    WriterSession(SegstoreClient client, String repo, String lockName, long leaseSeconds, BorgLog log) {
        this.client = client;
        this.repo = repo;
        this.lockName = lockName;
        this.leaseSeconds = leaseSeconds;
        this.log = log;
        this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-renewer");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(250, leaseSeconds * 1000 / 4);
        renewer.scheduleAtFixedRate(this::renewIfIdle, period, period, TimeUnit.MILLISECONDS);
    }

    void lockWait(Double seconds) {
        this.lockWait = seconds;
    }

    /** The lease held now, or null. */
    String current() {
        return lease;
    }

    /** A request naming the lease was made (the service keeps the lease alive for it). */
    void touch() {
        lastUsedNanos = System.nanoTime();
    }

    /** The lease, taken now if not held: waits up to borg's lock wait, then fails with LockTimeout. */
    synchronized String acquire() throws IOException {
        if (lease != null) {
            return lease;
        }
        if (lost != null) {
            String why = lost;
            lost = null;
            throw BorgError.lockFailed(lockName, why);
        }
        Double wait = lockWait;
        long deadline = wait == null ? Long.MAX_VALUE : System.nanoTime() + (long) (wait * 1e9);
        double perRequest = WAIT_PER_REQUEST;
        while (true) {
            double left = wait == null ? perRequest : Math.max(0, (deadline - System.nanoTime()) / 1e9);
            try {
                lease = client.begin(repo, leaseSeconds, Math.min(left, perRequest));
                touch();
                log.debug("took the writer lease of repository " + repo);
                return lease;
            } catch (SegstoreClient.ApiProblem p) {
                if (p.is("bad-parameter") && perRequest > 1) {
                    perRequest = Math.max(1, perRequest / 2); // the service allows shorter waits: ask for less each time
                    continue;
                }
                if (!p.is("locked") || System.nanoTime() >= deadline) {
                    if (p.is("locked")) {
                        throw BorgError.lockTimeout(lockName);
                    }
                    throw p;
                }
            }
        }
    }

    /** Commits borg's transaction; with keep the lease goes on (in a new transaction), else it ends. */
    synchronized SegstoreClient.Commit commit(boolean keep) throws IOException {
        String l = acquire();
        try {
            SegstoreClient.Commit c = client.commit(repo, l, keep);
            lease = keep ? c.next() : null;
            touch();
            return c;
        } catch (SegstoreClient.ApiProblem p) {
            if (p.status == 409 || p.status == 404) {
                lease = null; // the commit failed and rolled back, or the lease was already gone
            }
            throw p;
        }
    }

    /** Discards borg's uncommitted writes; the lease is let go (the next write takes it again). */
    synchronized void rollback() throws IOException {
        String l = lease;
        lease = null;
        if (l != null) {
            try {
                client.rollback(repo, l);
            } catch (SegstoreClient.ApiProblem p) {
                if (p.status != 409 && p.status != 404) {
                    throw p; // 409/404: already ended, which is what a rollback wants
                }
            }
        }
    }

    /** The service ended the lease itself (destroy, break-lock): forget it without a request. */
    synchronized void forget() {
        lease = null;
        lost = null;
    }

    /** The lease was reported gone by a request (expired, ended): the next write reports it. */
    void lostLease(String why) {
        lease = null;
        lost = why;
    }

    private void renewIfIdle() {
        String l = lease;
        if (l == null || System.nanoTime() - lastUsedNanos < leaseSeconds * 1_000_000_000L / 4) {
            return;
        }
        try {
            client.renew(repo, l);
            touch();
        } catch (SegstoreClient.ApiProblem p) {
            if (lease == l && (p.is("transaction-expired") || p.is("transaction-not-found"))) {
                lostLease("the writer lease expired: the service heard nothing from this session for " + leaseSeconds
                        + " s and rolled its transaction back");
                log.warning("Segstore: " + lost);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("renewing the writer lease failed: " + e);
        }
    }

    @Override
    public void close() {
        renewer.shutdownNow();
        try {
            rollback();
        } catch (IOException | RuntimeException e) {
            log.debug("rolling back at the end of the session failed: " + e);
        }
    }
}
