package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.borgIndexes;
import static io.segstore.engine.ScenarioSupport.check;
import static io.segstore.engine.ScenarioSupport.h;
import static io.segstore.engine.ScenarioSupport.listNumbers;
import static io.segstore.engine.ScenarioSupport.segmentFile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Borg's RepositoryCheckTestCase. Borg writes index, hints and integrity after every commit and
 * these scenarios look at those files, so the repository here checkpoints at every commit too.
 * Borg re-reads its state from disk at every transaction; our engine keeps it in memory, so where
 * Borg damages a file between transactions and expects the next one to notice, the repository
 * is closed and opened again around the damage.
 */
class CheckAndRepairTest {

    private static final OpenOptions EVERY_COMMIT_CHECKPOINTED = TestRepositories.options().withCheckpointCommits(1);

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    private Repository create() {
        return Repository.create(dir, CreateOptions.defaults(), EVERY_COMMIT_CHECKPOINTED);
    }

    private Repository open(Path path) {
        return Repository.open(path, EVERY_COMMIT_CHECKPOINTED);
    }

    /** Borg's add_objects: one committed transaction per list, each object holding "data". */
    private static void addObjects(Repository repo, long[]... transactions) {
        for (long[] ids : transactions) {
            Transaction t = repo.begin();
            for (long id : ids) {
                t.put(h(id), b("data"));
            }
            t.commit();
        }
    }

    private static void getObjects(Repository repo, long... ids) {
        for (long id : ids) {
            assertArrayEquals(b("data"), repo.get(h(id)));
        }
    }

    /** Borg's corrupt_object: "BOOM" over the start of the object's entry (its CRC). */
    private void corruptObject(Repository repo, long id) throws Exception {
        byte[] k = h(id).toBytes();
        long location = repo.state.index.get(KeyIndex.word(k, 0), KeyIndex.word(k, 1), KeyIndex.word(k, 2), KeyIndex.word(k, 3));
        assertNotEquals(KeyIndex.ABSENT, location);
        ScenarioSupport.overwriteAt(segmentFile(dir, Locations.segment(location)), Locations.offset(location), b("BOOM"));
    }

    @Test
    void repairSalvagesTheIntactEntriesOfACorruptedSegment() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3}, new long[] {4, 5}, new long[] {6});
            assertEquals(Set.of(1L, 2L, 3L, 4L, 5L, 6L), listNumbers(repo));
            check(repo, false, true);
            corruptObject(repo, 5);
            assertThrows(IntegrityException.class, () -> getObjects(repo, 5));
            // a plain check finds the damage but repairs nothing
            check(repo, false, false);
            check(repo, false, false);
            check(repo, true, true);
            getObjects(repo, 4);
            check(repo, false, true);
            assertEquals(Set.of(1L, 2L, 3L, 4L, 6L), listNumbers(repo));
        }
    }

    @Test
    void repairDropsTheObjectsOfAMissingSegment() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3}, new long[] {4, 5, 6});
            assertEquals(Set.of(1L, 2L, 3L, 4L, 5L, 6L), listNumbers(repo));
            check(repo, false, true);
            Files.delete(segmentFile(dir, 2));
            check(repo, true, true);
            assertEquals(Set.of(1L, 2L, 3L), listNumbers(repo));
            getObjects(repo, 1, 2, 3);
            check(repo, false, true);
        }
    }

    @Test
    void missingCommitSegmentTakesTheRepositoryBackToThePreviousTransaction() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3}, new long[] {4, 5, 6});
        }
        Files.delete(segmentFile(dir, 3));
        try (Repository repo = open(dir)) {
            assertThrows(ObjectNotFoundException.class, () -> getObjects(repo, 4));
            assertEquals(Set.of(1L, 2L, 3L), listNumbers(repo));
            assertEquals(1L, repo.transactionId());
        }
    }

    @Test
    void corruptedCommitSegmentTakesTheRepositoryBackToThePreviousTransaction() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3}, new long[] {4, 5, 6});
        }
        ScenarioSupport.overwriteLastByte(segmentFile(dir, 3), (byte) 'X');
        try (Repository repo = open(dir)) {
            assertThrows(ObjectNotFoundException.class, () -> getObjects(repo, 4));
            check(repo, false, true);
            getObjects(repo, 3);
            assertEquals(Set.of(1L, 2L, 3L), listNumbers(repo));
        }
    }

    @Test
    void repairAddsACommitWhenNoCommittedSegmentIsLeft() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3});
        }
        ScenarioSupport.overwriteLastByte(segmentFile(dir, 1), (byte) 'X');
        try (Repository repo = open(dir)) {
            assertThrows(CheckNeededException.class, () -> getObjects(repo, 4));
            check(repo, false, false);
            check(repo, false, false);
            assertEquals(List.of("index.1"), borgIndexes(dir));
            check(repo, true, true);
            assertEquals(List.of("index.2"), borgIndexes(dir));
            check(repo, false, true);
            getObjects(repo, 3);
            assertEquals(Set.of(1L, 2L, 3L), listNumbers(repo));
        }
    }

    @Test
    void checkPassesWhenTheIndexIsMissing() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3}, new long[] {4, 5, 6});
        }
        ScenarioSupport.deleteIndexes(dir);
        try (Repository repo = open(dir)) {
            check(repo, false, true);
            getObjects(repo, 4);
            assertEquals(Set.of(1L, 2L, 3L, 4L, 5L, 6L), listNumbers(repo));
        }
    }

    @Test
    void indexNewerThanTheLastCommitIsReplacedByARebuiltOne() throws Exception {
        try (Repository repo = create()) {
            addObjects(repo, new long[] {1, 2, 3}, new long[] {4, 5, 6});
            assertEquals(List.of("index.3"), borgIndexes(dir));
        }
        Files.move(dir.resolve("index.3"), dir.resolve("index.100"));
        Files.move(dir.resolve("segstore-index.3"), dir.resolve("segstore-index.100"));
        try (Repository repo = open(dir)) {
            check(repo, false, true);
            assertEquals(List.of("index.3"), borgIndexes(dir));
            assertTrue(ScenarioSupport.filesWithPrefix(dir, "segstore-index.").equals(List.of("segstore-index.3")),
                    "stale segstore-index files: " + ScenarioSupport.filesWithPrefix(dir, "segstore-index."));
            getObjects(repo, 4);
            assertEquals(Set.of(1L, 2L, 3L, 4L, 5L, 6L), listNumbers(repo));
        }
    }

    @Test
    void repairAfterACrashBeforeCompactionKeepsTheNewestValue() throws Exception {
        Path image;
        try (Repository repo = create()) {
            Transaction t = repo.begin();
            t.put(h(0), b("data"));
            t.put(h(0), b("data2"));
            t.commit();
            // the power goes out where compaction would start
            image = ScenarioSupport.crashImage(dir, tmp.resolve("crashed"));
        }
        try (Repository repo = open(image)) {
            check(repo, true, true);
            assertArrayEquals(b("data2"), repo.get(h(0)));
            check(repo, false, true);
        }
    }
}
