package io.segstore.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import io.segstore.engine.RepositoryAlreadyExistsException;
import io.segstore.engine.Transaction;
import io.segstore.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine with its segments in a bucket (s3proxy in process): Borg's layout under the prefix,
 * commits acknowledged only once uploaded, reads through the cache, checkpoints in the bucket,
 * and an instance with an empty volume serving the repository from its newest checkpoint.
 */
class RepositoryInBucketTest {

    @TempDir
    static Path tmp;
    static S3TestServer server;
    static ObjectStores stores;
    static S3Properties properties;

    @BeforeAll
    static void start() throws Exception {
        server = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        server.createBucket("backups");
        S3Properties p = properties = new S3Properties(Map.of("main", new S3Properties.Store(server.endpoint(), S3TestServer.REGION, "backups",
                "segstore", S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY, true, Duration.ofSeconds(5), 3)),
                8L << 20, 64 * 1024, 4, Duration.ofSeconds(1), Duration.ofSeconds(30), null, null);
        stores = new ObjectStores(p, tmp.resolve("instance"));
        stores.verifyConditionalWrites();
    }

    @AfterAll
    static void stop() throws Exception {
        stores.close();
        server.close();
    }

    static OpenOptions options(S3RepositoryTier tier) {
        return OpenOptions.defaults().withBackgroundCheckpoints(false).withHostId("segstore-test").withTier(tier);
    }

