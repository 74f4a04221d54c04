package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.h;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Borg's RepositoryTestCase: puts, deletes, transactions, listing and the size limit. */
class RepositoryBasicsTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    @Test
    void objectsPutInOneTransactionSurviveReopenExceptTheDeletedOne() {
        ObjectId key50 = h(50);
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            for (int x = 0; x < 100; x++) {
                t.put(h(x), b("SOMEDATA"));
            }
            assertArrayEquals(b("SOMEDATA"), t.get(key50));
            t.delete(key50);
            assertThrows(ObjectNotFoundException.class, () -> t.get(key50));
            t.commit();
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertThrows(ObjectNotFoundException.class, () -> repo.get(key50));
            for (int x = 0; x < 100; x++) {
                if (x != 50) {
                    assertArrayEquals(b("SOMEDATA"), repo.get(h(x)), "H(" + x + ")");
                }
            }
            assertEquals(99, repo.objectCount());
        }
    }

    @Test
    void sequentialTransactionsEachBuildOnTheLastCommit() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction first = repo.begin();
            first.put(h(0), b("foo"));
            first.put(h(1), b("foo"));
            first.commit();
            Transaction second = repo.begin();
            second.delete(h(0));
            second.put(h(1), b("bar"));
            second.commit();
            assertArrayEquals(b("bar"), repo.get(h(1)));
            assertFalse(repo.contains(h(0)));
        }
    }

    @Test
    void transactionReadsSeeItsOwnOverwritesAndDeletes() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            assertArrayEquals(b("foo"), t.get(h(0)));
            t.put(h(0), b("foo2"));
            assertArrayEquals(b("foo2"), t.get(h(0)));
            t.put(h(0), b("bar"));
            assertArrayEquals(b("bar"), t.get(h(0)));
            t.delete(h(0));
            assertThrows(ObjectNotFoundException.class, () -> t.get(h(0)));
            t.rollback();
        }
    }

    @Test
    void rollbackRestoresTheCommittedValue() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            assertArrayEquals(b("foo"), t.get(h(0)));
            t.commit();
            Transaction next = repo.begin();
            next.put(h(0), b("foo2"));
            assertArrayEquals(b("foo2"), next.get(h(0)));
            next.rollback();
            assertArrayEquals(b("foo"), repo.get(h(0)));
            try (Transaction after = repo.begin()) {
                assertArrayEquals(b("foo"), after.get(h(0)), "a new transaction starts from the committed value");
            }
        }
    }

    @Test
    void lastPutWinsWhenAnIdIsWrittenTwiceInOneTransaction() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.put(h(0), b("foo2"));
            t.commit();
            assertArrayEquals(b("foo2"), repo.get(h(0)));
            assertEquals(1, repo.objectCount());
        }
    }

    @Test
    void putReplaceAndDeleteEachCommitInTheirOwnSession() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            t.commit();
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertArrayEquals(b("foo"), repo.get(h(0)));
            Transaction t = repo.begin();
            t.put(h(0), b("bar"));
            t.commit();
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertArrayEquals(b("bar"), repo.get(h(0)));
            Transaction t = repo.begin();
            t.delete(h(0));
            t.commit();
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertFalse(repo.contains(h(0)));
            assertEquals(0, repo.objectCount());
        }
    }

    @Test
    void listPagesThroughAllObjectsWithLimitAndMarker() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            for (int x = 0; x < 100; x++) {
                t.put(h(x), b("SOMEDATA"));
            }
            t.commit();
            List<ObjectId> all = repo.list(Integer.MAX_VALUE, null);
            assertEquals(100, all.size());
            Set<ObjectId> expected = new HashSet<>();
            for (int x = 0; x < 100; x++) {
                expected.add(h(x));
            }
            assertEquals(expected, new HashSet<>(all));
            List<ObjectId> firstHalf = repo.list(50, null);
            assertEquals(50, firstHalf.size());
            assertEquals(all.subList(0, 50), firstHalf);
            List<ObjectId> secondHalf = repo.list(Integer.MAX_VALUE, firstHalf.get(49));
            assertEquals(50, secondHalf.size());
            assertEquals(all.subList(50, 100), secondHalf);
            assertEquals(50, repo.list(50, null).size());
        }
    }

    @Test
    void scanReturnsObjectsInDiskOrderAndPagesWithMarker() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            for (int x = 0; x < 100; x++) {
                t.put(h(x), b("SOMEDATA"));
            }
            t.commit();
            List<ObjectId> all = repo.scan(Integer.MAX_VALUE, null);
            assertEquals(100, all.size());
            List<ObjectId> firstHalf = repo.scan(50, null);
            assertEquals(50, firstHalf.size());
            assertEquals(all.subList(0, 50), firstHalf);
            List<ObjectId> secondHalf = repo.scan(Integer.MAX_VALUE, firstHalf.get(49));
            assertEquals(50, secondHalf.size());
            assertEquals(all.subList(50, 100), secondHalf);
            assertEquals(50, repo.scan(50, null).size());
            List<ObjectId> putOrder = new ArrayList<>();
            for (int x = 0; x < 100; x++) {
                putOrder.add(h(x));
            }
            assertEquals(putOrder, all, "disk order is the order the objects were written in");
        }
    }

    @Test
    void objectOfMaximumDataSizeIsStoredAndOneByteMoreIsRefused() {
        byte[] max = new byte[SegmentFile.MAX_DATA_SIZE];
        Arrays.fill(max, (byte) 'x');
        byte[] tooBig = Arrays.copyOf(max, max.length + 1);
        tooBig[max.length] = 'x';
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), max);
            assertArrayEquals(max, t.get(h(0)));
            assertThrows(ObjectTooLargeException.class, () -> t.put(h(1), tooBig));
            assertTrue(t.isOpen(), "refusing an oversized object leaves the transaction usable");
            t.commit();
            assertArrayEquals(max, repo.get(h(0)));
            assertFalse(repo.contains(h(1)));
        }
    }
}
