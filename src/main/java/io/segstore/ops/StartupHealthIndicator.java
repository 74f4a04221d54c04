package io.segstore.ops;

import io.segstore.service.RepositoryService;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * "repositoriesOpened" in the readiness group: OUT_OF_SERVICE while the repositories found at
 * start-up are still being opened (their logs replayed), so no traffic is sent before.
 */
@Component("repositoriesOpenedHealthIndicator")
public class StartupHealthIndicator implements HealthIndicator {

    private final RepositoryService repositories;

    public StartupHealthIndicator(RepositoryService repositories) {
        this.repositories = repositories;
    }

    @Override
    public Health health() {
        if (!repositories.startupComplete()) {
            return Health.outOfService().withDetail("opened", repositories.openNames().size())
                    .withDetail("reason", "repositories are still being opened").build();
        }
        return Health.up().withDetail("opened", repositories.openNames().size())
                .withDetail("unavailable", repositories.unavailable().size()).build();
    }
}
