package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.LockDirectory;
import io.segstore.engine.format.LockRoster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Borg's lock files: who may take a repository, and which leftover locks count as stale. */
class RepositoryLockTest {

    @TempDir
    Path tmp;

    private Path repository() {
        Path dir = tmp.resolve("r");
        TestRepositories.create(dir).close();
        return dir;
    }

    /** Leaves lock files as a holder that is not this process would have left them. */
    private static void plantLock(Path repo, String host, long pid) throws IOException {
        Path dir = repo.resolve(LockDirectory.NAME);
        Files.createDirectory(dir);
        Files.createFile(dir.resolve(new LockDirectory.Holder(host, pid, 0).fileName()));
        Files.writeString(repo.resolve(LockRoster.NAME), "{\"exclusive\": [[\"" + host + "\", " + pid + ", 0]]}",
                StandardCharsets.UTF_8);
    }

    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void aSecondOpenOfTheSameRepositoryInThisProcessIsRefused() {
        Path dir = repository();
        try (Repository repo = TestRepositories.open(dir)) {
            assertThrows(LockTimeoutException.class, () -> TestRepositories.open(dir));
            assertEquals(0, repo.objectCount());
        }
        TestRepositories.open(dir).close();
    }

    @Test
    void lockOfAProcessOfThisHostThatIsGoneIsBroken() throws Exception {
        Path dir = repository();
        plantLock(dir, "segstore-test", deadPid());
        try (Repository repo = TestRepositories.open(dir)) {
            assertTrue(Files.isDirectory(dir.resolve(LockDirectory.NAME)));
            assertTrue(new LockRoster(dir).load().get(LockRoster.EXCLUSIVE).stream().allMatch(h -> h.pid() == ProcessHandle.current().pid()));
        }
        assertFalse(Files.exists(dir.resolve(LockDirectory.NAME)), "released on close");
        assertFalse(Files.exists(dir.resolve(LockRoster.NAME)), "an empty roster is removed");
    }

    @Test
    void lockOfAPreviousIncarnationWithOurOwnPidIsBroken() throws Exception {
        // in a container every start has the same pid: a lock naming our host id and pid that this
        // process does not hold was left by the previous start
        Path dir = repository();
        plantLock(dir, "segstore-test", ProcessHandle.current().pid());
        TestRepositories.open(dir).close();
    }

    @Test
    void lockOfALiveProcessOfThisHostIsRespected() throws Exception {
        Path dir = repository();
        Process holder = new ProcessBuilder("sleep", "600").start();
        try {
            plantLock(dir, "segstore-test", holder.pid());
            assertThrows(LockTimeoutException.class, () -> TestRepositories.open(dir));
            assertThrows(LockTimeoutException.class,
                    () -> Repository.open(dir, TestRepositories.options().withLockWait(Duration.ofMillis(300))));
        } finally {
            holder.destroyForcibly().waitFor();
        }
        TestRepositories.open(dir).close();
    }

    @Test
    void lockOfAnotherHostIsAssumedAliveUntilBroken() throws Exception {
        Path dir = repository();
        plantLock(dir, "elsewhere@1234", deadPid());
        assertThrows(LockTimeoutException.class, () -> TestRepositories.open(dir));
        Repository.breakLock(dir);
        assertFalse(Files.exists(dir.resolve(LockDirectory.NAME)));
        TestRepositories.open(dir).close();
    }

    @Test
    void malformedLockIsNeverBrokenAutomatically() throws Exception {
        Path dir = repository();
        Files.createDirectory(dir.resolve(LockDirectory.NAME));
        Files.createFile(dir.resolve(LockDirectory.NAME).resolve("not-a-holder-name"));
        assertThrows(LockTimeoutException.class, () -> TestRepositories.open(dir));
    }
}
