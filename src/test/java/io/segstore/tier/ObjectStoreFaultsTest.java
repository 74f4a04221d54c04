package io.segstore.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.ObjectNotFoundException;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.RepositoryException;
import io.segstore.engine.Transaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3 faults between the SDK and the store (a proxy in the test injects 500s, connections dropped
 * mid-upload and answers lost to a timeout): retried where they are transient, a failed commit
 * where they are not, and never an acknowledged commit lost or an unacknowledged one visible.
 */
class ObjectStoreFaultsTest {

    @TempDir
    static Path tmp;
    static S3TestServer server;
    static FaultProxy proxy;
    static ObjectStores faulty;
    static ObjectStores direct;
    static final AtomicInteger volumes = new AtomicInteger();

    static S3Properties properties(java.net.URI endpoint) {
        return new S3Properties(Map.of("main", new S3Properties.Store(endpoint, S3TestServer.REGION, "faults", "p",
                S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY, true, Duration.ofSeconds(1), 3)),
                8L << 20, 64 * 1024, 4, Duration.ofSeconds(1), Duration.ofSeconds(30), null, null);
    }

    @BeforeAll
    static void start() throws Exception {
        server = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        server.createBucket("faults");
        proxy = new FaultProxy(server.endpoint());
        faulty = new ObjectStores(properties(proxy.endpoint()), tmp.resolve("faulty"));
        direct = new ObjectStores(properties(server.endpoint()), tmp.resolve("direct"));
    }

    @AfterAll
    static void stop() throws Exception {
        faulty.close();
        direct.close();
        proxy.close();
        server.close();
    }

    static OpenOptions options(S3RepositoryTier tier) {
        return OpenOptions.defaults().withBackgroundCheckpoints(false).withHostId("segstore-test").withTier(tier);
    }

    static Repository create(String name, CreateOptions create) throws Exception {
        Path volume = Files.createDirectories(tmp.resolve("v" + volumes.incrementAndGet()));
        return Repository.create(volume.resolve(name), create, options(faulty.tier("main", name)));
    }

