package io.segstore.ops;

import io.segstore.service.RepositoryService;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * "dataDirectory" in the readiness group: DOWN when the data directory is missing or cannot be
 * written (a volume mounted read-only, or gone). Low free space is reported by each repository's
 * own health, not here: a full disk still serves reads and deletes.
 */
@Component("dataDirectoryHealthIndicator")
public class DataDirectoryHealthIndicator implements HealthIndicator {

    private final RepositoryService repositories;

    public DataDirectoryHealthIndicator(RepositoryService repositories) {
        this.repositories = repositories;
    }

    @Override
    public Health health() {
        Path dir = repositories.dataDir();
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            return Health.down().withDetail("path", dir.toString()).withDetail("reason", "missing or not writable").build();
        }
        try {
            FileStore store = Files.getFileStore(dir);
            return Health.up().withDetail("path", dir.toString()).withDetail("free", store.getUsableSpace())
                    .withDetail("total", store.getTotalSpace()).build();
        } catch (IOException e) {
            return Health.down(e).withDetail("path", dir.toString()).build();
        }
    }
}
