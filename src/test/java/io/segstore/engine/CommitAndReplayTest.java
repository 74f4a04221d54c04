package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.addKeys;
import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.borgIndexes;
import static io.segstore.engine.ScenarioSupport.check;
import static io.segstore.engine.ScenarioSupport.checkpointFiles;
import static io.segstore.engine.ScenarioSupport.crashImage;
import static io.segstore.engine.ScenarioSupport.entries;
import static io.segstore.engine.ScenarioSupport.freeable;
import static io.segstore.engine.ScenarioSupport.h;
import static io.segstore.engine.ScenarioSupport.pendingShadow;
import static io.segstore.engine.ScenarioSupport.segmentFile;
import static io.segstore.engine.ScenarioSupport.segments;
import static io.segstore.engine.ScenarioSupport.shadow;
import static io.segstore.engine.ScenarioSupport.tid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Borg's RepositoryCommitTestCase: replay after a lost or stale index, crashes at each point of
 * a commit and of compaction, and the shadow index that keeps deleted objects deleted.
 */
class CommitAndReplayTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    /** The state add_keys leaves once its second transaction is committed. */
    private static void assertSecondTransactionOfAddKeys(Repository repo) {
        assertEquals(3, repo.objectCount());
        assertArrayEquals(b("foo"), repo.get(h(0)));
        assertArrayEquals(b("bar2"), repo.get(h(1)));
        assertArrayEquals(b("boo"), repo.get(h(2)));
        assertFalse(repo.contains(h(3)));
    }

    @Test
    void missingIndexIsRebuiltByReplayOnOpen() throws Exception {
        try (Repository repo = TestRepositories.create(dir)) {
            addKeys(repo); // the second transaction stays open; closing rolls it back
        }
        ScenarioSupport.deleteIndexes(dir);
        assertTrue(borgIndexes(dir).isEmpty());
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(List.of("index.1"), borgIndexes(dir), "the rebuilt index is written at once");
            assertEquals(3, repo.objectCount());
            assertArrayEquals(b("bar"), repo.get(h(1)));
            assertArrayEquals(b("bar"), repo.get(h(3)));
            check(repo, false, true);
        }
    }

    /** As above, but the second transaction's segment is still on disk when the index is rebuilt. */
    @Test
    void missingIndexIsRebuiltByReplayIgnoringAnInterruptedTransaction() throws Exception {
        Path image;
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction open = addKeys(repo);
            assertArrayEquals(b("boo"), open.get(h(2))); // reading it back puts it in the file
            image = crashImage(dir, tmp.resolve("crashed"));
        }
        ScenarioSupport.deleteIndexes(image);
        assertTrue(segments(image).size() > 2, "precondition: the interrupted transaction left a segment: " + segments(image));
        try (Repository repo = TestRepositories.open(image)) {
            assertEquals(3, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            assertArrayEquals(b("bar"), repo.get(h(1)));
            assertFalse(repo.contains(h(2)));
            assertArrayEquals(b("bar"), repo.get(h(3)));
            assertEquals(List.of("index.1"), borgIndexes(image));
            check(repo, false, true);
        }
    }

    @Test
    void crashAfterCommitBeforeCompactionLosesNothing() throws Exception {
        Path image;
        try (Repository repo = TestRepositories.create(dir)) {
            addKeys(repo).commit();
            // the power goes out where compaction would start
            image = crashImage(dir, tmp.resolve("crashed"));
        }
        try (Repository repo = TestRepositories.open(image)) {
            assertSecondTransactionOfAddKeys(repo);
            check(repo, false, true);
            repo.compact(0.1, ProgressListener.NONE);
            assertSecondTransactionOfAddKeys(repo);
            check(repo, false, true);
        }
    }

    @Test
    void crashBeforeCheckpointIsRecoveredByReplayFromThePreviousCheckpoint() throws Exception {
        Path saved = tmp.resolve("checkpoint-of-first-commit");
        Path image;
        List<String> firstFiles;
        long second;
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.put(h(1), b("bar"));
            t.put(h(3), b("bar"));
            long first = t.commit();
            repo.checkpointNow(); // Borg writes index, hints and integrity after each commit
            firstFiles = checkpointFiles(dir, first);
            assertEquals(4, firstFiles.size(), "checkpoint files of the first commit: " + firstFiles);
            for (String name : firstFiles) {
                ScenarioSupport.copyFile(dir.resolve(name), saved.resolve(name));
            }
            Transaction t2 = repo.begin();
            t2.put(h(1), b("bar2"));
            t2.put(h(2), b("boo"));
            t2.delete(h(3));
            second = t2.commit();
            repo.checkpointNow();
            assertEquals(4, checkpointFiles(dir, second).size());
            image = crashImage(dir, tmp.resolve("crashed"));
        }
        // The crash came before the second checkpoint: its files are not there, the first one's still are.
        for (String name : checkpointFiles(image, second)) {
            Files.delete(image.resolve(name));
        }
        for (String name : firstFiles) {
            ScenarioSupport.copyFile(saved.resolve(name), image.resolve(name));
        }
        try (Repository repo = TestRepositories.open(image)) {
            assertSecondTransactionOfAddKeys(repo);
            assertEquals(List.of("index." + second), borgIndexes(image), "replay is followed by a fresh checkpoint");
            check(repo, false, true);
        }
    }

    @Test
    void crashBeforeDeletingCompactedSegmentsLeavesAConsistentRepository() throws Exception {
        Path crashed = tmp.resolve("crashed");
        List<Long> oldSegments;
        try (Repository repo = TestRepositories.create(dir)) {
            addKeys(repo).commit();
            repo.checkpointNow(); // compaction starts with a checkpoint
            oldSegments = segments(dir);
            Path before = crashImage(dir, tmp.resolve("before-compaction"));
            CompactionResult result = repo.compact(0.1, ProgressListener.NONE);
            assertEquals(1, result.steps(), "one step: one commit, then one deletion of old segments");
            List<Long> after = segments(dir);
            List<Long> written = new ArrayList<>(after);
            written.removeAll(oldSegments);
            assertFalse(written.isEmpty(), "compaction wrote a new segment");
            assertFalse(after.containsAll(oldSegments), "compaction deleted old segments");
            // The crash image: the step's segment is durable, nothing was deleted yet, and the
            // checkpoint on disk is still the one compaction started from.
            crashImage(before, crashed);
            for (long s : written) {
                ScenarioSupport.copyFile(segmentFile(dir, s), segmentFile(crashed, s));
            }
        }
        try (Repository repo = TestRepositories.open(crashed)) {
            assertSecondTransactionOfAddKeys(repo);
            check(repo, false, true);
            assertEquals(3, repo.objectCount());
            // the next compaction finishes the work
            repo.compact(0.1, ProgressListener.NONE);
            List<Long> left = segments(crashed);
            for (long s : oldSegments) {
                assertFalse(left.contains(s), "old segment " + s + " still there: " + left);
            }
            assertSecondTransactionOfAddKeys(repo);
            check(repo, false, true);
        }
    }

    @Test
    void commitEntryBytesInsideObjectDataDoNotMakeASegmentCommitted() throws Exception {
        byte[] commitEntry = SegmentFile.commitEntry();
        Path image;
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), commitEntry);
            assertArrayEquals(commitEntry, t.get(h(0))); // reading it back puts it in the file
            image = crashImage(dir, tmp.resolve("crashed"));
            t.rollback();
        }
        byte[] segment0 = Files.readAllBytes(segmentFile(image, 0));
        assertArrayEquals(commitEntry, Arrays.copyOfRange(segment0, segment0.length - commitEntry.length, segment0.length),
                "precondition: the uncommitted segment ends with the bytes of a COMMIT entry");
        assertFalse(Recovery.isCommitted(new LocalSegmentStore(image, 1000), 0));
        try (Repository repo = TestRepositories.open(image)) {
            assertNull(repo.transactionId(), "nothing was ever committed");
            assertFalse(repo.contains(h(0)));
            assertEquals(0, repo.objectCount());
        }
    }

    @Test
    void deletesKeptByCompactionAreTrackedUntilNothingOfTheObjectIsLeft() throws Exception {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(1), b("1"));
            t.put(h(2), b("2"));
            t.commit();
            Transaction d = repo.begin();
            d.delete(h(1));
            d.commit();
            repo.compact(0.1, ProgressListener.NONE);
            // Whatever DELETE compaction kept (moved forward) is freeable where it now lies.
            Map<Long, Long> deletesPerSegment = new TreeMap<>();
            for (ScenarioSupport.Entry e : entries(dir)) {
                if (e.tag() == SegmentFile.TAG_DELETE) {
                    assertEquals(h(1), e.id());
                    deletesPerSegment.merge(e.segment(), 1L, Long::sum);
                }
            }
            for (Map.Entry<Long, Long> e : deletesPerSegment.entrySet()) {
                assertTrue(freeable(repo, e.getKey()) >= e.getValue() * SegmentFile.DELETE_SIZE,
                        "segment " + e.getKey() + " holds a DELETE but is not tracked as sparse");
            }
            assertFalse(repo.contains(h(1)));

            Transaction p = repo.begin();
            p.put(h(3), b("3"));
            p.commit();
            repo.compact(0.1, ProgressListener.NONE);
            for (long s : deletesPerSegment.keySet()) {
                assertFalse(Files.exists(segmentFile(dir, s)), "segment " + s + " with a DELETE was compacted");
                assertFalse(ScenarioSupport.liveLedgerSegments(repo).contains(s));
                assertFalse(ScenarioSupport.freeableLedgerSegments(repo).contains(s));
            }
            for (ScenarioSupport.Entry e : entries(dir)) {
                assertTrue(e.tag() != SegmentFile.TAG_DELETE, "no DELETE is left: " + e);
                assertFalse(h(1).equals(e.id()), "nothing of H(1) is left: " + e);
            }
            // with no PUT or DELETE of H(1) left, the shadow index forgot it
            assertNull(shadow(repo, h(1)));
            assertArrayEquals(b("2"), repo.get(h(2)));
            assertArrayEquals(b("3"), repo.get(h(3)));
            check(repo, false, true);
        }
    }

    private static byte[] big(int fill) {
        byte[] data = new byte[9 << 20];
        Arrays.fill(data, (byte) fill);
        return data;
    }

    /**
     * Borg pretends two segments are dense by removing them from its compact ledger; here they are
     * dense for real: each carries a 9 MiB live object beside the entry of interest, so compaction
     * neither picks them as sparse nor merges them as small.
     */
    @Test
    void deleteIsKeptWhileAnOlderPutSurvivesSoTheObjectNeverComesBack() throws Exception {
        long putSegment;
        long deleteSegment;
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            putSegment = tid(repo) + 1;
            t.put(h(1), b("1"));
            t.put(h(9), big('a'));
            t.commit();

            Transaction d = repo.begin();
            deleteSegment = tid(repo) + 1;
            d.delete(h(1));
            d.put(h(2), big('b'));
            d.commit();
            repo.compact(0.1, ProgressListener.NONE);
            assertTrue(Files.exists(segmentFile(dir, putSegment)), "precondition: the PUT segment is dense");
            assertTrue(Files.exists(segmentFile(dir, deleteSegment)), "precondition: the DELETE segment is dense");

            // an unrelated change makes the DELETE's segment sparse, so it is compacted
            Transaction u = repo.begin();
            u.delete(h(2));
            u.commit();
            repo.compact(0.1, ProgressListener.NONE);
            assertTrue(Files.exists(segmentFile(dir, putSegment)));
            assertFalse(Files.exists(segmentFile(dir, deleteSegment)));
            assertFalse(repo.contains(h(1)));
            // the DELETE was moved forward, and where it lies now it is tracked as freeable
            List<ScenarioSupport.Entry> deletes = entries(dir).stream()
                    .filter(e -> e.tag() == SegmentFile.TAG_DELETE && h(1).equals(e.id())).toList();
            assertEquals(1, deletes.size(), "the DELETE of H(1) is kept: " + deletes);
            assertTrue(deletes.get(0).segment() > deleteSegment);
            assertTrue(freeable(repo, deletes.get(0).segment()) >= SegmentFile.DELETE_SIZE);
            assertArrayEquals(new long[] {putSegment}, shadow(repo, h(1)), "the surviving PUT is still shadowed");
        }
        // force a replay of the whole log
        ScenarioSupport.deleteIndexes(dir);
        try (Repository repo = TestRepositories.open(dir)) {
            assertFalse(repo.contains(h(1)), "the deleted object came back after the index was rebuilt");
            assertArrayEquals(big('a'), repo.get(h(9)));
            assertEquals(1, repo.objectCount());
            check(repo, false, true);
        }
    }

    @Test
    void rolledBackTransactionLeavesNoTraceInTheShadowIndex() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            long putSegment = tid(repo) + 1;
            t.put(h(1), b("1"));
            t.delete(h(1));
            assertArrayEquals(new long[] {putSegment}, pendingShadow(t, h(1)));
            t.commit();
            repo.compact(0.1, ProgressListener.NONE);
            // the PUT was compacted away: nothing is shadowed any more
            long[] afterCompaction = shadow(repo, h(1));
            assertTrue(afterCompaction == null || afterCompaction.length == 0,
                    "shadow index of H(1) after compaction: " + Arrays.toString(afterCompaction));

            Transaction again = repo.begin();
            long next = tid(repo) + 1;
            again.put(h(1), b("1"));
            again.delete(h(1));
            assertArrayEquals(new long[] {next}, pendingShadow(again, h(1)));
            again.rollback();

            Transaction other = repo.begin();
            other.put(h(2), b("1"));
            assertNull(pendingShadow(other, h(1)), "the rolled-back transaction's shadow entry is gone");
            long[] committed = shadow(repo, h(1));
            assertTrue(committed == null || committed.length == 0,
                    "rolled-back segment " + next + " is still shadowed: " + Arrays.toString(committed));
            other.commit();
            long[] afterCommit = shadow(repo, h(1));
            assertTrue(afterCommit == null || afterCommit.length == 0,
                    "shadow index of H(1) after the next commit: " + Arrays.toString(afterCommit));
        }
    }
}
