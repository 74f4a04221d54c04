package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readers next to a writer, many writers in one transaction, reads during compaction. */
class ConcurrencyTest {

    @TempDir
    Path tmp;

    private static byte[] versioned(long generation, int id) {
        ByteBuffer b = ByteBuffer.allocate(16 + id % 200);
        b.putLong(generation).putLong(id);
        return b.array();
    }

    private static long generationOf(byte[] data) {
        return ByteBuffer.wrap(data).getLong();
    }

    @Test
    void readersSeeOnlyCommittedGenerationsAndEachCommitAtOnce() throws Exception {
        int ids = 500;
        try (Repository repo = TestRepositories.create(tmp.resolve("r"))) {
            try (Transaction t = repo.begin()) {
                for (int i = 0; i < ids; i++) {
                    t.put(Ids.h2(i), versioned(0, i));
                }
                t.commit();
            }
            AtomicLong completed = new AtomicLong(0);
            AtomicLong inFlight = new AtomicLong(0);
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<String> failure = new AtomicReference<>();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int seed = r;
                readers.add(pool.submit(() -> {
                    int i = seed;
                    while (!done.get() && failure.get() == null) {
                        i = (i + 7) % ids;
                        long lo = completed.get();
                        long first = generationOf(repo.get(Ids.h2(i)));
                        long last = generationOf(repo.get(Ids.h2(ids - 1 - i)));
                        long hi = inFlight.get();
                        if (first < lo || first > hi) {
                            failure.compareAndSet(null, "read generation " + first + " outside [" + lo + ", " + hi + "]");
                        }
                        if (last < first) {
                            failure.compareAndSet(null, "saw generation " + first + " of one object, then " + last
                                    + " of another written in the same commit");
                        }
                    }
                    return null;
                }));
            }
            for (long g = 1; g <= 40; g++) {
                try (Transaction t = repo.begin()) {
                    for (int i = 0; i < ids; i++) {
                        t.put(Ids.h2(i), versioned(g, i));
                    }
                    inFlight.set(g);
                    t.commit();
                    completed.set(g);
                }
            }
            done.set(true);
            for (Future<?> f : readers) {
                f.get();
            }
            pool.shutdown();
            assertNull(failure.get());
            for (int i = 0; i < ids; i++) {
                assertEquals(40, generationOf(repo.get(Ids.h2(i))));
            }
        }
    }

    @Test
    void committedReadsDoNotWaitForTheWriter() throws Exception {
        try (Repository repo = TestRepositories.create(tmp.resolve("r"))) {
            try (Transaction t = repo.begin()) {
                t.put(Ids.h(1), Ids.bytes("committed"));
                t.commit();
            }
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread writer = new Thread(() -> {
                repo.writeLock.lock();
                try {
                    holding.countDown();
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    repo.writeLock.unlock();
                }
            });
            writer.start();
            holding.await();
            try {
                // the write lock is held for as long as this runs: a read that needed it would hang
                assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                    assertArrayEquals(Ids.bytes("committed"), repo.get(Ids.h(1)));
                    assertTrue(repo.contains(Ids.h(1)));
                    assertEquals(9, repo.size(Ids.h(1)));
                    assertEquals(List.of(Ids.h(1)), repo.list(10, null));
                });
            } finally {
                release.countDown();
                writer.join();
            }
        }
    }

    @Test
    void manyThreadsPutIntoOneTransaction() throws Exception {
        int threads = 4;
        int each = 3_000;
        Path dir = tmp.resolve("r");
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(1 << 20))) {
            Transaction t = repo.begin();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Callable<Void>> work = new ArrayList<>();
            for (int w = 0; w < threads; w++) {
                int base = w * each;
                work.add(() -> {
                    for (int i = base; i < base + each; i++) {
                        t.put(Ids.h2(i), versioned(1, i));
                        assertArrayEquals(versioned(1, i), t.get(Ids.h2(i)), "a transaction reads its own writes");
                    }
                    return null;
                });
            }
            for (Future<Void> f : pool.invokeAll(work)) {
                f.get();
            }
            pool.shutdown();
            assertEquals(0, repo.objectCount(), "nothing is visible before the commit");
            t.commit();
            assertEquals((long) threads * each, repo.objectCount());
        }
        try (Repository repo = TestRepositories.open(dir)) {
            for (int i = 0; i < threads * each; i++) {
                assertArrayEquals(versioned(1, i), repo.get(Ids.h2(i)));
            }
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void compactionNeverMakesAConcurrentReadFail() throws Exception {
        int ids = 3_000;
        try (Repository repo = TestRepositories.create(tmp.resolve("r"), CreateOptions.defaults().withMaxSegmentSize(64 * 1024))) {
            try (Transaction t = repo.begin()) {
                for (int i = 0; i < ids; i++) {
                    t.put(Ids.h2(i), versioned(7, i));
                }
                t.commit();
            }
            try (Transaction t = repo.begin()) {
                for (int i = 0; i < ids; i += 3) {
                    t.delete(Ids.h2(i));
                }
                t.commit();
            }
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong reads = new AtomicLong();
            Thread reader = new Thread(() -> {
                int i = 1;
                while (!done.get() || reads.get() < 10_000) {
                    i = (i + 13) % ids;
                    if (i % 3 == 0) {
                        continue;
                    }
                    try {
                        byte[] got = repo.get(Ids.h2(i));
                        if (generationOf(got) != 7 || got.length != 16 + i % 200) {
                            failure.compareAndSet(null, new AssertionError("object " + i + " came back wrong"));
                        }
                        reads.incrementAndGet();
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                }
            });
            reader.start();
            CompactionResult result = repo.compact(0.0, ProgressListener.NONE);
            done.set(true);
            reader.join();
            assertNull(failure.get(), () -> "a read failed during compaction: " + failure.get());
            assertTrue(result.segmentsCompacted() > 10, "compaction did real work: " + result);
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void closingWhileWritersAndReadersRunLosesNoAcknowledgedCommit() throws Exception {
        Path dir = tmp.resolve("r");
        java.util.Set<ObjectId> acknowledged = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.Set<ObjectId> attempted = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch enoughCommits = new CountDownLatch(40);
        AtomicLong next = new AtomicLong();
        Repository repo = TestRepositories.create(dir);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> running = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            running.add(pool.submit(() -> {
                while (true) {
                    long i = next.incrementAndGet();
                    ObjectId id = Ids.h2((int) i);
                    try (Transaction t = repo.begin(Duration.ofSeconds(30))) {
                        attempted.add(id);
                        t.put(id, Ids.bytes("object " + i));
                        t.commit();
                        acknowledged.add(id);
                        enoughCommits.countDown();
                    } catch (RepositoryClosedException | TransactionStateException e) {
                        return; // the repository closed under this writer: what it did not commit is rolled back
                    } catch (Throwable e) {
                        unexpected.add(e);
                        return;
                    }
                }
            }));
        }
        running.add(pool.submit(() -> {
            while (true) {
                try {
                    for (ObjectId id : acknowledged) {
                        repo.get(id);
                    }
                } catch (RepositoryClosedException e) {
                    return;
                } catch (Throwable e) {
                    unexpected.add(e);
                    return;
                }
            }
        }));
        enoughCommits.await();
        repo.close();
        for (Future<?> f : running) {
            f.get();
        }
        pool.shutdown();
        assertEquals(List.of(), unexpected, "only \"closed\" errors may reach the threads");
        try (Repository reopened = TestRepositories.open(dir)) {
            for (ObjectId id : acknowledged) {
                assertTrue(reopened.contains(id), "acknowledged commit of " + id + " survives the close");
            }
            for (ObjectId id : reopened.list(100_000, null)) {
                assertTrue(attempted.contains(id), "nothing but what was written appears");
            }
            assertTrue(reopened.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void aWriterMayWaitForAMaintenanceStepWithoutWaitingForAClient() throws Exception {
        try (Repository repo = TestRepositories.create(tmp.resolve("r"))) {
            Transaction client = repo.begin();
            org.junit.jupiter.api.Assertions.assertThrows(WriterBusyException.class,
                    () -> repo.begin(Duration.ZERO, Duration.ofSeconds(30)), "a client's transaction is not waited for");
            client.rollback();

            Transaction step = repo.beginMaintenance(Duration.ZERO);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<Transaction> waiter = pool.submit(() -> repo.begin(Duration.ZERO, Duration.ofSeconds(30)));
                while (repo.writersWaiting() == 0) {
                    assertTrue(!waiter.isDone(), "the writer did not wait for the maintenance step");
                    Thread.onSpinWait();
                }
                repo.endMaintenance(step);
                Transaction t = waiter.get();
                t.put(Ids.h(1), Ids.bytes("after the step"));
                t.commit();
                assertArrayEquals(Ids.bytes("after the step"), repo.get(Ids.h(1)));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void twoCompactionsAtOnceFreeEachSegmentOnce() throws Exception {
        Path dir = tmp.resolve("r");
        RepositoryInfo compacted;
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(16 * 1024))) {
            for (int round = 0; round < 6; round++) {
                try (Transaction t = repo.begin()) {
                    for (int i = 0; i < 40; i++) {
                        t.put(Ids.h2(round * 40 + i), new byte[700]);
                    }
                    t.commit();
                }
            }
            for (int i = 0; i < 240; i += 2) {
                try (Transaction t = repo.begin()) {
                    t.delete(Ids.h2(i));
                    t.commit();
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(2);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<CompactionResult>> runs = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                runs.add(pool.submit(() -> {
                    go.await();
                    return repo.compact(0.0, ProgressListener.NONE);
                }));
            }
            go.countDown();
            long freed = 0;
            for (Future<CompactionResult> f : runs) {
                freed += f.get().bytesFreed();
            }
            pool.shutdown();
            assertTrue(freed > 0);
            compacted = repo.info();
            assertTrue(compacted.quotaUsed() >= 120 * 700, "quota use counts every live object: " + compacted);
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
        TestRepositories.removeCheckpoints(dir);
        try (Repository rebuilt = TestRepositories.open(dir)) {
            assertEquals(rebuilt.info().quotaUsed(), compacted.quotaUsed(), "the accounting agrees with a rebuild from the log");
            assertEquals(rebuilt.info().sparseBytes(), compacted.sparseBytes());
        }
    }
}
