package io.segstore.engine;

import java.nio.file.Path;

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
}
