package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.h;
import static io.segstore.engine.ScenarioSupport.pendingShadow;
import static io.segstore.engine.ScenarioSupport.shadow;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Borg's RepositoryHintsTestCase: the ledgers and shadow index that hints.T carries. */
class HintsTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    @Test
    void ledgersAndShadowIndexSurviveReopeningThroughTheHints() {
        long[] shadowExpected;
        Map<Long, Long> compactExpected;
        Map<Long, Long> segmentsExpected;
        long quotaExpected;
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("data"));
            t.delete(h(0));
            t.commit();
            shadowExpected = shadow(repo, h(0));
            assertNotNull(shadowExpected);
            compactExpected = new TreeMap<>(repo.state.usage.freeableView());
            segmentsExpected = new TreeMap<>(repo.state.usage.liveView());
            quotaExpected = repo.state.quotaUse;
        }
        try (Repository repo = TestRepositories.open(dir)) {
            Transaction t = repo.begin();
            t.put(h(42), b("foobar"));
            assertArrayEquals(shadowExpected, shadow(repo, h(0)));
            assertEquals(compactExpected, new TreeMap<>(repo.state.usage.freeableView()));
            // the open transaction's segment is not part of the committed ledger
            assertEquals(segmentsExpected, new TreeMap<>(repo.state.usage.liveView()));
            assertEquals(quotaExpected, repo.state.quotaUse);
            t.rollback();
        }
    }

    @Test
    void compactionForgetsEverythingAboutWhatItRemoved() {
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("data"));
            assertNull(shadow(repo, h(0)));
            assertNull(pendingShadow(t, h(0)));
            assertTrue(repo.state.usage.freeableView().isEmpty());
            assertTrue(t.delta.usage.freeableView().isEmpty(), "a plain PUT frees nothing");
            t.delete(h(0));
            t.commit();
            // now H(0) has a shadow entry: its PUT in segment 0 is hidden by the DELETE
            long[] shadowed = shadow(repo, h(0));
            assertNotNull(shadowed);
            assertEquals(1, shadowed.length);
            assertTrue(repo.state.usage.freeableView().containsKey(0L), "segment 0 can be compacted");

            Transaction next = repo.begin();
            next.put(h(42), b("foobar"));
            next.commit();
            repo.compact(0.0, ProgressListener.NONE); // compact completely
            assertNull(shadow(repo, h(0)), "nothing of H(0) exists any more");
            assertFalse(repo.state.usage.freeableView().containsKey(0L));
            assertFalse(repo.state.usage.liveView().containsKey(0L));
            assertArrayEquals(b("foobar"), repo.get(h(42)));
        }
    }
}
