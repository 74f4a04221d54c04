package io.segstore.web;

import io.segstore.engine.RepositoryInfo;
import io.segstore.service.MaintenanceService;
import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** Repositories: list, create, inspect, change, destroy. */
@RestController
@RequestMapping("/repos")
@Tag(name = "repositories")
public class RepositoryController {

    private final RepositoryService repositories;

    public RepositoryController(RepositoryService repositories) {
        this.repositories = repositories;
    }

    /** A repository as the API shows it. */
    public record RepositoryBody(String name, String id, Long transactionId, long objects, long segments, long sparseBytes,
                                 long quotaUsed, long quotaLimit, boolean appendOnly, String verify,
                                 MaintenanceService.LastCheck lastCheck, long additionalFreeSpace, long maxSegmentSize,
                                 int segmentsPerDir, boolean openTransaction, int writersWaiting, String checkNeeded) {

        static RepositoryBody of(ManagedRepository m) {
            RepositoryInfo i = m.repository().info();
            return new RepositoryBody(m.name(), i.id(), i.transactionId(), i.objects(), i.segments(), i.sparseBytes(), i.quotaUsed(),
                    i.quotaLimit(), i.appendOnly(), m.verify(), MaintenanceService.lastCheck(m.repository()), i.additionalFreeSpace(),
                    i.maxSegmentSize(), i.segmentsPerDir(), m.openLeases() > 0, m.repository().writersWaiting(), i.checkNeeded());
        }
    }

    /** The repository list. */
    public record RepositoryList(List<RepositoryBody> repositories) {
    }

    /** Settings that may change after creation; absent fields stay as they are. */
    public record RepositoryPatch(Boolean appendOnly, Long storageQuota, Long additionalFreeSpace, String verify) {
    }

    @GetMapping
    @Operation(summary = "List repositories")
    public RepositoryList list() {
        List<RepositoryBody> out = new ArrayList<>();
        for (String name : repositories.names()) {
            try {
                out.add(RepositoryBody.of(repositories.get(name)));
            } catch (RuntimeException e) {
                // one that cannot be opened is still listed by name
                out.add(new RepositoryBody(name, null, null, 0, 0, 0, 0, 0, false, null, null, 0, 0, 0, false, 0, e.getMessage()));
            }
        }
        return new RepositoryList(out);
    }

    @PutMapping("/{repo}")
    @Operation(summary = "Create a repository", description = "201 with the new repository; 409 if the name is taken.")
    public ResponseEntity<RepositoryBody> create(@PathVariable String repo,
                                                 @RequestBody(required = false) RepositoryService.CreateRequest body) {
        ManagedRepository m = repositories.create(repo, body);
        return ResponseEntity.created(URI.create("/repos/" + repo)).body(RepositoryBody.of(m));
    }

    @GetMapping("/{repo}")
    @Operation(summary = "Describe a repository")
    public RepositoryBody get(@PathVariable String repo) {
        return RepositoryBody.of(repositories.get(repo));
    }

    @PatchMapping("/{repo}")
    @Operation(summary = "Change appendOnly, storageQuota, additionalFreeSpace or verify")
    public RepositoryBody update(@PathVariable String repo, @RequestBody RepositoryPatch body) {
        return RepositoryBody.of(repositories.update(repo, body.appendOnly(), body.storageQuota(), body.additionalFreeSpace(), body.verify()));
    }

    @DeleteMapping("/{repo}")
    @Operation(summary = "Destroy a repository and all its data", description = "403 for an append-only repository.")
    public ResponseEntity<Void> destroy(@PathVariable String repo) {
        repositories.destroy(repo);
        return ResponseEntity.noContent().build();
    }
}
