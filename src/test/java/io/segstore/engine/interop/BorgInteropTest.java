package io.segstore.engine.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.CreateOptions;
import io.segstore.engine.Ids;
import io.segstore.engine.LockTimeoutException;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.TestRepositories;
import io.segstore.engine.Transaction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine against the real Borg 1.2: repositories written by one are read, checked and
 * written further by the other, and the two respect each other's locks. Objects are compared by
 * size and SHA-256 per id; Borg's side must also log no warning, because Borg repairs a bad
 * index or hints file silently (a warning and a rebuild) instead of failing.
 */
class BorgInteropTest {

    /** Borg's largest data size: a 20 MiB entry minus the 41-byte PUT header. */
    private static final int MAX_DATA = 20 * 1024 * 1024 - 41;

    @TempDir
    Path tmp;

    @BeforeAll
    static void borgIsInstalled() {
        Borg.requireInstalled();
    }

    // ---- engine writes, Borg reads -------------------------------------------------------

    @Test
    void engineWritesBorgReads() {
        Path dir = tmp.resolve("repo");
        Random rnd = new Random(1);
        Expected expected = new Expected();
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(16 * 1024).withSegmentsPerDir(4))) {
            List<ObjectId> ids = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                ids.add(Ids.h2(i));
            }
            // 1: the manifest, an empty object, small ones, ~1 MiB and one of the largest size Borg allows
            try (Transaction t = repo.begin()) {
                expected.put(t, ObjectId.MANIFEST, random(rnd, 200));
                expected.put(t, ids.get(0), new byte[0]);
                for (int i = 1; i < 50; i++) {
                    expected.put(t, ids.get(i), random(rnd, rnd.nextInt(1, 6000)));
                }
                expected.put(t, ids.get(50), random(rnd, 1024 * 1024 + 17));
                expected.put(t, ids.get(51), random(rnd, MAX_DATA));
                t.commit();
            }
            // 2: deletes and overwrites (of small objects and of the 1 MiB one)
            try (Transaction t = repo.begin()) {
                for (int i = 1; i < 12; i++) {
                    expected.delete(t, ids.get(i));
                }
                for (int i = 12; i < 20; i++) {
                    expected.put(t, ids.get(i), random(rnd, rnd.nextInt(0, 3000)));
                }
                expected.put(t, ids.get(50), random(rnd, 1024 * 1024 - 3));
                expected.put(t, ObjectId.MANIFEST, random(rnd, 250));
                t.commit();
            }
            // 3: more of both, then a compaction
            try (Transaction t = repo.begin()) {
                for (int i = 52; i < 60; i++) {
                    expected.put(t, ids.get(i), random(rnd, rnd.nextInt(1, 9000)));
                }
                for (int i = 20; i < 26; i++) {
                    expected.delete(t, ids.get(i));
                }
                expected.put(t, ids.get(0), random(rnd, 10));
                expected.put(t, ObjectId.MANIFEST, random(rnd, 300));
                t.commit();
            }
            repo.compact(0.1, ProgressListener.NONE);
            // 4: after the compaction: an object that was deleted comes back, another goes
            try (Transaction t = repo.begin()) {
                expected.put(t, ids.get(5), random(rnd, 700));
                expected.delete(t, ids.get(30));
                expected.put(t, ObjectId.MANIFEST, random(rnd, 320));
                t.commit();
            }
            assertEquals(expected.objects, engineObjects(repo), "the engine's own view before handing over to Borg");
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
        assertTrue(Files.isDirectory(dir.resolve("data").resolve("1")), "expected a second segment directory: " + listing(dir));
        assertTrue(segmentFiles(dir).size() > 5, "expected many segments: " + listing(dir));

        Borg borg = new Borg(tmp);
        borg.checkRepositoryOnly(dir);
        Map<String, Object> seen = borg.script("read_repo.py", dir.toString(), "--check");
        assertBorgSees(expected.objects, seen);
        assertEquals(seen.get("segments_transaction"), seen.get("index_transaction_before"),
                "the engine's close must leave a checkpoint of the last commit, which Borg uses without replay: " + seen);
        assertEquals(Boolean.TRUE, seen.get("check"), "Borg's Repository.check()");
    }

    // ---- the engine's checkpoint lags behind its log; Borg replays ------------------------

    @Test
    void engineCheckpointLagsBorgReplays() throws IOException {
        Path dir = tmp.resolve("repo");
        Path copy = tmp.resolve("copy");
        Random rnd = new Random(2);
        Expected expected = new Expected();
        OpenOptions lagging = TestRepositories.options().withCheckpointCommits(5).withCheckpointInterval(Duration.ofHours(1))
                .withCheckpointLogBytes(1L << 40);
        long lastTid = -1;
        Set<Long> tids = new TreeSet<>();
        try (Repository repo = Repository.create(dir, CreateOptions.defaults().withMaxSegmentSize(8192).withSegmentsPerDir(6), lagging)) {
            for (int c = 0; c < 12; c++) {
                try (Transaction t = repo.begin()) {
                    for (int i = 0; i < 8; i++) {
                        expected.put(t, Ids.h2(c * 100L + i), random(rnd, rnd.nextInt(0, 2500)));
                    }
                    if (c > 0) {
                        expected.delete(t, Ids.h2((c - 1) * 100L + 1));
                        expected.put(t, Ids.h2((c - 1) * 100L + 2), random(rnd, 99));
                    }
                    expected.put(t, ObjectId.MANIFEST, random(rnd, 100 + c));
                    lastTid = t.commit();
                    tids.add(lastTid);
                }
            }
            // the copy is what a crash right now would leave: the log complete, the checkpoint older
            copyRepository(dir, copy);
        }
        List<Long> checkpoints = checkpointFiles(copy, "index.");
        assertEquals(1, checkpoints.size(), "one index file in the copy: " + listing(copy));
        long checkpoint = checkpoints.get(0);
        assertTrue(checkpoint < lastTid && tids.contains(checkpoint),
                "the copy's index." + checkpoint + " must be an earlier commit than the last, " + lastTid + " (commits: " + tids + ")");

        Borg borg = new Borg(tmp);
        Map<String, Object> seen = borg.script("read_repo.py", copy.toString(), "--check");
        assertEquals(checkpoint, number(seen.get("index_transaction_before")), "Borg found the engine's checkpoint: " + seen);
        assertEquals(lastTid, number(seen.get("segments_transaction")), "Borg's transaction id: " + seen);
        assertEquals(lastTid, number(seen.get("index_transaction_after")), "Borg replayed up to the last commit: " + seen);
        assertBorgSees(expected.objects, seen);
        assertEquals(Boolean.TRUE, seen.get("check"), "Borg's Repository.check()");
        borg.checkRepositoryOnly(copy);

        // and the engine takes over Borg's index of the replayed log
        try (Repository repo = TestRepositories.open(copy)) {
            assertEquals(expected.objects, engineObjects(repo));
        }
    }

    // ---- Borg writes, the engine reads and writes, Borg reads ------------------------------

    @Test
    void borgWritesEngineReadsAndWritesBorgReads() {
        Path dir = tmp.resolve("repo");
        Borg borg = new Borg(tmp);
        Map<String, Object> written = borg.script("borg_write.py", dir.toString(), "7");
        assertNoWarnings(written);
        Expected expected = new Expected();
        expected.objects.putAll(digests(written.get("objects")));
        assertTrue(expected.objects.containsKey(ObjectId.MANIFEST.hex()), "Borg's workload has the manifest");
        assertTrue(expected.objects.containsValue(new Digest(0, sha256(new byte[0]))), "Borg's workload has an empty object");
        assertTrue(Files.isDirectory(dir.resolve("data").resolve("3")), "Borg spread the log over directories: " + listing(dir));

        Random rnd = new Random(3);
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(expected.objects, engineObjects(repo), "the engine reads what Borg wrote");
            assertEquals(expected.objects.size(), repo.objectCount());
            CheckResult check = repo.check(CheckOptions.full(), ProgressListener.NONE);
            assertTrue(check.ok() && check.errors().isEmpty(), "the engine's check of Borg's repository: " + check);

            List<ObjectId> borgIds = expected.objects.keySet().stream().filter(h -> !h.equals(ObjectId.MANIFEST.hex()))
                    .sorted().map(ObjectId::parse).toList();
            try (Transaction t = repo.begin()) {
                for (int i = 0; i < 10; i++) {
                    expected.put(t, Ids.h2(5000 + i), random(rnd, rnd.nextInt(0, 4000)));
                }
                for (int i = 0; i < 10; i++) {
                    expected.delete(t, borgIds.get(i));
                }
                for (int i = 10; i < 15; i++) {
                    expected.put(t, borgIds.get(i), random(rnd, rnd.nextInt(1, 3000)));
                }
                expected.put(t, ObjectId.MANIFEST, random(rnd, 500));
                t.commit();
            }
            repo.compact(0.1, ProgressListener.NONE);
            try (Transaction t = repo.begin()) {
                expected.put(t, Ids.h2(6000), random(rnd, 1234));
                expected.delete(t, borgIds.get(20));
                expected.delete(t, Ids.h2(5000));
                t.commit();
            }
            assertEquals(expected.objects, engineObjects(repo));
        }

        Map<String, Object> seen = borg.script("read_repo.py", dir.toString(), "--check");
        assertBorgSees(expected.objects, seen);
        assertEquals(Boolean.TRUE, seen.get("check"), "Borg's Repository.check()");
        borg.checkRepositoryOnly(dir);
    }

    // ---- borg init's repokey and nonce ----------------------------------------------------

    @Test
    void borgInitRepokeyAndNonce() {
        Path dir = tmp.resolve("repo");
        Borg borg = new Borg(tmp).withEnv("BORG_PASSPHRASE", "correct horse battery staple");
        Borg.Result init = borg.cli("init", "-e", "repokey", dir.toString());
        assertEquals(0, init.exitCode(), "borg init -e repokey\n" + init);

        Map<String, Object> before = borg.script("key_nonce.py", dir.toString());
        assertNoWarnings(before);
        String borgKey = (String) before.get("key");
        assertTrue(borgKey.length() > 100 && borgKey.contains("\n"), "borg's repokey spans continuation lines in the config: " + before);
        assertNotNull(before.get("nonce"), "borg init reserved nonces (it encrypted the manifest): " + before);
        long nonce = number(before.get("nonce"));

        String newKey = wrap(Base64.getEncoder().encodeToString(random(new Random(4), 700)), 70);
        long reserved = nonce + 0x2000;
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(borgKey, new String(repo.loadKey(), StandardCharsets.UTF_8), "loadKey() is Borg's load_key()");
            assertTrue(repo.freeNonce().isPresent(), "the nonce borg init wrote");
            assertEquals(nonce, repo.freeNonce().getAsLong(), "freeNonce() is Borg's get_free_nonce()");
            assertEquals(1, repo.objectCount(), "borg init wrote the manifest");
            assertTrue(repo.contains(ObjectId.MANIFEST));
            repo.saveKey(newKey.getBytes(StandardCharsets.UTF_8));
            repo.commitNonceReservation(reserved, nonce);
        }
        Map<String, Object> after = borg.script("key_nonce.py", dir.toString());
        assertNoWarnings(after);
        assertEquals(newKey, after.get("key"), "Borg's load_key() returns the blob the engine saved");
        assertEquals(reserved, number(after.get("nonce")), "Borg's get_free_nonce() reads the engine's nonce file");

        // the real key written back by the engine: borg decrypts its manifest with it
        try (Repository repo = TestRepositories.open(dir)) {
            repo.saveKey(borgKey.getBytes(StandardCharsets.UTF_8));
        }
        Borg.Result list = borg.cli("list", dir.toString());
        assertEquals(0, list.exitCode(), "borg list with the repokey the engine wrote back\n" + list);
        assertEquals(borgKey, borg.script("key_nonce.py", dir.toString()).get("key"));
    }

    // ---- locks -----------------------------------------------------------------------------

    @Test
    void borgIsLockedOutWhileEngineHoldsRepository() {
        Path dir = tmp.resolve("repo");
        Borg borg = new Borg(tmp);
        try (Repository repo = TestRepositories.create(dir)) {
            try (Transaction t = repo.begin()) {
                t.put(ObjectId.MANIFEST, Ids.bytes("manifest"));
                t.commit();
            }
            for (String mode : List.of("exclusive", "shared")) {
                Map<String, Object> r = borg.script("try_lock.py", dir.toString(), mode);
                assertEquals(Boolean.FALSE, r.get("acquired"), "Borg (" + mode + ") must not get in while the engine holds the repository: " + r);
                assertEquals(Boolean.TRUE, r.get("lock_error"), "Borg's answer is a lock error: " + r);
                assertEquals("LockTimeout", r.get("error"), r.toString());
            }
            assertEquals(1, repo.objectCount(), "the engine is undisturbed");
        }
        Map<String, Object> r = borg.script("try_lock.py", dir.toString(), "exclusive");
        assertEquals(Boolean.TRUE, r.get("acquired"), "Borg gets the lock once the engine closed: " + r);
        assertNoWarnings(r);
        assertFalse(Files.exists(dir.resolve("lock.exclusive")), "Borg released its lock: " + listing(dir));
    }

    @Test
    void engineIsLockedOutWhileBorgHoldsRepository() {
        Path dir = tmp.resolve("repo");
        try (Repository repo = TestRepositories.create(dir)) {
            try (Transaction t = repo.begin()) {
                t.put(ObjectId.MANIFEST, Ids.bytes("manifest"));
                t.put(Ids.h2(1), Ids.bytes("one"));
                t.commit();
            }
        }
        Borg borg = new Borg(tmp);
        try (Borg.Background holder = borg.new Background("hold_lock.py", dir.toString())) {
            assertEquals("locked", holder.readLine(), holder.diagnostics());
            OpenOptions noWait = TestRepositories.options().withLockWait(Duration.ZERO);
            assertThrows(LockTimeoutException.class, () -> Repository.open(dir, noWait).close(),
                    "the engine must not open a repository Borg holds\n" + holder.diagnostics());
            assertTrue(Files.isDirectory(dir.resolve("lock.exclusive")), "Borg's lock is left alone: " + listing(dir));

            holder.writeLine("");
            Map<String, Object> done = holder.finish();
            assertEquals(Boolean.TRUE, done.get("released"));
            assertEquals(2, number(done.get("len")), "Borg saw the engine's objects while holding the lock");
            assertNoWarnings(done);
        }
        try (Repository repo = Repository.open(dir, TestRepositories.options().withLockWait(Duration.ZERO))) {
            assertEquals(2, repo.objectCount(), "the engine opens once Borg has exited");
        }
    }

    // ---- index.T, hints.T and integrity.T as Borg reads them --------------------------------

    @Test
    void indexRewrittenByBorgRepairUnderTheSameTransactionWinsOverSegstoresCopy() throws IOException {
        Path dir = tmp.resolve("repo");
        long first;
        long tid;
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(4096))) {
            try (Transaction t = repo.begin()) {
                for (int i = 0; i < 20; i++) {
                    t.put(Ids.h2(i), new byte[300]);
                }
                first = t.commit();
            }
            try (Transaction t = repo.begin()) {
                for (int i = 100; i < 120; i++) {
                    t.put(Ids.h2(i), new byte[300]);
                }
                tid = t.commit();
            }
        }
        assertTrue(Files.exists(dir.resolve("segstore-index." + tid)));
        // lose the data segments of the second transaction but keep its commit: Borg's repair then
        // rebuilds index.T for the same transaction without those objects
        for (long s = first + 1; s < tid; s++) {
            Files.delete(dir.resolve("data").resolve("0").resolve(Long.toString(s)));
        }
        Borg borg = new Borg(tmp);
        Borg.Result repair = borg.cli("check", "--repository-only", "--repair", dir.toString());
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(Files.exists(dir.resolve("segstore-index." + tid)), "Borg leaves Segstore's copy alone");
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(tid, repo.transactionId());
            for (int i = 0; i < 20; i++) {
                assertTrue(repo.contains(Ids.h2(i)));
            }
            for (int i = 100; i < 120; i++) {
                assertFalse(repo.contains(Ids.h2(i)), "object " + i + " went with the lost segment; the stale copy must not bring it back");
            }
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void borgReadsEngineIndexHintsAndIntegrity() {
        Path dir = tmp.resolve("repo");
        Random rnd = new Random(5);
        Expected expected = new Expected();
        long lastTid;
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(4096).withSegmentsPerDir(5))) {
            try (Transaction t = repo.begin()) {
                expected.put(t, ObjectId.MANIFEST, random(rnd, 100));
                for (int i = 0; i < 120; i++) {
                    expected.put(t, Ids.h2(i), random(rnd, rnd.nextInt(0, 1500)));
                }
                t.commit();
            }
            try (Transaction t = repo.begin()) {
                for (int i = 0; i < 120; i += 3) {
                    expected.delete(t, Ids.h2(i));
                }
                for (int i = 1; i < 120; i += 7) {
                    expected.put(t, Ids.h2(i), random(rnd, rnd.nextInt(0, 800)));
                }
                expected.put(t, ObjectId.MANIFEST, random(rnd, 110));
                t.commit();
            }
            try (Transaction t = repo.begin()) {
                for (int i = 200; i < 230; i++) {
                    expected.put(t, Ids.h2(i), random(rnd, rnd.nextInt(0, 600)));
                }
                expected.delete(t, Ids.h2(2));
                expected.put(t, ObjectId.MANIFEST, random(rnd, 120));
                lastTid = t.commit();
            }
        }
        Set<Long> segmentsOnDisk = segmentFiles(dir);

        Borg borg = new Borg(tmp);
        Map<String, Object> r = borg.script("index_hints.py", dir.toString(), "--borg-compact");
        String context = "\n" + r + "\nsegments on disk: " + segmentsOnDisk;
        assertEquals(lastTid, number(r.get("index_transaction")), "index." + lastTid + " written at close" + context);
        assertEquals(lastTid, number(r.get("segments_transaction")), context);

        assertEquals(2L, number(r.get("integrity_version")), "integrity version" + context);
        assertTrue(((List<?>) r.get("integrity_keys")).containsAll(List.of("version", "index", "hints")), context);
        @SuppressWarnings("unchecked")
        Map<String, Object> integrity = (Map<String, Object>) r.get("integrity_data");
        assertTrue(String.valueOf(integrity.get("index")).contains("XXH64") && String.valueOf(integrity.get("index")).contains("HashHeader"),
                "Borg found index digests (so IntegrityCheckedFile verified them)" + context);
        assertTrue(String.valueOf(integrity.get("hints")).contains("XXH64"), "Borg found hints digests" + context);

        assertEquals(expected.objects.size(), number(r.get("len")), "len of Borg's NSIndex.read of index." + lastTid + context);
        assertEquals(expected.objects.size(), number(r.get("entries_verified")),
                "every index entry found by probing and pointing at a PUT of its id" + context);

        assertEquals(2L, number(r.get("hints_version")), "hints version" + context);
        assertTrue(((List<?>) r.get("hints_keys")).containsAll(List.of("version", "segments", "compact", "storage_quota_use", "shadow_index")),
                "hints keys" + context);
        Map<Long, Long> hintsSegments = longMap(r.get("hints_segments"));
        Map<Long, Long> livePerSegment = longMap(r.get("live_per_segment"));
        Set<Long> all = new TreeSet<>(hintsSegments.keySet());
        all.addAll(livePerSegment.keySet());
        for (long s : all) {
            assertEquals(livePerSegment.getOrDefault(s, 0L), hintsSegments.getOrDefault(s, 0L),
                    "hints' live entry count of segment " + s + " (Borg's compaction asserts it)" + context);
        }
        for (long s : longMap(r.get("hints_compact")).keySet()) {
            assertTrue(segmentsOnDisk.contains(s), "hints' compact map names segment " + s + ", which is not on disk" + context);
        }
        long liveBytes = expected.objects.values().stream().mapToLong(d -> d.size() + 41).sum();
        assertTrue(number(r.get("hints_storage_quota_use")) >= liveBytes,
                "storage_quota_use counts at least the live PUT entries (" + liveBytes + ")" + context);

        // Borg compacted with the engine's hints and checked the result
        assertEquals(Boolean.TRUE, r.get("check"), "Borg's check() after compacting with the engine's hints" + context);
        assertNoWarnings(r);
        assertFalse(r.get("segments_before_compact").equals(r.get("segments_after_compact")), "Borg's compaction did something" + context);
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(expected.objects, engineObjects(repo), "the engine reads the repository Borg compacted");
        }
        borg.checkRepositoryOnly(dir);
    }

    // ---- helpers -------------------------------------------------------------------------

    record Digest(long size, String sha256) {
    }

    /** What the repository should hold, kept as digests (the largest object is 20 MiB). */
    static final class Expected {
        final Map<String, Digest> objects = new TreeMap<>();

        void put(Transaction t, ObjectId id, byte[] data) {
            t.put(id, data);
            objects.put(id.hex(), new Digest(data.length, sha256(data)));
        }

        void delete(Transaction t, ObjectId id) {
            t.delete(id);
            assertNotNull(objects.remove(id.hex()), "the workload deletes only present ids: " + id);
        }
    }

    private static void assertBorgSees(Map<String, Digest> expected, Map<String, Object> seen) {
        assertNoWarnings(seen);
        Map<String, Digest> objects = digests(seen.get("objects"));
        assertEquals(expected.keySet(), objects.keySet(), "the ids Borg's list() returns");
        for (Map.Entry<String, Digest> e : expected.entrySet()) {
            assertEquals(e.getValue(), objects.get(e.getKey()), "object " + e.getKey() + " as Borg's get() returns it (size, sha256)");
        }
        assertEquals(expected.size(), number(seen.get("len")), "Borg's len()");
        List<?> list = (List<?>) seen.get("list");
        assertEquals(list.size(), new HashSet<>(list).size(), "Borg's list() has no duplicates");
        List<?> scan = (List<?>) seen.get("scan");
        assertEquals(expected.keySet(), new TreeSet<>(scan.stream().map(String::valueOf).toList()), "Borg's scan()");
        assertEquals(scan.size(), new HashSet<>(scan).size(), "Borg's scan() has no duplicates");
    }

    private static void assertNoWarnings(Map<String, Object> answer) {
        assertEquals(List.of(), answer.get("warnings"), "Borg logged warnings (it may have discarded and rebuilt something): " + answer);
    }

    /** Every committed object as the engine returns it, paging through list(). */
    private static Map<String, Digest> engineObjects(Repository repo) {
        Map<String, Digest> out = new TreeMap<>();
        ObjectId marker = null;
        while (true) {
            List<ObjectId> page = repo.list(37, marker);
            for (ObjectId id : page) {
                byte[] data = repo.get(id);
                assertEquals(null, out.put(id.hex(), new Digest(data.length, sha256(data))), "the engine's list() repeats " + id);
            }
            if (page.size() < 37) {
                break;
            }
            marker = page.get(page.size() - 1);
        }
        assertEquals(out.size(), repo.objectCount(), "the engine's objectCount() and list() agree");
        return out;
    }

    private static Map<String, Digest> digests(Object json) {
        Map<String, Digest> out = new TreeMap<>();
        ((Map<?, ?>) json).forEach((k, v) -> {
            List<?> pair = (List<?>) v;
            out.put((String) k, new Digest(number(pair.get(0)), (String) pair.get(1)));
        });
        return out;
    }

    private static Map<Long, Long> longMap(Object json) {
        Map<Long, Long> out = new TreeMap<>();
        ((Map<?, ?>) json).forEach((k, v) -> out.put(Long.parseLong((String) k), number(v)));
        return out;
    }

    private static long number(Object o) {
        assertTrue(o instanceof Number, "expected a number, got " + o);
        return ((Number) o).longValue();
    }

    private static byte[] random(Random rnd, int size) {
        byte[] b = new byte[size];
        rnd.nextBytes(b);
        return b;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static String wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < text.length(); i += width) {
            lines.add(text.substring(i, Math.min(text.length(), i + width)));
        }
        return String.join("\n", lines);
    }

    /** Segment numbers of the non-empty segment files under data/. */
    private static Set<Long> segmentFiles(Path dir) {
        try (Stream<Path> walk = Files.walk(dir.resolve("data"))) {
            return walk.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().matches("\\d+"))
                    .filter(p -> p.toFile().length() > 0).map(p -> Long.parseLong(p.getFileName().toString()))
                    .collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Long> checkpointFiles(Path dir, String prefix) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix) && n.substring(prefix.length()).matches("\\d+"))
                    .map(n -> Long.parseLong(n.substring(prefix.length()))).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies a repository that is open (without its lock files, which belong to the live holder). */
    private static void copyRepository(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path rel = from.relativize(p);
                if (rel.toString().startsWith("lock.")) {
                    continue;
                }
                Path target = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static String listing(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.map(p -> dir.relativize(p) + (Files.isRegularFile(p) ? " (" + p.toFile().length() + ")" : "/"))
                    .collect(Collectors.joining(", "));
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }
}
