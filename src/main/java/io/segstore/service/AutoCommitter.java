package io.segstore.service;

import io.segstore.engine.ObjectId;
import io.segstore.engine.ObjectNotFoundException;
import io.segstore.engine.Repository;
import io.segstore.engine.RepositoryException;
import io.segstore.engine.StorageQuotaExceededException;
import io.segstore.engine.Transaction;
import io.segstore.engine.WriterBusyException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Puts and deletes sent without a transaction: each is committed before it is acknowledged, and
 * those that arrive while a commit is running share the next commit and its fsyncs. The first
 * request that finds no commit running leads: it takes the writer, applies every queued request,
 * commits once and answers them all. Each request is admitted on its own (quota, existence)
 * before it joins, so one refused request never fails its neighbours.
 */
final class AutoCommitter {

    /** One grouped request. */
    static final class Op {
        final ObjectId id;
        final StagedBody body; // null for a delete
        final long deadlineNanos;
        final boolean refuseOverwrite;
        final CompletableFuture<Result> done = new CompletableFuture<>();

        Op(ObjectId id, StagedBody body, Duration lockWait, boolean refuseOverwrite) {
            this.id = id;
            this.body = body;
            this.refuseOverwrite = refuseOverwrite;
            this.deadlineNanos = System.nanoTime() + lockWait.toNanos();
        }
    }

    /** What a grouped request got: the transaction that holds it, and whether a PUT replaced an object. */
    record Result(long transactionId, boolean replaced) {
    }

    private final Repository repository;
    private final ConcurrentLinkedQueue<Op> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock leader = new ReentrantLock();
    private final LeaseHolder leases;
    /** How long a batch waits while a maintenance step (not a client) holds the writer. */
    private final Duration maintenanceWait;

    /** Who holds the writer when an autocommit cannot get it (for Retry-After). */
    interface LeaseHolder {
        long retryAfterSeconds();
    }

    AutoCommitter(Repository repository, LeaseHolder leases, Duration maintenanceWait) {
        this.repository = repository;
        this.leases = leases;
        this.maintenanceWait = maintenanceWait;
    }

    Result submit(Op op) {
        queue.add(op);
        drain();
        try {
            return op.done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceException(ServiceException.Kind.REPOSITORY_UNAVAILABLE, "The service is stopping; the write may not have been committed.", 30, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Leads while there is work. The queue is looked at again after unlocking: a request queued
     * after the leader's last look but before it let go is then picked up, by it or by the
     * request's own thread.
     */
    private void drain() {
        while (!queue.isEmpty() && leader.tryLock()) {
            try {
                while (!queue.isEmpty()) {
                    runBatch();
                }
            } finally {
                leader.unlock();
            }
        }
    }

    private void runBatch() {
        List<Op> batch = new ArrayList<>();
        for (Op op; batch.size() < 4096 && (op = queue.poll()) != null; ) {
            batch.add(op);
        }
        if (batch.isEmpty()) {
            return;
        }
        long latest = batch.stream().mapToLong(o -> o.deadlineNanos).max().orElse(System.nanoTime());
        Transaction txn;
        try {
            // a compaction step holds the writer only briefly: waiting for it beats failing the write
            txn = repository.begin(Duration.ofNanos(Math.max(0, latest - System.nanoTime())), maintenanceWait);
        } catch (WriterBusyException e) {
            ServiceException locked = new ServiceException(ServiceException.Kind.LOCKED,
                    "Another client's transaction holds this repository's writer.", leases.retryAfterSeconds(), e);
            batch.forEach(o -> o.done.completeExceptionally(locked));
            return;
        } catch (RuntimeException e) {
            batch.forEach(o -> o.done.completeExceptionally(e));
            return;
        }
        List<Op> admitted = new ArrayList<>(batch.size());
        List<Boolean> replaced = new ArrayList<>(batch.size());
        try {
            for (Op op : batch) {
                try {
                    if (op.body != null) {
                        if (!txn.quotaAllows(op.body.length())) {
                            op.done.completeExceptionally(new StorageQuotaExceededException(repository.storageQuota(),
                                    repository.info().quotaUsed() + op.body.length() + 41));
                            continue;
                        }
                        boolean existed = txn.contains(op.id);
                        if (existed && op.refuseOverwrite) {
                            op.done.completeExceptionally(ObjectService.overwriteRefused(op.id));
                            continue;
                        }
                        txn.put(op.id, op.body);
                        replaced.add(existed);
                    } else {
                        txn.delete(op.id);
                        replaced.add(true);
                    }
                    admitted.add(op);
                } catch (ObjectNotFoundException e) {
                    op.done.completeExceptionally(e); // nothing was written for it
                }
            }
            if (admitted.isEmpty()) {
                txn.rollback(); // every request was refused: an empty commit would still be a transaction
                return;
            }
            long tid = txn.commit();
            for (int i = 0; i < admitted.size(); i++) {
                admitted.get(i).done.complete(new Result(tid, replaced.get(i)));
            }
        } catch (RepositoryException | ServiceException e) {
            txn.rollback();
            for (Op op : batch) {
                op.done.completeExceptionally(e);
            }
        } catch (RuntimeException e) {
            txn.rollback();
            for (Op op : batch) {
                op.done.completeExceptionally(e);
            }
            throw e;
        }
    }
}
