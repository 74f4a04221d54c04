package io.segstore.web;

import io.segstore.security.AccessPolicy;
import io.segstore.security.Action;

import io.segstore.engine.RepositoryInfo;
import io.segstore.service.MaintenanceSchedule;
import io.segstore.service.MaintenanceService;
import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
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
    private final AccessPolicy access;
    private final MaintenanceService maintenance;

    public RepositoryController(RepositoryService repositories, AccessPolicy access, MaintenanceService maintenance) {
        this.repositories = repositories;
        this.access = access;
        this.maintenance = maintenance;
    }

    /** A repository as the API shows it. */
    public record RepositoryBody(String name, String id, Long transactionId, long objects, long segments, long sparseBytes,
                                 long quotaUsed, long quotaLimit, boolean appendOnly, String verify,
                                 MaintenanceService.LastCheck lastCheck, long additionalFreeSpace, long maxSegmentSize,
                                 int segmentsPerDir, boolean openTransaction, int writersWaiting, String checkNeeded,
                                 MaintenanceService.LastCompaction lastCompaction, MaintenanceSchedule maintenance,
                                 String storage) {

        static RepositoryBody of(ManagedRepository m, String store) {
            RepositoryInfo i = m.repository().info();
            return new RepositoryBody(m.name(), i.id(), i.transactionId(), i.objects(), i.segments(), i.sparseBytes(), i.quotaUsed(),
                    i.quotaLimit(), i.appendOnly(), m.verify(), MaintenanceService.lastCheck(m.repository()), i.additionalFreeSpace(),
                    i.maxSegmentSize(), i.segmentsPerDir(), m.openLeases() > 0, m.repository().writersWaiting(), i.checkNeeded(),
                    MaintenanceService.lastCompaction(m.repository()), m.schedule(), store == null ? "local" : store);
        }
    }

    /** The repository list. */
    public record RepositoryList(List<RepositoryBody> repositories) {
    }

    /** Settings that may change after creation; absent fields stay as they are. */
    public record RepositoryPatch(Boolean appendOnly, Long storageQuota, Long additionalFreeSpace, String verify,
                                  MaintenancePatch maintenance) {
    }

    /** Scheduled maintenance to change; absent fields stay as they are, 0 turns an interval off. */
    public record MaintenancePatch(Long checkIntervalSeconds, Long checkMaxDurationSeconds, Long compactionIntervalSeconds,
                                   Double compactionThreshold) {
    }

    @GetMapping
    @Operation(operationId = "listRepositories", summary = "List repositories", description = "Every repository in the "
            + "data directory that the token has a grant on, sorted by name; one that could not be opened is listed with its name and the reason in checkNeeded.")
    @ApiResponse(responseCode = "200", description = "The repositories", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = RepositoryList.class), examples = @ExampleObject(name = "one", value = ApiExamples.REPOSITORY_LIST)))
    @Requires(value = Action.READ, perRepository = false)
    public RepositoryList list() {
        List<RepositoryBody> out = new ArrayList<>();
        for (String name : repositories.names()) {
            if (!access.maySee(name)) {
                continue; // a token sees only the repositories it has a grant on
            }
            try {
                out.add(RepositoryBody.of(repositories.get(name), repositories.storageOf(name)));
            } catch (RuntimeException e) {
                // one that cannot be opened is still listed by name
                out.add(new RepositoryBody(name, null, null, 0, 0, 0, 0, 0, false, null, null, 0, 0, 0, false, 0, e.getMessage(),
                        null, null, repositories.storageOf(name) == null ? "local" : repositories.storageOf(name)));
            }
        }
        return new RepositoryList(out);
    }

    @PutMapping("/{repo}")
    @Operation(operationId = "createRepository", summary = "Create a repository",
            description = "201 with the new repository; 409 if the name is taken. The body is optional.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON,
            examples = {@ExampleObject(name = "defaults", summary = "Borg's defaults", value = "{}"),
                        @ExampleObject(name = "every field", value = ApiExamples.CREATE)}))
    @ApiResponse(responseCode = "201", description = "Created",
            headers = @Header(name = "Location", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.LOCATION),
            content = @Content(mediaType = ApiExamples.JSON, schema = @Schema(implementation = RepositoryBody.class),
                    examples = @ExampleObject(name = "created", value = ApiExamples.NEW_REPOSITORY)))
    @ApiProblems(value = {"bad-parameter", "repository-exists", "storage-error"}, except = {"repository-not-found", "repository-unavailable"})
    @Requires(Action.CREATE)
    public ResponseEntity<RepositoryBody> create(@PathVariable String repo,
                                                 @RequestBody(required = false) RepositoryService.CreateRequest body) {
        ManagedRepository m = repositories.create(repo, body);
        return ResponseEntity.created(URI.create("/repos/" + repo)).body(RepositoryBody.of(m, repositories.storageOf(repo)));
    }

    @GetMapping("/{repo}")
    @Operation(operationId = "getRepository", summary = "Describe a repository", description = "Borg's repository id, the last "
            + "committed transaction (null before the first commit), object and segment counts, sparse bytes, quota use and "
            + "limit, settings, the last check.")
    @ApiResponse(responseCode = "200", description = "The repository", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = RepositoryBody.class), examples = @ExampleObject(name = "repository", value = ApiExamples.REPOSITORY)))
    @Requires(Action.READ)
    public RepositoryBody get(@PathVariable String repo) {
        return RepositoryBody.of(repositories.get(repo), repositories.storageOf(repo));
    }

    @PatchMapping("/{repo}")
    @Operation(operationId = "updateRepository", summary = "Change appendOnly, storageQuota, additionalFreeSpace, verify or "
            + "the scheduled maintenance", description = "Absent fields stay as they are. Answers the repository as it is now.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON,
            examples = @ExampleObject(name = "quota and verification", value = ApiExamples.PATCH)))
    @ApiResponse(responseCode = "200", description = "Changed", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = RepositoryBody.class), examples = @ExampleObject(name = "repository", value = ApiExamples.REPOSITORY)))
    @ApiProblems({"bad-parameter", "storage-error"})
    @Requires(Action.CONFIGURE)
    public RepositoryBody update(@PathVariable String repo, @RequestBody RepositoryPatch body) {
        ManagedRepository m = repositories.update(repo, body.appendOnly(), body.storageQuota(), body.additionalFreeSpace(), body.verify());
        MaintenancePatch p = body.maintenance();
        if (p != null) {
            maintenance.reschedule(repo, p.checkIntervalSeconds(), p.checkMaxDurationSeconds(), p.compactionIntervalSeconds(),
                    p.compactionThreshold());
        }
        return RepositoryBody.of(m, repositories.storageOf(repo));
    }

    @DeleteMapping("/{repo}")
    @Operation(operationId = "destroyRepository", summary = "Destroy a repository and all its data",
            description = "Rolls back any open transaction first. 403 for an append-only repository.")
    @ApiResponse(responseCode = "204", description = "Destroyed")
    @ApiProblems({"append-only", "storage-error"})
    @Requires(Action.DESTROY)
    public ResponseEntity<Void> destroy(@PathVariable String repo) {
        repositories.destroy(repo);
        return ResponseEntity.noContent().build();
    }
}
