package io.segstore.restic;

import io.segstore.engine.ObjectId;
import io.segstore.engine.Repository;
import io.segstore.engine.StorageQuotaExceededException;
import io.segstore.engine.Transaction;
import io.segstore.engine.WriterBusyException;
import io.segstore.engine.format.SegmentFile;
import io.segstore.service.ServiceException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit of restic uploads and deletes in one repository. Each change is committed
 * before it is acknowledged, and changes that arrive while a commit runs share the next one
 * (one COMMIT, one round of fsyncs). A change writes a file's parts and the catalogue bucket
 * that lists it in the same transaction, so a file is visible whole or not at all.
 *
 * <p>Leading: a request that finds no batch running takes the writer, applies every queued
 * change, writes each catalogue bucket they touched once, commits and answers them all; then it
 * lets go, and the requests still waiting take turns. A change is admitted on its own (does the
 * file exist, does it fit the quota) before it writes anything, so one refused change never fails
 * its neighbours; a failure while writing or committing fails the whole batch, which is rolled
 * back, so nothing half-written is ever committed.
 */
final class FileCommitter {

    /** What a request asks for. */
    sealed interface Change permits Save, Remove {
        FileName file();
    }

    /** Store a new file (refused with file-exists if it exists). */
    record Save(FileName file, Upload body) implements Change {
    }

    /** Remove a file; nothing to do when it is absent. */
    record Remove(FileName file) implements Change {
    }

    /** A change refused before it wrote anything: only its own request fails. */
    private static final class Refused extends RuntimeException {
        Refused(RuntimeException cause) {
            super(cause);
        }
    }

    private static final class Pending {
        final Change change;
        final CompletableFuture<Long> done = new CompletableFuture<>();

        Pending(Change change) {
            this.change = change;
        }

        long bytes() {
            return change instanceof Save s ? s.body().length() : 0;
        }
    }

    private static final int MAX_BATCH = 256;
    private static final long MAX_BATCH_BYTES = 512L << 20;

    private final String name;
    private final Repository repository;
    private final Duration lockWait;
    private final Duration maintenanceWait;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock leader = new ReentrantLock();
    private final Object turns = new Object();
    private long generation; // guarded by turns

    FileCommitter(String name, Repository repository, Duration lockWait, Duration maintenanceWait) {
        this.name = name;
        this.repository = repository;
        this.lockWait = lockWait;
        this.maintenanceWait = maintenanceWait;
    }

    Repository repository() {
        return repository;
    }

