package io.segstore.service;

import io.segstore.engine.CommittedView;
import io.segstore.engine.ObjectId;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import io.segstore.engine.WriterBusyException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One open repository as the service serves it: the engine's repository plus what HTTP clients
 * need around it: writer leases named by opaque ids, grouped autocommits, disk-order listing
 * sessions and Segstore's per-repository settings.
 */
public final class ManagedRepository {

    /** Settings of Segstore's own kept in the repository config's [segstore] section. */
    static final String VERIFY = "verify";

    private static final SecureRandom IDS = new SecureRandom();
    private static final int ENDED_REMEMBERED = 1024;

    private final String name;
    private final Repository repository;
    private final SegstoreProperties properties;
    private final Map<String, WriterLease> leases = new ConcurrentHashMap<>();
    /** Leases that ended, remembered for a while so a late request learns how (409, not 404). */
    private final Map<String, WriterLease.State> ended = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, WriterLease.State> eldest) {
            return size() > ENDED_REMEMBERED;
        }
    });
    private final AutoCommitter autoCommitter;
    private final Map<String, ListingSession> listings = new ConcurrentHashMap<>();

    ManagedRepository(String name, Repository repository, SegstoreProperties properties) {
        this.name = name;
        this.repository = repository;
        this.properties = properties;
        this.autoCommitter = new AutoCommitter(repository, this::retryAfterSeconds, properties.jobs().autocommitWait());
    }

    public String name() {
        return name;
    }

    public Repository repository() {
        return repository;
    }

    /** Its scheduled maintenance (kept in its config). */
    public MaintenanceSchedule schedule() {
        return MaintenanceSchedule.of(repository);
    }

    /** "none" or "sha256": whether a PUT's body must hash to its id. */
    public String verify() {
        String v = repository.setting(VERIFY);
        return v == null ? "none" : v;
    }

    // ---- leases -----------------------------------------------------------------------------

    /** Begins a transaction holding the writer, waiting up to {@code wait} for the current holder. */
    public WriterLease begin(Duration leaseLength, Duration wait, String owner) {
        Transaction txn;
        try {
            txn = repository.begin(wait);
        } catch (WriterBusyException e) {
            throw new ServiceException(ServiceException.Kind.LOCKED, "Another transaction holds the writer of repository " + name + ".",
                    retryAfterSeconds(), e);
        }
        WriterLease lease = new WriterLease(newId(), txn, leaseLength, owner);
        leases.put(lease.id(), lease);
        return lease;
    }

    /** Who began the open lease with this id, or null when there is no such open lease. */
    public String owner(String id) {
        WriterLease lease = leases.get(id);
        return lease == null ? null : lease.owner();
    }

    /** The open lease with this id, entered for one request (call {@link #exit} after it). */
    public WriterLease enter(String id) {
        WriterLease lease = leases.get(id);
        if (lease == null) {
            WriterLease.State how = ended.get(id);
            if (how == null) {
                throw new ServiceException(ServiceException.Kind.UNKNOWN_TRANSACTION,
                        "There is no transaction " + Names.printable(id) + " in repository " + name + ".");
            }
            throw endedError(id, how);
        }
        lease.enter();
        if (lease.state() != WriterLease.State.OPEN) {
            lease.exit();
            throw endedError(id, lease.state());
        }
        return lease;
    }

    public void exit(WriterLease lease) {
        lease.exit();
    }

    private static ServiceException endedError(String id, WriterLease.State how) {
        if (how == WriterLease.State.EXPIRED) {
            return new ServiceException(ServiceException.Kind.TRANSACTION_EXPIRED,
                    "Transaction " + Names.printable(id) + " expired: it saw no request for its lease time and was rolled back.");
        }
        return new ServiceException(ServiceException.Kind.TRANSACTION_ENDED,
                "Transaction " + Names.printable(id) + " was already " + (how == WriterLease.State.COMMITTED ? "committed" : "rolled back") + ".");
    }

    /** Commits the lease's transaction; with {@code keep} the lease goes on with a new one. */
    public long commit(WriterLease lease, boolean keep) {
        synchronized (lease) {
            io.segstore.engine.RepositoryException doomed = lease.transaction().doomedBy();
            if (doomed != null) {
                // an earlier write (over the quota) doomed it: it can only be rolled back
                lease.transaction().rollback();
                end(lease, WriterLease.State.ROLLED_BACK);
                throw new io.segstore.engine.TransactionDoomedException(doomed);
            }
            if (keep) {
                Transaction next;
                try {
                    next = lease.transaction().commitAndContinue();
                } catch (RuntimeException e) {
                    if (!lease.transaction().isOpen()) {
                        end(lease, WriterLease.State.ROLLED_BACK);
                    }
                    throw e;
                }
                long tid = lease.transaction().committedAs();
                if (next == null) {
                    end(lease, WriterLease.State.COMMITTED); // the service is shutting down: the lease ends here
                    return tid;
                }
                lease.transaction(next);
                lease.touch();
                return tid;
            }
            try {
                long tid = lease.transaction().commit();
                end(lease, WriterLease.State.COMMITTED);
                return tid;
            } catch (RuntimeException e) {
                if (!lease.transaction().isOpen()) {
                    end(lease, WriterLease.State.ROLLED_BACK); // a failed commit rolls back
                }
                throw e;
            }
        }
    }

    public void rollback(WriterLease lease) {
        synchronized (lease) {
            lease.transaction().rollback();
            end(lease, WriterLease.State.ROLLED_BACK);
        }
    }

    private void end(WriterLease lease, WriterLease.State how) {
        lease.state(how);
        leases.remove(lease.id());
        ended.put(lease.id(), how);
    }

    /** Rolls back leases that saw no request for their length. */
    void expireLeases() {
        long now = System.nanoTime();
        for (WriterLease lease : leases.values()) {
            if (lease.expired(now)) {
                synchronized (lease) {
                    if (lease.state() == WriterLease.State.OPEN && lease.expired(System.nanoTime())) {
                        lease.transaction().rollback();
                        end(lease, WriterLease.State.EXPIRED);
                    }
                }
            }
        }
    }

    /** Rolls back every lease (shutdown, lock break). */
    void rollbackAll() {
        for (WriterLease lease : leases.values()) {
            synchronized (lease) {
                if (lease.state() == WriterLease.State.OPEN) {
                    lease.transaction().rollback();
                    end(lease, WriterLease.State.ROLLED_BACK);
                }
            }
        }
    }

    /** Seconds until the current lease could expire: advice for a client that found the writer taken. */
    long retryAfterSeconds() {
        long best = 1;
        for (WriterLease lease : leases.values()) {
            best = Math.max(best, Math.min(lease.length().toSeconds(), Math.max(1, lease.expiresAt().getEpochSecond()
                    - java.time.Instant.now().getEpochSecond())));
        }
        return best;
    }

    public int openLeases() {
        return leases.size();
    }

    /** The open leases (at most one holds the writer), for operators. */
    public java.util.List<WriterLease> leases() {
        return java.util.List.copyOf(leases.values());
    }

    /** Disk-order listings in progress (each pins a snapshot). */
    public int openListings() {
        return listings.size();
    }

    // ---- autocommit -------------------------------------------------------------------------

    /**
     * Stores an object in a commit of its own (shared with concurrent ones); true if it replaced
     * one. With {@code refuseOverwrite} an existing id is refused instead.
     */
    public AutoCommitter.Result autoPut(ObjectId id, StagedBody body, Duration lockWait, boolean refuseOverwrite) {
        return autoCommitter.submit(new AutoCommitter.Op(id, body, lockWait, refuseOverwrite));
    }

    public AutoCommitter.Result autoDelete(ObjectId id, Duration lockWait) {
        return autoCommitter.submit(new AutoCommitter.Op(id, null, lockWait, false));
    }

    // ---- disk-order listings ------------------------------------------------------------------

    /** A disk-order listing pinned to one committed state until it ends or idles out. */
    static final class ListingSession {
        final CommittedView view;
        volatile long lastUsedNanos = System.nanoTime();

        ListingSession(CommittedView view) {
            this.view = view;
        }
    }

    /** Starts a disk-order listing session; returns its id. */
    synchronized String startListing() {
        int max = properties.listing().maxSnapshots();
        if (listings.size() >= max) {
            // each pins a snapshot and holds back compaction: their number is bounded
            throw new ServiceException(ServiceException.Kind.TOO_MANY_REQUESTS, "Repository " + name + " already has " + max
                    + " disk-order listings in progress; finish one (or let it expire after "
                    + properties.listing().snapshotIdleTimeout().toSeconds() + " s idle) and start again.", 5, null);
        }
        String id = newId();
        listings.put(id, new ListingSession(repository.view()));
        return id;
    }

    ListingSession listing(String id) {
        ListingSession s = listings.get(id);
        if (s == null) {
            throw new ServiceException(ServiceException.Kind.LISTING_EXPIRED,
                    "This listing's snapshot expired (idle for longer than " + properties.listing().snapshotIdleTimeout().toSeconds()
                            + " s) or the service restarted; start the listing again without a marker.");
        }
        s.lastUsedNanos = System.nanoTime();
        return s;
    }

    void endListing(String id) {
        ListingSession s = listings.remove(id);
        if (s != null) {
            s.view.close();
        }
    }

    void expireListings() {
        long idle = properties.listing().snapshotIdleTimeout().toNanos();
        long now = System.nanoTime();
        listings.forEach((id, s) -> {
            if (now - s.lastUsedNanos > idle) {
                endListing(id);
            }
        });
    }

    void close() {
        rollbackAll();
        listings.keySet().forEach(this::endListing);
        repository.close();
    }

    private static String newId() {
        byte[] b = new byte[16];
        IDS.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }
}
