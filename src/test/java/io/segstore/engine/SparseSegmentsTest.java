package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.check;
import static io.segstore.engine.ScenarioSupport.freeable;
import static io.segstore.engine.ScenarioSupport.h;
import static io.segstore.engine.ScenarioSupport.segmentFile;
import static io.segstore.engine.ScenarioSupport.segments;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Borg's LocalRepositoryTestCase: what superseded PUTs, DELETEs and COMMITs leave freeable in
 * which segment, and uncommitted garbage on disk.
 */
class SparseSegmentsTest {

    private static final long PUT_OVERHEAD = SegmentFile.PUT_HEADER_SIZE;   // 41
    private static final long DELETE_SIZE = SegmentFile.DELETE_SIZE;        // 41
    private static final long COMMIT_SIZE = SegmentFile.COMMIT_SIZE;        // 9

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    /**
     * Segment 0: H(0)=foo and H(1)=123456789; segment 1: COMMIT; then the second transaction
     * supersedes H(1) in segment 2. Borg's _assert_sparse: the superseded 50-byte PUT is freeable
     * in 0, the COMMIT in 1, the DELETE in 2.
     */
    private void assertSparse(Repository repo, Transaction t) {
        assertEquals(PUT_OVERHEAD + 9, freeable(repo, t, 0), "superseded PUT of 123456789");
        assertEquals(COMMIT_SIZE, freeable(repo, t, 1), "a COMMIT");
        assertEquals(DELETE_SIZE, freeable(repo, t, 2), "the DELETE written for H(1)");
    }

    private void sparseScenario(Consumer<Transaction> supersedeH1) {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.put(h(1), b("123456789"));
            t.commit();
            Transaction second = repo.begin();
            supersedeH1.accept(second);
            assertSparse(repo, second);
            second.commit();
            assertSparse(repo, null);
            assertEquals(COMMIT_SIZE, freeable(repo, 3), "the second COMMIT");
        }
    }

    @Test
    void overwriteMakesTheOldPutFreeableAndCountsItsDelete() {
        sparseScenario(t -> t.put(h(1), b("bar")));
    }

    @Test
    void deleteMakesTheOldPutFreeableAndCountsItsDelete() {
        sparseScenario(t -> t.delete(h(1)));
    }

    /** Our ledgers count the same on replay as live (the "live and replay" rule of LogAccounting). */
    @Test
    void sparseAccountingRebuiltByReplayMatchesLiveAccounting() throws Exception {
        Map<Long, Long> liveFreeable;
        Map<Long, Long> liveCounts;
        long quota;
        long[] shadowH1;
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.put(h(1), b("123456789"));
            t.put(h(2), b("gone"));
            t.commit();
            Transaction second = repo.begin();
            second.put(h(1), b("bar"));
            second.delete(h(2));
            second.commit();
            liveFreeable = new TreeMap<>(repo.state.usage.freeableView());
            liveCounts = new TreeMap<>(repo.state.usage.liveView());
            quota = repo.state.quotaUse;
            shadowH1 = ScenarioSupport.shadow(repo, h(1));
        }
        ScenarioSupport.deleteCheckpoints(dir);
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(liveFreeable, new TreeMap<>(repo.state.usage.freeableView()), "compact");
            assertEquals(liveCounts, new TreeMap<>(repo.state.usage.liveView()), "segments");
            assertEquals(quota, repo.state.quotaUse, "storage quota use");
            assertArrayEquals(shadowH1, ScenarioSupport.shadow(repo, h(1)), "shadow index of H(1)");
            assertArrayEquals(b("bar"), repo.get(h(1)));
            assertFalse(repo.contains(h(2)));
        }
    }

    @Test
    void putAndDeleteInOneTransactionMakeTheSegmentSparseAndCompactionRemovesIt() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("1245"));
            t.delete(h(0));
            // the online tracking works per object: the PUT (41 + 4) and the DELETE (41)
            assertEquals(PUT_OVERHEAD + 4 + DELETE_SIZE, freeable(repo, t, 0));
            t.commit();
            assertEquals(PUT_OVERHEAD + 4 + DELETE_SIZE, freeable(repo, 0));
            repo.compact(0.1, ProgressListener.NONE);
            assertFalse(segments(dir).contains(0L), "segment 0 was compacted away: " + segments(dir));
            assertFalse(Files.exists(segmentFile(dir, 0)));
            assertFalse(repo.contains(h(0)));
            check(repo, false, true);
        }
    }

    @Test
    void uncommittedGarbageSegmentIsHarmless() throws Exception {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.commit();
            long last = segments(dir).get(segments(dir).size() - 1);
            ByteArrayOutputStream crap = new ByteArrayOutputStream();
            crap.write(SegmentFile.MAGIC);
            crap.write(b("crapcrapcrap"));
            Path garbage = segmentFile(dir, last + 1);
            Files.createDirectories(garbage.getParent());
            Files.write(garbage, crap.toByteArray());
        }
        try (Repository repo = TestRepositories.open(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("bar"));
            t.commit();
            repo.compact(0.1, ProgressListener.NONE);
            assertArrayEquals(b("bar"), repo.get(h(0)));
            assertEquals(1, repo.objectCount());
            check(repo, false, true);
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertArrayEquals(b("bar"), repo.get(h(0)));
            assertTrue(check(repo, false, true).errors().isEmpty());
        }
    }
}
