package io.segstore.engine.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.CreateOptions;
import io.segstore.engine.Ids;
import io.segstore.engine.ObjectId;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.RepositoryInfo;
import io.segstore.engine.TestRepositories;
import io.segstore.engine.Transaction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A writing process is killed at each step of commit, checkpoint and compaction; reopening
 * must show every acknowledged commit and nothing of an unacknowledged one (all or nothing),
 * check must pass, and the repository must take new writes.
 */
class KilledProcessTest {

    @TempDir
    Path tmp;

    static Stream<Arguments> commitSteps() {
        return Stream.of(
                Arguments.of("commit.before-data-sync", false),
                Arguments.of("commit.after-data-sync", false),
                Arguments.of("commit.after-commit-segment-created", false),
                Arguments.of("commit.after-directory-sync", false),
                // the COMMIT is in the file (a killed process leaves the page cache to the kernel)
                Arguments.of("commit.after-commit-written", true),
                Arguments.of("commit.after-commit-synced", true));
    }

    @ParameterizedTest(name = "killed at {0}")
    @MethodSource("commitSteps")
    void killedCommitLeavesTheOldOrTheNewStateWhole(String point, boolean committed) throws Exception {
        Path dir = prepare(CreateOptions.defaults(), false);
        crash(dir, "commit", point);
        Map<ObjectId, byte[]> expected = CrashWorkload.first();
        if (committed) {
            CrashWorkload.applySecond(expected);
        }
        verify(dir, expected);
    }

    static Stream<String> checkpointSteps() {
        return Stream.of("checkpoint.after-hints-written", "checkpoint.after-temporaries-written",
                "checkpoint.after-integrity-renamed", "checkpoint.after-hints-renamed", "checkpoint.after-index-renamed",
                "checkpoint.after-own-index-written", "checkpoint.before-cleanup");
    }

    @ParameterizedTest(name = "killed at {0}")
    @MethodSource("checkpointSteps")
    void killedCheckpointLosesNothingCommitted(String point) throws Exception {
        Path dir = prepare(CreateOptions.defaults(), false);
        crash(dir, "checkpoint", point);
        Map<ObjectId, byte[]> expected = CrashWorkload.first();
        CrashWorkload.applySecond(expected);
        verify(dir, expected);
    }

    static Stream<String> compactionSteps() {
        return Stream.of("compact.after-copy", "compact.before-commit", "compact.after-commit-synced",
                "compact.after-apply", "compact.after-segment-deleted",
                "compact.after-segment-deleted#3", "compact.before-checkpoint", "compact.after-copy#2",
                "compact.after-segment-deleted#9", "checkpoint.after-integrity-renamed#2");
    }

    @ParameterizedTest(name = "killed at {0}")
    @MethodSource("compactionSteps")
    void killedCompactionLosesNothingAndResurrectsNothing(String point) throws Exception {
        // small segments, so that compaction takes several steps
        Path dir = prepare(CreateOptions.defaults().withMaxSegmentSize(256 * 1024), true);
        crash(dir, "compact", point);
        assertAccountingMatchesTheLog(dir);
        Map<ObjectId, byte[]> expected = CrashWorkload.first();
        CrashWorkload.applySecond(expected);
        verify(dir, expected);
        expected.put(Ids.h(123456), Ids.bytes("after the crash"));
        // the next compaction finishes the work, and a rebuild from the log alone agrees
        try (Repository repo = TestRepositories.open(dir)) {
            repo.compact(0.0, ProgressListener.NONE);
            assertState(repo, expected);
        }
        TestRepositories.removeCheckpoints(dir);
        try (Repository repo = TestRepositories.open(dir)) {
            assertState(repo, expected);
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    /** A repository holding the first transaction (and, when asked, the second one too). */
    private Path prepare(CreateOptions create, boolean withSecond) {
        Path dir = tmp.resolve("repo");
        try (Repository repo = TestRepositories.create(dir, create)) {
            try (Transaction t = repo.begin()) {
                CrashWorkload.first().forEach(t::put);
                t.commit();
            }
            if (withSecond) {
                try (Transaction t = repo.begin()) {
                    CrashWorkload.applySecondTransaction(t);
                    t.commit();
                }
            }
        }
        return dir;
    }

    private static void crash(Path dir, String scenario, String point) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Dsegstore.crash-at=" + point, "-cp", System.getProperty("java.class.path"),
                CrashScenario.class.getName(), dir.toString(), scenario)
                .redirectErrorStream(false)
                .start();
        p.getOutputStream().close();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "child did not finish");
        assertTrue(stderr.contains("CRASH-POINT " + point.replaceAll("#\\d+$", "")),
                "the child must die at " + point + "; exit " + p.exitValue() + ", stdout: " + stdout + ", stderr: " + stderr);
        assertEquals(137, p.exitValue(), stderr);
        assertFalse(stdout.contains("ACK"), "nothing may be acknowledged before the crash: " + stdout);
    }

    private static void verify(Path dir, Map<ObjectId, byte[]> expected) {
        try (Repository repo = TestRepositories.open(dir)) {
            assertState(repo, expected);
            CheckResult check = repo.check(CheckOptions.full(), ProgressListener.NONE);
            assertTrue(check.ok(), check.errors().toString());
            try (Transaction t = repo.begin()) {
                t.put(Ids.h(123456), Ids.bytes("after the crash"));
                t.commit();
            }
            assertArrayEquals(Ids.bytes("after the crash"), repo.get(Ids.h(123456)));
        }
    }

    private static void assertState(Repository repo, Map<ObjectId, byte[]> expected) {
        assertEquals(expected.size(), repo.objectCount(), "object count");
        expected.forEach((id, data) -> assertArrayEquals(data, repo.get(id), "object " + id));
        for (int i = 0; i < 300; i++) {
            assertEquals(expected.containsKey(Ids.h2(i)), repo.contains(Ids.h2(i)), "presence of " + i);
        }
    }

    /**
     * The quota use and freeable bytes recovered from checkpoint plus replay equal those of a
     * rebuild from the log alone (a copy without checkpoints): a checkpoint that still counts
     * segments a crashed compaction deleted must not inflate them.
     */
    private void assertAccountingMatchesTheLog(Path dir) throws IOException {
        RepositoryInfo recovered;
        try (Repository repo = TestRepositories.open(dir)) {
            recovered = repo.info();
        }
        Path copy = tmp.resolve("rebuilt-" + System.nanoTime());
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path from : walk.toList()) {
                Files.copy(from, copy.resolve(dir.relativize(from).toString()));
            }
        }
        TestRepositories.removeCheckpoints(copy);
        try (Repository repo = TestRepositories.open(copy)) {
            RepositoryInfo rebuilt = repo.info();
            assertEquals(rebuilt.quotaUsed(), recovered.quotaUsed(), "quota use");
            assertEquals(rebuilt.sparseBytes(), recovered.sparseBytes(), "freeable bytes");
            assertEquals(rebuilt.objects(), recovered.objects(), "objects");
        }
    }

}
