package io.segstore.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Opening repositories in tests: no lock wait, synchronous checkpoints so tests are deterministic. */
public final class TestRepositories {

    private TestRepositories() {
    }

    public static OpenOptions options() {
        return OpenOptions.defaults().withBackgroundCheckpoints(false).withHostId("segstore-test");
    }

    public static Repository create(Path dir) {
        return Repository.create(dir, CreateOptions.defaults(), options());
    }

    public static Repository create(Path dir, CreateOptions create) {
        return Repository.create(dir, create, options());
    }

    public static Repository open(Path dir) {
        return Repository.open(dir, options());
    }

    /** Deletes every checkpoint file, so that the next open rebuilds the state from the log alone. */
    public static void removeCheckpoints(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith("index.") || n.startsWith("hints.") || n.startsWith("integrity.") || n.startsWith("segstore-index.")) {
                    Files.delete(f);
                }
            }
        }
    }
}