    /**
     * Applies the change durably; returns the transaction id that committed it, or -1 when
     * there was nothing to write (a remove of a file that does not exist).
     */
    long submit(Change change) {
        Pending p = new Pending(change);
        queue.add(p);
        try {
            while (!p.done.isDone()) {
                long seen;
                synchronized (turns) {
                    seen = generation;
                }
                if (leader.tryLock()) {
                    try {
                        runBatch();
                    } finally {
                        leader.unlock();
                        synchronized (turns) {
                            generation++;
                            turns.notifyAll();
                        }
                    }
                } else {
                    synchronized (turns) {
                        while (generation == seen && !p.done.isDone()) {
                            turns.wait(1000); // woken when the running batch ends
                        }
                    }
                }
            }
            return p.done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceException(ServiceException.Kind.REPOSITORY_UNAVAILABLE,
                    "The service is stopping; the change may not have been committed.", 30, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private void runBatch() {
        List<Pending> batch = new ArrayList<>();
        long bytes = 0;
        for (Pending p; batch.size() < MAX_BATCH && (batch.isEmpty() || bytes < MAX_BATCH_BYTES) && (p = queue.poll()) != null; ) {
            batch.add(p);
            bytes += p.bytes();
        }
        if (batch.isEmpty()) {
            return;
        }
        Transaction txn;
        try {
            txn = repository.begin(lockWait, maintenanceWait);
        } catch (WriterBusyException e) {
            ServiceException locked = new ServiceException(ServiceException.Kind.LOCKED,
                    "Another client's transaction holds the writer of repository " + name + ".", 5, e);
            batch.forEach(p -> p.done.completeExceptionally(locked));
            return;
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done.completeExceptionally(e));
            return;
        }
        Batch work = new Batch(txn);
        try {
            List<Pending> admitted = new ArrayList<>(batch.size());
            List<Boolean> wrote = new ArrayList<>(batch.size());
            for (Pending p : batch) {
                try {
                    wrote.add(work.apply(p.change));
                    admitted.add(p);
                } catch (Refused r) {
                    p.done.completeExceptionally((RuntimeException) r.getCause());
                }
            }
            if (!wrote.contains(true)) {
                txn.rollback(); // nothing to write: no empty commit
                admitted.forEach(p -> p.done.complete(-1L));
                return;
            }
            work.writeBuckets();
            long tid = txn.commit();
            for (int i = 0; i < admitted.size(); i++) {
                admitted.get(i).done.complete(wrote.get(i) ? tid : -1L);
            }
        } catch (RuntimeException e) {
            try {
                txn.rollback();
            } catch (RuntimeException ignored) {
                // the commit's own failure already rolled it back
            }
            batch.forEach(p -> p.done.completeExceptionally(e));
        }
    }

    /** The changes of one transaction, with the catalogue buckets they touched. */
    private final class Batch {
        private final Transaction txn;
        private final Map<Integer, CatalogueBucket> buckets = new HashMap<>();
        private final Map<Integer, CatalogueBucket> dirty = new LinkedHashMap<>();

        Batch(Transaction txn) {
            this.txn = txn;
        }

        private CatalogueBucket bucketOf(FileName file) {
            int number = file.type().bucketOf(file.bytes());
            return buckets.computeIfAbsent(file.type().code() << 16 | number,
                    k -> Catalogue.bucket(repository, txn, file.type(), number));
        }

        private long sizeOf(FileName file) {
            if (!file.type().catalogued()) {
                return txn.size(FileIds.part(file, 0));
            }
            return bucketOf(file).sizeOf(file.bytes());
        }

        /** Applies one change; true if it wrote something. Refused when it is refused before writing. */
        boolean apply(Change change) {
            FileName file = change.file();
            long existing = sizeOf(file);
            if (change instanceof Save save) {
                if (existing >= 0) {
                    throw new Refused(ResticException.exists(name, file));
                }
                long size = save.body().length();
                int parts = FileIds.parts(size);
                long catalogue = file.type().catalogued() ? bucketOf(file).encodedLength() + CatalogueBucket.ENTRY : 0;
                if (!txn.quotaAllows(size + (long) parts * SegmentFile.PUT_HEADER_SIZE + catalogue)) {
                    throw new Refused(new StorageQuotaExceededException(repository.storageQuota(),
                            repository.info().quotaUsed() + size + (long) parts * SegmentFile.PUT_HEADER_SIZE));
                }
                for (int i = 0; i < parts; i++) {
                    txn.put(FileIds.part(file, i), save.body().slice(i * FileIds.PART_SIZE, FileIds.partLength(size, i)));
                }
                if (file.type().catalogued()) {
                    CatalogueBucket b = bucketOf(file);
                    b.add(file.bytes(), size);
                    markDirty(file, b);
                }
                return true;
            }
            if (existing < 0) {
                return false;
            }
            for (int i = 0; i < FileIds.parts(existing); i++) {
                ObjectId part = FileIds.part(file, i);
                if (txn.contains(part)) {
                    txn.delete(part);
                }
            }
            if (file.type().catalogued()) {
                CatalogueBucket b = bucketOf(file);
                b.remove(file.bytes());
                markDirty(file, b);
            }
            return true;
        }

        private void markDirty(FileName file, CatalogueBucket b) {
            dirty.put(file.type().code() << 16 | file.type().bucketOf(file.bytes()), b);
        }

        /** Each touched bucket once: rewritten, or deleted when it emptied. */
        void writeBuckets() {
            for (Map.Entry<Integer, CatalogueBucket> e : dirty.entrySet()) {
                FileType type = typeOf(e.getKey() >>> 16);
                ObjectId id = FileIds.bucket(type, e.getKey() & 0xffff);
                CatalogueBucket b = e.getValue();
                if (b.isEmpty()) {
                    if (txn.contains(id)) {
                        txn.delete(id);
                    }
                } else {
                    txn.put(id, b.encode());
                }
            }
        }
    }

    private static FileType typeOf(int code) {
        for (FileType t : FileType.values()) {
            if (t.code() == code) {
                return t;
            }
        }
        throw new IllegalStateException("no file type " + code);
    }
}