    static ObjectId id(String name) throws Exception {
        return ObjectId.of(MessageDigest.getInstance("SHA-256").digest(name.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    static byte[] data(int n, int seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static Set<String> keys(String prefix) throws Exception {
        Set<String> out = new TreeSet<>();
        for (ObjectStore.Listed l : stores.store("main").list(prefix)) {
            out.add(l.key());
        }
        return out;
    }

    static long localSegments(Path repo) throws Exception {
        try (Stream<Path> s = Files.walk(repo.resolve("data"))) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    /**
     * A writer whose lease is gone (the fence says no) changes nothing in the bucket: no commit,
     * and no nonce or config, so a successor's nonce can never be put back to an older value.
     */
    @Test
    void writerWithoutItsLeaseCommitsNothingAndLeavesTheNonceAlone() throws Exception {
        Path dir = tmp.resolve("volume-f").resolve("fenced");
        Files.createDirectories(dir.getParent());
        java.util.concurrent.atomic.AtomicBoolean leaseHeld = new java.util.concurrent.atomic.AtomicBoolean(true);
        S3RepositoryTier tier = stores.tier("main", "fenced").fence(leaseHeld::get);
        try (Repository repo = Repository.create(dir, CreateOptions.defaults(), options(tier))) {
            repo.commitNonceReservation(1000, null);
            byte[] nonceBefore = stores.store("main").get("fenced/nonce").data();
            leaseHeld.set(false);
            assertThrows(RuntimeException.class, () -> repo.commitNonceReservation(2000, 1000L));
            assertArrayEquals(nonceBefore, stores.store("main").get("fenced/nonce").data(), "the bucket's nonce did not move");
            try (Transaction txn = repo.begin()) {
                txn.put(id("fenced"), data(100, 1));
                assertThrows(RuntimeException.class, txn::commit);
            }
            assertTrue(keys("fenced/data/").isEmpty(), "no segment reached the bucket: " + keys("fenced/data/"));
        }
    }

    /**
     * A commit that fails (here: the lease is gone) leaves its segment number unused for good: the
     * next commit takes a higher one, so a name in the bucket never stands for two objects.
     */
    @Test
    void aFailedCommitsSegmentNumberIsNeverGivenAgain() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("volume-n")).resolve("numbers");
        java.util.concurrent.atomic.AtomicBoolean leaseHeld = new java.util.concurrent.atomic.AtomicBoolean(true);
        try (Repository repo = Repository.create(dir, CreateOptions.defaults(),
                options(stores.tier("main", "numbers").fence(leaseHeld::get)))) {
            try (Transaction txn = repo.begin()) {
                txn.put(id("n1"), data(100, 1));
                txn.commit();
            }
            long first = repo.transactionId();
            leaseHeld.set(false);
            try (Transaction txn = repo.begin()) {
                txn.put(id("n2"), data(100, 2));
                assertThrows(RuntimeException.class, txn::commit);
            }
            leaseHeld.set(true);
            try (Transaction txn = repo.begin()) {
                txn.put(id("n3"), data(100, 3));
                txn.commit();
            }
            assertTrue(repo.transactionId() > first + 1, "the failed commit's number " + (first + 1) + " is skipped: "
                    + repo.transactionId());
            assertFalse(keys("numbers/data/").contains("numbers/data/0/" + (first + 1)), keys("numbers/data/").toString());
            assertArrayEquals(data(100, 3), repo.get(id("n3")));
        }
    }

    @Test
    void committedSegmentsAndCheckpointsLiveInTheBucketInBorgsLayout() throws Exception {
        Path dir = tmp.resolve("volume-a").resolve("layout");
        Files.createDirectories(dir.getParent());
        S3RepositoryTier tier = stores.tier("main", "layout");
        try (Repository repo = Repository.create(dir, CreateOptions.defaults().withMaxSegmentSize(100_000), options(tier))) {
            for (int t = 0; t < 3; t++) {
                try (Transaction txn = repo.begin()) {
                    for (int i = 0; i < 5; i++) {
                        txn.put(id("o" + t + "-" + i), data(40_000, t * 10 + i));
                    }
                    txn.commit();
                }
                assertEquals(0, localSegments(dir), "once acknowledged, every segment of the commit is in the bucket");
            }
            for (int t = 0; t < 3; t++) {
                for (int i = 0; i < 5; i++) {
                    assertArrayEquals(data(40_000, t * 10 + i), repo.get(id("o" + t + "-" + i)));
                }
            }
            repo.checkpointNow();
        }
        Set<String> keys = keys("layout/");
        assertTrue(keys.containsAll(List.of("layout/README", "layout/config")), keys.toString());
        long segments = keys.stream().filter(k -> k.startsWith("layout/data/0/")).count();
        assertTrue(segments >= 6, "data segments and commit segments: " + keys);
        long tid = keys.stream().filter(k -> k.startsWith("layout/index.")).mapToLong(k -> Long.parseLong(k.substring("layout/index.".length())))
                .max().orElseThrow();
        for (String f : List.of("hints.", "integrity.", "segstore-index.")) {
            assertTrue(keys.contains("layout/" + f + tid), "checkpoint file " + f + tid + " in " + keys);
        }
        assertEquals(1, keys.stream().filter(k -> k.startsWith("layout/index.")).count(), "older checkpoints are removed: " + keys);
        assertTrue(keys.contains("layout/data/0/" + tid), "the newest commit segment: " + keys);
    }

    @Test
    void aSecondCreateOfTheSameNameInTheBucketIsRefused() throws Exception {
        Path one = Files.createDirectories(tmp.resolve("volume-b"));
        Path two = Files.createDirectories(tmp.resolve("volume-c"));
        Repository.create(one.resolve("twice"), CreateOptions.defaults(), options(stores.tier("main", "twice"))).close();
        assertThrows(RepositoryAlreadyExistsException.class,
                () -> Repository.create(two.resolve("twice"), CreateOptions.defaults(), options(stores.tier("main", "twice"))));
    }

    /**
     * An instance following another one's repository (open read-only on its own volume) applies
     * the writer's new commits to its open state in place: reads see them, a listing keeps its
     * place, a transaction still being written is not applied, and only once a compaction's
     * replaced segments are deleted from the bucket does it need to open the repository again.
     */
    @Test
    void aFollowerAppliesAnotherInstancesCommitsInPlaceUntilACompactionDeletesSegments() throws Exception {
        Path writerDir = Files.createDirectories(tmp.resolve("volume-w")).resolve("followed");
        Path followerDir = Files.createDirectories(tmp.resolve("volume-r")).resolve("followed");
        // two instances, each with its own cache; the writer keeps replaced segments for a long while
        ObjectStores elsewhere = new ObjectStores(properties, tmp.resolve("instance-r"));
        ObjectStores holder = new ObjectStores(properties.withDeleteDelay(Duration.ofHours(1)), tmp.resolve("instance-w"));
        try (Repository writer = Repository.create(writerDir, CreateOptions.defaults(), options(holder.tier("main", "followed")))) {
            try (Transaction txn = writer.begin()) {
                for (int i = 0; i < 20; i++) {
                    txn.put(id("first-" + i), data(500, i));
                }
                txn.commit();
            }
            S3RepositoryTier tier = elsewhere.tier("main", "followed");
            tier.hydrate(followerDir);
            try (Repository follower = Repository.open(followerDir, options(tier).withReadOnly(true))) {
                assertEquals(20, follower.objectCount());
                assertEquals(Repository.Followed.UNCHANGED, follower.followCommits());
                List<ObjectId> page = follower.list(7, null);

                try (Transaction txn = writer.begin()) {
                    txn.put(id("second"), data(700, 99));
                    txn.delete(id("first-0"));
                    txn.commit();
                }
                assertEquals(Repository.Followed.APPLIED, follower.followCommits());
                assertEquals(writer.transactionId(), follower.transactionId());
                assertArrayEquals(data(700, 99), follower.get(id("second")));
                assertThrows(io.segstore.engine.ObjectNotFoundException.class, () -> follower.get(id("first-0")));
                Set<ObjectId> listed = new java.util.HashSet<>(page);
                for (List<ObjectId> next = follower.list(7, page.get(page.size() - 1)); !next.isEmpty();
                     next = follower.list(7, next.get(next.size() - 1))) {
                    listed.addAll(next);
                }
                assertTrue(listed.contains(id("first-19")) && listed.size() >= 19, "the listing went on where it was: " + listed.size());

                // a segment of a transaction not committed yet (put there by hand, as if mid-commit:
                // valid entries without a COMMIT, far above the writer's numbers) is not applied
                byte[] lastCommitted = stores.store("main").get("followed/data/0/" + writer.transactionId()).data();
                String pendingKey = "followed/data/0/" + (writer.transactionId() + 50);
                stores.store("main").create(pendingKey, java.util.Arrays.copyOf(lastCommitted, lastCommitted.length - 9));
                long before = follower.transactionId();
                assertEquals(Repository.Followed.UNCHANGED, follower.followCommits());
                assertEquals(before, follower.transactionId());
                try (Transaction txn = writer.begin()) {
                    txn.put(id("third"), data(300, 3));
                    txn.commit();
                }
                assertEquals(Repository.Followed.APPLIED, follower.followCommits(), "a commit below the pending segment is applied");
                assertEquals(writer.transactionId(), follower.transactionId());
                assertArrayEquals(data(300, 3), follower.get(id("third")));
                stores.store("main").delete(pendingKey); // as the next holder's recovery would

                // a compaction: its commit is applied in place while the replaced segments still exist ...
                try (Transaction txn = writer.begin()) {
                    for (int i = 1; i < 20; i++) {
                        txn.delete(id("first-" + i));
                    }
                    txn.commit();
                }
                Set<String> beforeCompaction = keys("followed/data/");
                writer.compact(0.0, io.segstore.engine.ProgressListener.NONE);
                writer.checkpointNow();
                assertTrue(keys("followed/data/").containsAll(beforeCompaction), "replaced segments stay for the delete delay");
                assertEquals(Repository.Followed.APPLIED, follower.followCommits());
                assertArrayEquals(data(700, 99), follower.get(id("second")));
                assertArrayEquals(data(300, 3), follower.get(id("third")));
                // ... and once a segment it stands on is deleted (the first, all of whose objects
                // are gone: what the delay ends in), the follower must open the repository again
                stores.store("main").delete("followed/data/0/" + beforeCompaction.stream()
                        .mapToLong(k -> Long.parseLong(k.substring(k.lastIndexOf('/') + 1))).min().orElseThrow());
                assertEquals(Repository.Followed.REOPEN, follower.followCommits());
            }
            tier.refreshLocal(followerDir);
            try (Repository reopened = Repository.open(followerDir, options(elsewhere.tier("main", "followed")).withReadOnly(true))) {
                assertEquals(2, reopened.objectCount());
                assertArrayEquals(data(700, 99), reopened.get(id("second")));
                assertArrayEquals(data(300, 3), reopened.get(id("third")));
            }
        } finally {
            elsewhere.close();
            holder.close();
        }
    }

    /**
     * A follower whose repository is damaged in the bucket (check needed) does not open it again
     * at every refresh, only when the writer adds segments.
     */
    @Test
    void aFollowerOfADamagedRepositoryOpensItAgainOnlyWhenTheWriterAddsSegments() throws Exception {
        Path writerDir = Files.createDirectories(tmp.resolve("volume-dw")).resolve("damaged");
        Path followerDir = Files.createDirectories(tmp.resolve("volume-dr")).resolve("damaged");
        try (Repository writer = Repository.create(writerDir, CreateOptions.defaults(), options(stores.tier("main", "damaged")));
             ObjectStores elsewhere = new ObjectStores(properties, tmp.resolve("instance-dr"))) {
            for (int t = 0; t < 2; t++) {
                try (Transaction txn = writer.begin()) {
                    txn.put(id("dmg" + t), data(5000, t));
                    txn.commit();
                }
            }
            String last = "damaged/data/0/" + writer.transactionId();
            byte[] bytes = stores.store("main").get(last).data();
            bytes[bytes.length / 2] ^= 0x40;
            stores.store("main").put(last, bytes);
            S3RepositoryTier tier = elsewhere.tier("main", "damaged");
            tier.hydrate(followerDir);
            try (Repository follower = Repository.open(followerDir, options(tier).withReadOnly(true))) {
                assertTrue(follower.checkNeeded() != null, "the damaged committed segment is noticed");
                assertEquals(Repository.Followed.UNCHANGED, follower.followCommits());
                assertEquals(Repository.Followed.UNCHANGED, follower.followCommits());
                try (Transaction txn = writer.begin()) {
                    txn.put(id("dmg-later"), data(100, 9));
                    txn.commit();
                }
                assertEquals(Repository.Followed.REOPEN, follower.followCommits(), "something new: worth opening again");
            }
        }
    }

    /** With a short delete delay, compaction's replaced segments leave the bucket after the next checkpoint. */
    @Test
    void replacedSegmentsLeaveTheBucketOnceTheDeleteDelayAfterACheckpointHasPassed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("volume-x")).resolve("delayed");
        try (ObjectStores holder = new ObjectStores(properties.withDeleteDelay(Duration.ofMillis(300)), tmp.resolve("instance-x"));
             Repository repo = Repository.create(dir, CreateOptions.defaults(), options(holder.tier("main", "delayed")))) {
            for (int t = 0; t < 3; t++) {
                try (Transaction txn = repo.begin()) {
                    txn.put(id("d" + t), data(2000, t));
                    txn.commit();
                }
            }
            try (Transaction txn = repo.begin()) {
                txn.delete(id("d0"));
                txn.delete(id("d1"));
                txn.commit();
            }
            Set<String> before = keys("delayed/data/");
            repo.compact(0.0, io.segstore.engine.ProgressListener.NONE);
            repo.checkpointNow();
            Poll.until("replaced segments deleted after the delay", Duration.ofSeconds(30), () -> {
                try {
                    return !keys("delayed/data/").containsAll(before);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(holder.metrics().deletes() > 0);
            assertArrayEquals(data(2000, 2), repo.get(id("d2")));
        }
    }

    @Test
    void anInstanceWithAnEmptyVolumeServesTheRepositoryFromItsNewestCheckpoint() throws Exception {
        Path first = Files.createDirectories(tmp.resolve("volume-d")).resolve("moving");
        try (Repository repo = Repository.create(first, CreateOptions.defaults(), options(stores.tier("main", "moving")))) {
            try (Transaction txn = repo.begin()) {
                txn.put(id("before"), data(1000, 1));
                txn.commit();
            }
            repo.checkpointNow();
            try (Transaction txn = repo.begin()) {
                txn.put(id("after"), data(1000, 2));
                txn.delete(id("before"));
                txn.commit();
            }
            // no close: as if the instance was lost; its volume goes with it
        }
        Path second = Files.createDirectories(tmp.resolve("volume-e")).resolve("moving");
        ObjectStores elsewhere = new ObjectStores(properties, tmp.resolve("volume-e")); // another instance: its own cache
        S3RepositoryTier tier = elsewhere.tier("main", "moving");
        tier.hydrate(second);
        assertFalse(Files.exists(second.resolve("data").resolve("0")), "no segment is fetched whole");
        try (Repository repo = Repository.open(second, options(tier))) {
            assertEquals(1, repo.objectCount());
            assertArrayEquals(data(1000, 2), repo.get(id("after")));
            assertThrows(io.segstore.engine.ObjectNotFoundException.class, () -> repo.get(id("before")));
            try (Transaction txn = repo.begin()) {
                txn.put(id("third"), data(10, 3));
                txn.commit();
            }
        }
        assertTrue(elsewhere.cache().misses() > 0, "reads went to the bucket");
        assertTrue(elsewhere.cache().bytesFetched() > 0);
        elsewhere.close();
    }

    @Test
    void aRepositoryCreatedAgainUnderADestroyedOnesNameIsNotServedTheOldBlocks() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("volume-h")).resolve("again");
        for (int seed = 8; seed <= 9; seed++) {
            // the same segment keys each time: only the cache could mix them up
            try (Repository repo = Repository.create(dir, CreateOptions.defaults(), options(stores.tier("main", "again")))) {
                try (Transaction txn = repo.begin()) {
                    txn.put(id("x"), data(1000, seed));
                    txn.commit();
                }
                assertArrayEquals(data(1000, seed), repo.get(id("x")));
                repo.destroy();
            }
        }
    }

    @Test
    void aSmallCommitIsOneConditionalUploadOfTheSegmentEndingInItsCommit() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("volume-f")).resolve("small");
        try (Repository repo = Repository.create(dir, CreateOptions.defaults(), options(stores.tier("main", "small")))) {
            long before = stores.metrics().uploads();
            long tid;
            try (Transaction txn = repo.begin()) {
                txn.put(id("tiny"), data(100, 5));
                tid = txn.commit();
            }
            assertEquals(before + 1, stores.metrics().uploads(), "one PUT for the commit");
            assertTrue(keys("small/data/").contains("small/data/0/" + tid));
            assertArrayEquals(data(100, 5), repo.get(id("tiny")));
        }
    }

