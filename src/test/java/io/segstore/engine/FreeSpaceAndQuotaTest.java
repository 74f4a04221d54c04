package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.addKeys;
import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.h;
import static io.segstore.engine.ScenarioSupport.quotaUse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Borg's RepositoryFreeSpaceTestCase and QuotaTestCase. */
class FreeSpaceAndQuotaTest {

    /** Borg's "1000T" (size suffixes are decimal). */
    private static final long THOUSAND_TB = 1000L * 1000 * 1000 * 1000 * 1000;
    private static final long OVERHEAD = 41;

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    @Test
    void commitThatCannotKeepTheAdditionalFreeSpaceFailsAndRollsBack() {
        try (Repository repo = TestRepositories.create(dir)) {
            addKeys(repo);
            repo.setAdditionalFreeSpace(THOUSAND_TB);
        }
        try (Repository repo = TestRepositories.open(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foobar"));
            assertThrows(InsufficientFreeSpaceException.class, t::commit);
            assertFalse(t.isOpen(), "the failed commit rolled the transaction back");
            assertArrayEquals(b("foo"), repo.get(h(0)));
            assertEquals(3, repo.objectCount());
            try (Transaction next = repo.begin()) {
                assertTrue(next.isOpen(), "the writer was released");
            }
        }
        assertTrue(Files.isDirectory(dir));
        try (Repository repo = TestRepositories.open(dir)) {
            assertArrayEquals(b("foo"), repo.get(h(0)));
            assertEquals(3, repo.objectCount());
        }
    }

    @Test
    void commitWithOnlyDeletesNeedsNoFreeSpace() {
        try (Repository repo = TestRepositories.create(dir)) {
            addKeys(repo).commit();
            repo.setAdditionalFreeSpace(THOUSAND_TB);
            Transaction t = repo.begin();
            t.delete(h(0));
            t.delete(h(1));
            t.commit();
            assertFalse(repo.contains(h(0)));
            assertFalse(repo.contains(h(1)));
            assertEquals(1, repo.objectCount());
        }
    }

    @Test
    void quotaUseCountsEveryPutUntilCompactionFreesIt() {
        try (Repository repo = TestRepositories.create(dir)) {
            assertEquals(0, quotaUse(repo, null));
            Transaction t = repo.begin();
            t.put(h(1), new byte[1234]);
            assertEquals(1234 + OVERHEAD, quotaUse(repo, t));
            t.put(h(2), new byte[5678]);
            assertEquals(1234 + 5678 + 2 * OVERHEAD, quotaUse(repo, t));
            t.delete(h(1));
            assertEquals(1234 + 5678 + 2 * OVERHEAD, quotaUse(repo, t), "not compacted yet");
            t.commit();
            assertEquals(1234 + 5678 + 2 * OVERHEAD, quotaUse(repo, null), "not compacted yet");
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(1234 + 5678 + 2 * OVERHEAD, quotaUse(repo, null), "the quota use survives reopening");
            Transaction t = repo.begin();
            t.put(h(3), new byte[0]);
            t.delete(h(3));
            assertEquals(1234 + 5678 + 3 * OVERHEAD, quotaUse(repo, t), "not compacted yet");
            t.commit();
            repo.compact(0.1, ProgressListener.NONE);
            assertEquals(5678 + OVERHEAD, quotaUse(repo, null));
            assertEquals(5678 + OVERHEAD, repo.info().quotaUsed());
        }
    }

    @Test
    void putThatExceedsTheQuotaDoomsItsTransaction() {
        try (Repository repo = TestRepositories.create(dir)) {
            assertEquals(0, quotaUse(repo, null));
            repo.setStorageQuota(50);
            Transaction t = repo.begin();
            t.put(h(1), new byte[0]);
            assertEquals(OVERHEAD, quotaUse(repo, t));
            t.commit();

            Transaction over = repo.begin();
            assertThrows(StorageQuotaExceededException.class, () -> over.put(h(2), new byte[0]));
            assertEquals(2 * OVERHEAD, quotaUse(repo, over));
            assertThrows(TransactionDoomedException.class, () -> over.put(h(3), new byte[0]));
            assertThrows(StorageQuotaExceededException.class, over::commit);
            assertFalse(over.isOpen());
            assertEquals(OVERHEAD, quotaUse(repo, null), "the rolled-back PUT is not counted");
            assertFalse(repo.contains(h(2)));
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(50, repo.storageQuota());
            repo.setStorageQuota(100);
            Transaction t = repo.begin();
            t.put(h(1), new byte[0]);
            assertEquals(2 * OVERHEAD, quotaUse(repo, t), "two PUTs of H(1), not compacted yet");
            t.commit();
            repo.compact(0.1, ProgressListener.NONE);
            assertEquals(OVERHEAD, quotaUse(repo, null), "compacted");
            assertTrue(repo.contains(h(1)));
        }
    }
}