    /** The repository as an instance with an empty volume, talking to the store directly, sees it. */
    static Repository fromBucket(String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("v" + volumes.incrementAndGet())).resolve(name);
        S3RepositoryTier tier = direct.tier("main", name);
        tier.hydrate(dir);
        return Repository.open(dir, options(tier).withReadOnly(true));
    }

    static ObjectId id(int n) {
        byte[] b = new byte[32];
        b[0] = (byte) (n >> 8);
        b[1] = (byte) n;
        b[31] = 7;
        return ObjectId.of(b);
    }

    static byte[] data(int n) {
        byte[] b = new byte[3000 + n];
        new java.util.Random(n).nextBytes(b);
        return b;
    }

    static byte[] large(int n) {
        byte[] b = new byte[40_000];
        new java.util.Random(n).nextBytes(b);
        return b;
    }

    static long commit(Repository repo, int... ids) {
        try (Transaction txn = repo.begin()) {
            for (int i : ids) {
                txn.put(id(i), data(i));
            }
            return txn.commit();
        }
    }

    /**
     * A follower (reading through the faulty proxy) whose reads of another instance's new commit
     * fail part-way (the second of its three segments cannot be read) keeps its state as it was:
     * none of the commit shows, nothing of it half-applied; the next catch-up applies all of it.
     */
    @Test
    void aFollowerWhoseReadsFailWhileCatchingUpShowsNoneOfTheCommitUntilItCanReadAllOfIt() throws Exception {
        Path writerDir = Files.createDirectories(tmp.resolve("v" + volumes.incrementAndGet())).resolve("followed");
        try (Repository writer = Repository.create(writerDir, CreateOptions.defaults().withMaxSegmentSize(100_000),
                options(direct.tier("main", "followed")))) {
            commit(writer, 1);
            Path followerDir = Files.createDirectories(tmp.resolve("v" + volumes.incrementAndGet())).resolve("followed");
            S3RepositoryTier tier = faulty.tier("main", "followed");
            tier.hydrate(followerDir);
            try (Repository follower = Repository.open(followerDir, options(tier).withReadOnly(true))) {
                long before = follower.transactionId();
                java.util.Set<String> old = new java.util.HashSet<>();
                for (ObjectStore.Listed o : direct.store("main").list("followed/data/")) {
                    old.add(o.key());
                }
                try (Transaction txn = writer.begin()) {
                    txn.delete(id(1));
                    for (int i = 10; i < 19; i++) {
                        txn.put(id(i), large(i)); // 40 KB each: several segments of 100 KB
                    }
                    txn.commit();
                }
                java.util.List<Long> added = new java.util.ArrayList<>();
                for (ObjectStore.Listed o : direct.store("main").list("followed/data/")) {
                    if (!old.contains(o.key())) {
                        added.add(Long.parseLong(o.key().substring(o.key().lastIndexOf('/') + 1)));
                    }
                }
                java.util.Collections.sort(added);
                assertTrue(added.size() >= 3, "the commit spans several segments: " + added);
                String unreadable = "/data/0/" + added.get(1);
                for (int attempt = 0; attempt < 3; attempt++) { // every attempt the SDK makes
                    proxy.inject(FaultProxy.Kind.ERROR_500, seen -> seen.method().equals("GET") && seen.path().endsWith(unreadable));
                }
                assertThrows(RepositoryException.class, follower::followCommits);
                assertEquals(before, follower.transactionId(), "the state did not move");
                assertArrayEquals(data(1), follower.get(id(1)), "the commit's delete does not show");
                for (int i = 10; i < 19; i++) {
                    int n = i;
                    assertThrows(ObjectNotFoundException.class, () -> follower.get(id(n)), "no object of the commit shows: " + n);
                }
                assertEquals(Repository.Followed.APPLIED, follower.followCommits());
                assertEquals(writer.transactionId(), follower.transactionId());
                assertThrows(ObjectNotFoundException.class, () -> follower.get(id(1)));
                for (int i = 10; i < 19; i++) {
                    assertArrayEquals(large(i), follower.get(id(i)));
                }
            }
        }
    }

    /**
     * The writer lease is checked before every attempt of a segment upload, not only before the
     * first: when the lease goes while the SDK is about to retry, the retry is never sent and the
     * commit fails with nothing in the bucket.
     */
    @Test
    void anUploadRetryIsNotSentOnceTheWriterLeaseIsGone() throws Exception {
        Path volume = Files.createDirectories(tmp.resolve("v" + volumes.incrementAndGet()));
        java.util.concurrent.atomic.AtomicBoolean leaseHeld = new java.util.concurrent.atomic.AtomicBoolean(true);
        try (Repository repo = Repository.create(volume.resolve("fenced-retry"), CreateOptions.defaults(),
                options(faulty.tier("main", "fenced-retry").fence(leaseHeld::get)))) {
            commit(repo, 1);
            proxy.clearSeen();
            // the first attempt of the next segment upload fails, and the lease is lost meanwhile
            proxy.inject(FaultProxy.Kind.ERROR_500, seen -> {
                boolean segmentPut = seen.method().equals("PUT") && seen.path().contains("/fenced-retry/data/");
                if (segmentPut) {
                    leaseHeld.set(false);
                }
                return segmentPut;
            });
            assertThrows(RepositoryException.class, () -> commit(repo, 2));
            long attempts = proxy.seen().stream().filter(s -> s.method().equals("PUT") && s.path().contains("/fenced-retry/data/")).count();
            assertEquals(1, attempts, "no retry went out without the lease: " + proxy.seen());
        }
        try (Repository copy = fromBucket("fenced-retry")) {
            assertArrayEquals(data(1), copy.get(id(1)));
            assertThrows(ObjectNotFoundException.class, () -> copy.get(id(2)));
        }
    }

    @Test
    void transientErrorsAndAConnectionDroppedMidUploadAreRetriedAndTheCommitStands() throws Exception {
        try (Repository repo = create("retried", CreateOptions.defaults().withMaxSegmentSize(4000))) {
            int before = proxy.injected();
            proxy.inject(FaultProxy.Kind.ERROR_500, FaultProxy.method("PUT", "/retried/data/"));
            proxy.inject(FaultProxy.Kind.DROP_MID_BODY, FaultProxy.method("PUT", "/retried/data/"));
            commit(repo, 1, 2, 3);
            assertEquals(before + 2, proxy.injected(), "both faults met an upload");
        }
        try (Repository seen = fromBucket("retried")) {
            for (int i = 1; i <= 3; i++) {
                assertArrayEquals(data(i), seen.get(id(i)));
            }
        }
    }

    @Test
    void anUploadWhoseAnswerWasLostIsRecognisedAsItsOwnObjectOnRetry() throws Exception {
        try (Repository repo = create("late", CreateOptions.defaults())) {
            int before = proxy.injected();
            // the store creates the segment, the client times out and retries: 412, same bytes, accepted
            proxy.inject(FaultProxy.Kind.ANSWER_LATE, FaultProxy.method("PUT", "/late/data/"));
            commit(repo, 10);
            assertEquals(before + 1, proxy.injected());
            commit(repo, 11);
        }
        try (Repository seen = fromBucket("late")) {
            assertArrayEquals(data(10), seen.get(id(10)));
            assertArrayEquals(data(11), seen.get(id(11)));
        }
    }

    @Test
    void anOutageFailsTheCommitAndNothingUnacknowledgedEverAppears() throws Exception {
        try (Repository repo = create("outage", CreateOptions.defaults())) {
            commit(repo, 20);
            proxy.failAll(true);
            try {
                assertThrows(RepositoryException.class, () -> commit(repo, 21));
            } finally {
                proxy.failAll(false);
            }
            assertThrows(ObjectNotFoundException.class, () -> repo.get(id(21)));
            commit(repo, 22);
            assertArrayEquals(data(22), repo.get(id(22)));
        }
        try (Repository seen = fromBucket("outage")) {
            assertArrayEquals(data(20), seen.get(id(20)));
            assertArrayEquals(data(22), seen.get(id(22)));
            assertThrows(ObjectNotFoundException.class, () -> seen.get(id(21)), "the failed commit never shows");
        }
    }

    @Test
    void aCheckpointThatCannotBeUploadedLeavesTheCommitsStanding() throws Exception {
        try (Repository repo = create("checkpoint", CreateOptions.defaults())) {
            commit(repo, 30);
            for (int i = 0; i < 3; i++) {
                proxy.inject(FaultProxy.Kind.ERROR_500, FaultProxy.method("PUT", "/checkpoint/hints."));
            }
            repo.checkpointNow(); // logged, not thrown
            commit(repo, 31);
        }
        try (Repository seen = fromBucket("checkpoint")) {
            assertArrayEquals(data(30), seen.get(id(30)));
            assertArrayEquals(data(31), seen.get(id(31)));
        }
    }

    @Test
    void compactionInterruptedByFailingDeletesLeavesARepositoryThatOpensWithEverything() throws Exception {
        try (Repository repo = create("compacted", CreateOptions.defaults().withMaxSegmentSize(4000))) {
            for (int i = 40; i < 46; i++) {
                commit(repo, i);
            }
            try (Transaction txn = repo.begin()) {
                txn.delete(id(40));
                txn.delete(id(42));
                txn.commit();
            }
            for (int i = 0; i < 3; i++) {
                proxy.inject(FaultProxy.Kind.ERROR_500, FaultProxy.method("DELETE", "/compacted/data/"));
            }
            try {
                repo.compact(0.0, ProgressListener.NONE);
            } catch (RepositoryException e) {
                // the deletes failed after the commit: the new segments hold every live object
            }
        }
        try (Repository seen = fromBucket("compacted")) {
            for (int i : new int[] {41, 43, 44, 45}) {
                assertArrayEquals(data(i), seen.get(id(i)));
            }
            assertThrows(ObjectNotFoundException.class, () -> seen.get(id(40)));
            assertTrue(seen.check(io.segstore.engine.CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void anAppendOnlyRepositoryNeverSendsADelete() throws Exception {
        proxy.clearSeen();
        try (Repository repo = create("appendonly", CreateOptions.defaults().withAppendOnly(true).withMaxSegmentSize(4000))) {
            for (int i = 50; i < 55; i++) {
                commit(repo, i);
            }
            try (Transaction txn = repo.begin()) {
                txn.delete(id(50));
                txn.put(id(51), data(99));
                txn.commit();
            }
            repo.compact(0.0, ProgressListener.NONE);
            repo.checkpointNow();
            commit(repo, 56);
            repo.checkpointNow();
        }
        assertEquals(0, FaultProxy.deletes(proxy.seen()).size(), "DELETE requests: " + FaultProxy.deletes(proxy.seen()));
        try (Repository seen = fromBucket("appendonly")) {
            assertArrayEquals(data(99), seen.get(id(51)));
            assertArrayEquals(data(56), seen.get(id(56)));
        }
    }

    @Test
    void compactionUploadsItsSegmentsAndCheckpointBeforeDeletingTheReplacedOnes() throws Exception {
        try (Repository repo = create("ordered", CreateOptions.defaults().withMaxSegmentSize(4000))) {
            for (int i = 60; i < 66; i++) {
                commit(repo, i);
            }
            try (Transaction txn = repo.begin()) {
                txn.delete(id(60));
                txn.delete(id(62));
                txn.commit();
            }
            proxy.clearSeen();
            repo.compact(0.0, ProgressListener.NONE);
        }
        java.util.List<FaultProxy.Seen> seen = proxy.seen().stream().filter(r -> r.path().contains("/ordered/")).toList();
        // each step: its new segments, then its checkpoint, then the deletes of the segments it replaced
        int deletes = 0;
        String lastPut = null;
        boolean segmentPutBefore = false;
        for (FaultProxy.Seen r : seen) {
            if (r.method().equals("PUT") && r.path().contains("/data/")) {
                lastPut = "segment";
                segmentPutBefore = true;
            } else if (r.method().equals("PUT") && r.path().contains("/integrity.")) {
                lastPut = "checkpoint";
            } else if (r.method().equals("DELETE") && r.path().contains("/data/")) {
                deletes++;
                assertTrue(segmentPutBefore && "checkpoint".equals(lastPut), "a replaced segment went before the new segments' "
                        + "checkpoint was in the bucket: " + seen);
            }
        }
        assertTrue(deletes > 0, "compaction deleted replaced segments: " + seen);
        try (Repository seenFromBucket = fromBucket("ordered")) {
            assertArrayEquals(data(65), seenFromBucket.get(id(65)));
            assertThrows(ObjectNotFoundException.class, () -> seenFromBucket.get(id(62)));
        }
    }
}