    @Test
    void aCommittedLookingSegmentLeftOnTheVolumeButNeverUploadedIsDiscardedAtOpen() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("volume-g")).resolve("crashed");
        long tid;
        try (Repository repo = Repository.create(dir, CreateOptions.defaults(), options(stores.tier("main", "crashed")))) {
            try (Transaction txn = repo.begin()) {
                txn.put(id("acknowledged"), data(100, 7));
                tid = txn.commit();
            }
        }
        // what a process killed after writing its COMMIT locally but before the upload leaves behind
        byte[] payload = data(200, 8);
        byte[] lost = id("never acknowledged").toBytes();
        java.nio.ByteBuffer segment = java.nio.ByteBuffer.allocate(8 + 41 + payload.length + 9).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        segment.put(io.segstore.engine.format.SegmentFile.MAGIC);
        java.util.zip.CRC32 crc = io.segstore.engine.format.SegmentFile.putCrcStart(lost, payload.length);
        crc.update(payload);
        io.segstore.engine.format.SegmentFile.writePutHeader(segment, (int) crc.getValue(), lost, payload.length);
        segment.put(payload).put(io.segstore.engine.format.SegmentFile.commitEntry());
        Path leftover = dir.resolve("data").resolve("0").resolve(Long.toString(tid + 1));
        Files.createDirectories(leftover.getParent());
        Files.write(leftover, java.util.Arrays.copyOf(segment.array(), segment.position()));

        try (Repository repo = Repository.open(dir, options(stores.tier("main", "crashed")))) {
            assertEquals(tid, repo.transactionId(), "the bucket is the truth: the local COMMIT was never acknowledged");
            assertThrows(io.segstore.engine.ObjectNotFoundException.class, () -> repo.get(id("never acknowledged")));
            assertArrayEquals(data(100, 7), repo.get(id("acknowledged")));
            assertFalse(Files.exists(leftover));
        }
    }
}
