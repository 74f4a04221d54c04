package io.segstore.engine.crash;

import io.segstore.engine.OpenOptions;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import java.nio.file.Path;

/**
 * The child process of the crash tests: opens a prepared repository and runs one operation,
 * printing "ACK" when the engine acknowledged it. Started with -Dsegstore.crash-at=... it dies
 * at that point instead.
 */
public final class CrashScenario {

    private CrashScenario() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String scenario = args[1];
        OpenOptions options = OpenOptions.defaults().withBackgroundCheckpoints(false).withHostId("segstore-test")
                .withCheckpointCommits(scenario.equals("checkpoint") ? 1 : 1000);
        try (Repository repo = Repository.open(dir, options)) {
            switch (scenario) {
                case "commit", "checkpoint" -> {
                    try (Transaction t = repo.begin()) {
                        CrashWorkload.applySecondTransaction(t);
                        long tid = t.commit();
                        System.out.println("ACK " + tid);
                    }
                }
                case "compact" -> {
                    repo.compact(0.0, ProgressListener.NONE);
                    System.out.println("ACK compact");
                }
                default -> throw new IllegalArgumentException(scenario);
            }
            System.out.flush();
        }
    }
}
