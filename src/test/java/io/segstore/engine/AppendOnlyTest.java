package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.check;
import static io.segstore.engine.ScenarioSupport.h;
import static io.segstore.engine.ScenarioSupport.segments;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.TransactionsLogFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Borg's RepositoryAppendOnlyTestCase, and what append-only mode promises beyond it. */
class AppendOnlyTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    private Repository createAppendOnly() {
        return TestRepositories.create(dir, CreateOptions.defaults().withAppendOnly(true));
    }

    @Test
    void appendOnlyRepositoryCannotBeDestroyed() {
        try (Repository repo = createAppendOnly()) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.commit();
            assertThrows(AppendOnlyException.class, repo::destroy);
            assertTrue(repo.isAppendOnly());
            assertTrue(Files.isDirectory(dir));
            assertArrayEquals(b("foo"), repo.get(h(0)));
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertArrayEquals(b("foo"), repo.get(h(0)));
        }
    }

    @Test
    void compactionRemovesSegmentsOnlyWhileNotAppendOnly() {
        try (Repository repo = createAppendOnly()) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.commit();
            assertEquals(2, segments(dir).size(), "a data segment and a commit segment");

            repo.setAppendOnly(false);
            assertEquals(2, segments(dir).size());
            List<Long> before = new ArrayList<>(segments(dir));
            Transaction overwrite = repo.begin();
            overwrite.put(h(0), b("foo"));
            overwrite.commit();
            repo.compact(0.1, ProgressListener.NONE);
            // compaction squashed the log: the sparse old segments are gone
            List<Long> after = segments(dir);
            for (long s : before) {
                assertFalse(after.contains(s), "old segment " + s + " was not compacted: " + after);
            }
            assertTrue(after.size() <= 2, "segments after compaction: " + after);
            assertArrayEquals(b("foo"), repo.get(h(0)));

            repo.setAppendOnly(true);
            int n = segments(dir).size();
            Transaction again = repo.begin();
            again.put(h(0), b("foo"));
            again.commit();
            // append-only: only new segments are written, nothing squashed
            assertEquals(n + 2, segments(dir).size());
            assertTrue(segments(dir).containsAll(after));
            assertArrayEquals(b("foo"), repo.get(h(0)));
            check(repo, false, true);
        }
    }

    @Test
    void compactionOfAppendOnlyRepositoryRemovesNothing() {
        try (Repository repo = createAppendOnly()) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.put(h(1), b("bar"));
            t.put(h(2), b("baz"));
            t.commit();
            Transaction change = repo.begin();
            change.put(h(0), b("foo2"));
            change.delete(h(1));
            change.commit();
            List<Long> before = segments(dir);
            CompactionResult result = repo.compact(0.0, ProgressListener.NONE);
            assertEquals(0, result.segmentsCompacted());
            assertEquals(before, segments(dir));
            assertArrayEquals(b("foo2"), repo.get(h(0)));
            assertFalse(repo.contains(h(1)));
            assertArrayEquals(b("baz"), repo.get(h(2)));
            check(repo, false, true);
        }
    }

    @Test
    void everyCommitOfAppendOnlyRepositoryIsLoggedInTheTransactionsFile() throws Exception {
        List<Long> committed = new ArrayList<>();
        try (Repository repo = createAppendOnly()) {
            for (int i = 0; i < 3; i++) {
                Transaction t = repo.begin();
                t.put(h(i), b("data" + i));
                committed.add(t.commit());
            }
            Transaction d = repo.begin();
            d.delete(h(0));
            committed.add(d.commit());
            List<Long> logged = new ArrayList<>();
            for (TransactionsLogFile.Entry e : repo.history()) {
                logged.add(e.transaction());
            }
            assertEquals(committed, logged);
        }
        List<String> lines = Files.readAllLines(dir.resolve("transactions"), StandardCharsets.US_ASCII);
        assertEquals(committed.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).matches("transaction " + committed.get(i) + ", UTC time \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}"),
                    lines.get(i));
        }
    }

    @Test
    void repairOfAppendOnlyRepositoryIsRefused() {
        try (Repository repo = createAppendOnly()) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.commit();
            List<Long> before = segments(dir);
            assertThrows(AppendOnlyException.class, () -> repo.check(CheckOptions.repairing(), ProgressListener.NONE));
            assertEquals(before, segments(dir));
            check(repo, false, true);
            assertArrayEquals(b("foo"), repo.get(h(0)));
        }
    }

    @Test
    void aCopyAtAnEarlierTransactionBringsItsObjectsBackAndLeavesTheOriginalAlone() {
        long second;
        byte[] repositoryId;
        try (Repository repo = createAppendOnly()) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.put(h(1), b("bar"));
            t.commit();
            t = repo.begin();
            t.put(h(2), b("baz"));
            second = t.commit();
            repo.commitNonceReservation(4096, null);
            t = repo.begin(); // what a "borg delete" through an append-only client does
            t.delete(h(0));
            t.delete(h(2));
            t.put(h(1), b("overwritten"));
            t.commit();
            repositoryId = repo.id();

            assertThrows(IllegalArgumentException.class, () -> repo.copyAtTransaction(second - 1, tmp.resolve("not-a-commit")),
                    "a data segment is not a transaction");
            repo.copyAtTransaction(second, tmp.resolve("restored"));
            assertFalse(repo.contains(h(0)), "the original is untouched");
            assertArrayEquals(b("overwritten"), repo.get(h(1)));
        }
        try (Repository restored = TestRepositories.open(tmp.resolve("restored"))) {
            assertEquals(second, restored.transactionId());
            assertArrayEquals(b("foo"), restored.get(h(0)));
            assertArrayEquals(b("bar"), restored.get(h(1)));
            assertArrayEquals(b("baz"), restored.get(h(2)));
            assertEquals(3, restored.objectCount());
            assertArrayEquals(repositoryId, restored.id(), "the same repository for its clients (same id, same key)");
            assertEquals(4096, restored.freeNonce().getAsLong(), "the nonce never goes back");
            assertTrue(restored.isAppendOnly());
            assertTrue(restored.check(CheckOptions.full(), ProgressListener.NONE).ok());
            assertTrue(restored.history().stream().allMatch(e -> e.transaction() <= second));
        }
    }
}
