package io.segstore.ops;

import io.segstore.engine.RepositoryInfo;
import io.segstore.service.MaintenanceService;
import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.segstore.service.WriterLease;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/repositories}: every repository's state for operators: quota, segments,
 * freeable bytes, objects, transaction, append-only, the open transaction and its lease, the
 * last check and the last compaction. {@code /actuator/repositories/{name}} gives one.
 */
@Component
@Endpoint(id = "repositories")
public class RepositoriesEndpoint {

    private final RepositoryService repositories;

    public RepositoriesEndpoint(RepositoryService repositories) {
        this.repositories = repositories;
    }

    @ReadOperation
    public Map<String, Object> all() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : repositories.openNames()) {
            out.put(name, describe(name));
        }
        repositories.unavailable().forEach((name, reason) -> out.put(name, Map.of("available", false, "reason", reason)));
        return Map.of("repositories", out, "startupComplete", repositories.startupComplete());
    }

    @ReadOperation
    public Map<String, Object> one(@Selector String name) {
        if (!repositories.openNames().contains(name)) {
            String reason = repositories.unavailable().get(name);
            return reason == null ? null : Map.of("available", false, "reason", reason);
        }
        return describe(name);
    }

    private Map<String, Object> describe(String name) {
        ManagedRepository m = repositories.get(name);
        RepositoryInfo i = m.repository().info();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("available", true);
        d.put("id", i.id());
        d.put("transactionId", i.transactionId());
        d.put("objects", i.objects());
        d.put("segments", i.segments());
        d.put("segmentBytes", m.repository().segmentBytes());
        d.put("sparseBytes", i.sparseBytes());
        d.put("quotaUsed", i.quotaUsed());
        d.put("quotaLimit", i.quotaLimit());
        d.put("appendOnly", i.appendOnly());
        d.put("checkNeeded", i.checkNeeded());
        d.put("indexMemoryBytes", i.indexMemoryBytes());
        List<Map<String, Object>> leases = new ArrayList<>();
        for (WriterLease l : m.leases()) {
            Map<String, Object> lease = new LinkedHashMap<>();
            lease.put("id", l.id());
            lease.put("owner", l.owner());
            lease.put("expiresAt", l.expiresAt().toString());
            lease.put("puts", l.puts());
            lease.put("deletes", l.deletes());
            leases.add(lease);
        }
        d.put("openTransactions", leases);
        d.put("writersWaiting", m.repository().writersWaiting());
        d.put("openListings", m.openListings());
        d.put("lastCheck", MaintenanceService.lastCheck(m.repository()));
        d.put("lastCompaction", MaintenanceService.lastCompaction(m.repository()));
        d.put("maintenance", m.schedule());
        return d;
    }
}
