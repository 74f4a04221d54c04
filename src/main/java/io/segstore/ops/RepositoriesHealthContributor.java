package io.segstore.ops;

import io.segstore.engine.RepositoryInfo;
import io.segstore.service.MaintenanceService;
import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.segstore.service.SegstoreProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * "repositories": one health per repository, DOWN when it could not be opened, needs a check,
 * its last check found errors, its quota is nearly used up or the disk is nearly full. It shows
 * in /actuator/health's details and in metrics, never in the probe groups: one bad repository
 * must not take the whole service out of rotation.
 */
@Component("repositoriesHealthContributor")
public class RepositoriesHealthContributor implements CompositeHealthContributor {

    private final RepositoryService repositories;
    private final SegstoreProperties.Health limits;

    public RepositoriesHealthContributor(RepositoryService repositories, SegstoreProperties properties) {
        this.repositories = repositories;
        this.limits = properties.health();
    }

    @Override
    public HealthContributor getContributor(String name) {
        if (!repositories.openNames().contains(name) && !repositories.unavailable().containsKey(name)) {
            return null;
        }
        return (HealthIndicator) () -> health(name);
    }

    @Override
    public Stream<HealthContributors.Entry> stream() {
        List<String> names = new ArrayList<>(repositories.openNames());
        names.addAll(repositories.unavailable().keySet());
        return names.stream().sorted().map(n -> new HealthContributors.Entry(n, (HealthIndicator) () -> health(n)));
    }

    Health health(String name) {
        String unavailable = repositories.unavailable().get(name);
        if (unavailable != null) {
            return Health.down().withDetail("reason", "cannot be opened: " + unavailable).build();
        }
        ManagedRepository m;
        RepositoryInfo i;
        try {
            m = repositories.get(name);
            i = m.repository().info();
        } catch (RuntimeException e) {
            return Health.down().withDetail("reason", e.getMessage()).build();
        }
        Health.Builder b = Health.up();
        List<String> problems = new ArrayList<>();
        if (i.checkNeeded() != null) {
            problems.add("needs a check: " + i.checkNeeded());
        }
        MaintenanceService.LastCheck last = MaintenanceService.lastCheck(m.repository());
        if (last != null && last.errors() > 0) {
            problems.add("its last check (" + last.time() + ") found " + last.errors() + " errors");
        }
        if (i.quotaLimit() > 0) {
            long left = i.quotaLimit() - i.quotaUsed();
            b.withDetail("quotaLeft", left);
            if (left < i.quotaLimit() * limits.minQuotaHeadroom()) {
                problems.add("its storage quota is nearly used up (" + left + " of " + i.quotaLimit() + " bytes left)");
            }
        }
        try {
            long free = Files.getFileStore(repositories.dataDir()).getUsableSpace();
            b.withDetail("diskFree", free);
            if (free < limits.minFreeBytes() + i.additionalFreeSpace()) {
                problems.add("the disk is nearly full (" + free + " bytes free)");
            }
        } catch (IOException e) {
            problems.add("free space unknown: " + e.getMessage());
        }
        b.withDetail("objects", i.objects()).withDetail("transactionId", i.transactionId() == null ? -1 : i.transactionId());
        if (last != null) {
            b.withDetail("lastCheck", last);
        }
        if (!problems.isEmpty()) {
            b.down().withDetail("problems", problems);
        }
        return b.build();
    }
}
