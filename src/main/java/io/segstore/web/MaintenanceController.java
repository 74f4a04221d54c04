package io.segstore.web;

import io.segstore.security.AccessPolicy;
import io.segstore.security.Action;

import io.segstore.service.Job;
import io.segstore.service.MaintenanceService;
import io.segstore.service.Names;
import io.segstore.service.RepositoryService;
import io.segstore.service.ServiceException;
import io.segstore.engine.format.TransactionsLogFile;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** Maintenance jobs (compaction, check, repair), Borg's key and nonce, history, lock break. */
@RestController
@RequestMapping("/repos/{repo}")
@Tag(name = "maintenance")
public class MaintenanceController {

    private final MaintenanceService maintenance;
    private final RepositoryService repositories;

    private final AccessPolicy access;

    public MaintenanceController(MaintenanceService maintenance, RepositoryService repositories, AccessPolicy access) {
        this.access = access;
        this.maintenance = maintenance;
        this.repositories = repositories;
    }

    /** Compaction: segments whose freeable share exceeds the threshold (default 0.1) are compacted. */
    public record CompactionRequest(Double threshold) {
    }

    /**
     * Check: repair, or a partial check limited to maxDurationSeconds (resuming where the last
     * stopped); into: the new repository a repair of a repository in object storage writes.
     */
    public record CheckRequest(Boolean repair, Long maxDurationSeconds, String into) {
    }

    /** A job as the API shows it. */
    public record JobBody(String id, String kind, String state, int progress, String phase, Map<String, Object> result, String error,
                          Instant created, Instant finished) {
        static JobBody of(Job j) {
            return new JobBody(j.id(), j.kind(), j.state().name().toLowerCase(Locale.ROOT), j.progress(), j.phase(), j.result(), j.error(),
                    j.created(), j.finished());
        }
    }

    /** The nonce: 16 hex digits, or null before the first reservation. */
    public record NonceBody(String nonce) {
    }

    /** Reserve nonces up to next; expected must be the current value (null for none). */
    public record NonceRequest(String next, String expected) {
    }

    /** The append-only transactions log. */
    public record HistoryBody(List<HistoryEntry> transactions) {
    }

    /** One commit in the log. */
    public record HistoryEntry(long id, Instant time) {
    }

    @PostMapping("/compaction")
    @Operation(operationId = "startCompaction", summary = "Start a compaction job", description = "202 with the job; follow its "
            + "Location for progress and result. Segments whose freeable share exceeds threshold (0 to 1, default 0.1), and runs "
            + "of small segments, are compacted. In an append-only repository it succeeds and frees nothing. The body is optional.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON,
            examples = @ExampleObject(name = "default threshold", value = ApiExamples.COMPACTION_REQUEST)))
    @ApiResponse(responseCode = "202", description = "Started (or queued)",
            headers = @Header(name = "Location", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.LOCATION),
            content = @Content(mediaType = ApiExamples.JSON, schema = @Schema(implementation = JobBody.class),
                    examples = @ExampleObject(name = "queued", value = ApiExamples.COMPACTION_STARTED)))
    @ApiProblems({"bad-parameter", "too-many-jobs"})
    @Requires(Action.COMPACT)
    public ResponseEntity<JobBody> compact(@PathVariable String repo, @RequestBody(required = false) CompactionRequest body) {
        Job job = maintenance.compact(Names.repository(repo), body == null ? null : body.threshold());
        return accepted(repo, job);
    }

    @PostMapping("/checks")
    @Operation(operationId = "startCheck", summary = "Start a check or repair job", description = "202 with the job; a check's "
            + "result lists the errors found. maxDurationSeconds makes a partial check that resumes where the last one stopped; "
            + "repair (not with maxDurationSeconds, not in an append-only repository) salvages what it can. A repository in "
            + "object storage is never rewritten: its repair needs `into`, the name of a new repository in the same store that "
            + "receives the repaired copy (the damaged original stays as it is; the local volume needs room for a copy while "
            + "the job runs). The body is optional.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON, examples = {
            @ExampleObject(name = "full check", value = "{}"),
            @ExampleObject(name = "partial check", value = ApiExamples.CHECK_REQUEST),
            @ExampleObject(name = "repair", value = ApiExamples.REPAIR_REQUEST),
            @ExampleObject(name = "repair in object storage", value = ApiExamples.REPAIR_INTO_REQUEST)}))
    @ApiResponse(responseCode = "202", description = "Started (or queued)",
            headers = @Header(name = "Location", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.LOCATION),
            content = @Content(mediaType = ApiExamples.JSON, schema = @Schema(implementation = JobBody.class),
                    examples = @ExampleObject(name = "queued", value = ApiExamples.JOB_STARTED)))
    @ApiProblems({"bad-parameter", "append-only", "repository-exists", "too-many-jobs"})
    @Requires(Action.CHECK)
    public ResponseEntity<JobBody> check(@PathVariable String repo, @RequestBody(required = false) CheckRequest body) {
        if (body != null && Boolean.TRUE.equals(body.repair())) {
            access.require(repo, Action.REPAIR);
        }
        if (body != null && body.into() != null) {
            access.require(Names.repository(body.into()), Action.CREATE);
        }
        Job job = body == null ? maintenance.check(Names.repository(repo), null, null)
                : maintenance.check(Names.repository(repo), body.repair(), body.maxDurationSeconds(), body.into());
        return accepted(repo, job);
    }

    @GetMapping("/jobs/{job}")
    @Operation(operationId = "getJob", summary = "A job's state, progress and result", description = "state is queued, running, "
            + "succeeded or failed; progress 0 to 100; result when it succeeded, error when it failed. Job records live in memory: "
            + "after a restart (or segstore.jobs.keep-finished after the end) the id answers 404.")
    @ApiResponse(responseCode = "200", description = "The job", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = JobBody.class), examples = {
                    @ExampleObject(name = "check done", value = ApiExamples.CHECK_DONE),
                    @ExampleObject(name = "compaction done", value = ApiExamples.COMPACTION_DONE),
                    @ExampleObject(name = "failed", value = ApiExamples.JOB_FAILED)}))
    @ApiProblems({"job-not-found"})
    @Requires(Action.READ)
    public JobBody job(@PathVariable String repo, @PathVariable String job) {
        return JobBody.of(maintenance.job(Names.repository(repo), job));
    }

    private static ResponseEntity<JobBody> accepted(String repo, Job job) {
        return ResponseEntity.accepted().location(URI.create("/repos/" + repo + "/jobs/" + job.id())).body(JobBody.of(job));
    }

    /** Which transaction to bring back, and the name of the new repository that will hold it. */
    public record RestoreRequest(Long transactionId, String into) {
    }

    @PostMapping("/restore")
    @Operation(operationId = "startRestore", summary = "Bring back an earlier transaction of an append-only repository",
            description = "A job that creates the repository `into` holding the state as of `transactionId` (a transaction "
                    + "of the history), then checks it; the original is not changed. `into` gets the same repository id and "
                    + "key (Borg clients see the same repository) and the current nonce. Needs admin on both names. The copy of a "
                    + "repository in object storage is written to the same store, under its own prefix.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON,
            examples = @ExampleObject(name = "restore", value = "{\"transactionId\": 3, \"into\": \"demo-restored\"}")))
    @ApiResponse(responseCode = "202", description = "Started (or queued)",
            headers = @Header(name = "Location", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.LOCATION),
            content = @Content(mediaType = ApiExamples.JSON, schema = @Schema(implementation = JobBody.class),
                    examples = @ExampleObject(name = "queued", value = ApiExamples.JOB_STARTED)))
    @ApiProblems({"bad-parameter", "repository-exists", "too-many-jobs"})
    @Requires(Action.RESTORE)
    public ResponseEntity<JobBody> restore(@PathVariable String repo, @RequestBody RestoreRequest body) {
        if (body != null && body.into() != null) {
            access.require(Names.repository(body.into()), Action.CREATE);
        }
        Job job = maintenance.restore(Names.repository(repo), body == null ? null : body.transactionId(), body == null ? null : body.into());
        return accepted(repo, job);
    }

    @GetMapping("/history")
    @Operation(operationId = "getHistory", summary = "The transactions log of an append-only repository",
            description = "Every commit Borg's transactions log recorded, oldest first; empty for a repository that never was "
                    + "append-only.")
    @ApiResponse(responseCode = "200", description = "The log", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = HistoryBody.class), examples = @ExampleObject(name = "two commits", value = ApiExamples.HISTORY)))
    @ApiProblems({"storage-error"})
    @Requires(Action.READ)
    public HistoryBody history(@PathVariable String repo) {
        List<TransactionsLogFile.Entry> log = maintenance.history(Names.repository(repo));
        return new HistoryBody(log.stream().map(e -> new HistoryEntry(e.transaction(), e.time())).toList());
    }

    @GetMapping(path = "/key", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
    @Operation(operationId = "getKey", summary = "Borg's repokey blob (empty when none was stored)")
    @ApiResponse(responseCode = "200", description = "The key as Borg stored it (possibly empty)",
            content = @Content(mediaType = ApiExamples.OCTETS, schema = @Schema(type = "string", format = "binary"),
                    examples = @ExampleObject(name = "key", value = ApiExamples.KEY)))
    @Requires(Action.READ)
    public byte[] key(@PathVariable String repo) {
        return maintenance.loadKey(Names.repository(repo));
    }

    @PutMapping(path = "/key", consumes = MediaType.ALL_VALUE)
    @Operation(operationId = "putKey", summary = "Store Borg's repokey blob", description = "Any Content-Type; the bytes are "
            + "kept in the repository's config as Borg keeps them. An empty body removes the key.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.OCTETS,
            schema = @Schema(type = "string", format = "binary"), examples = @ExampleObject(name = "key", value = ApiExamples.KEY)))
    @ApiResponse(responseCode = "204", description = "Stored")
    @ApiProblems({"storage-error"})
    @Requires(Action.STORE_KEY)
    public ResponseEntity<Void> saveKey(@PathVariable String repo, @RequestBody(required = false) byte[] key) {
        if (maintenance.loadKey(Names.repository(repo)).length > 0) {
            access.require(repo, Action.REPLACE_KEY); // an append client may store the first key, never replace it
        }
        maintenance.saveKey(Names.repository(repo), key == null ? new byte[0] : key);
        return ResponseEntity.noContent().build();
    }

    @GetMapping("/nonce")
    @Operation(operationId = "getNonce", summary = "The next free encryption nonce", description = "16 hex digits, or null "
            + "before the first reservation.")
    @ApiResponse(responseCode = "200", description = "The nonce", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = NonceBody.class), examples = {
                    @ExampleObject(name = "reserved", value = ApiExamples.NONCE),
                    @ExampleObject(name = "none yet", value = ApiExamples.NO_NONCE)}))
    @ApiProblems({"storage-error"})
    @Requires(Action.READ)
    public NonceBody nonce(@PathVariable String repo) {
        OptionalLong n = maintenance.freeNonce(Names.repository(repo));
        return new NonceBody(n.isPresent() ? hex(n.getAsLong()) : null);
    }

    @PostMapping("/nonce")
    @Operation(operationId = "reserveNonces", summary = "Reserve nonces", description = "Needs the writer: name the transaction "
            + "with " + SegstoreHeaders.TRANSACTION + " (400 without it). next and expected are 16 hex digits; expected must be "
            + "the current value (absent or null when none was reserved yet), else 409.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = ApiExamples.JSON,
            examples = {@ExampleObject(name = "first", value = "{\"next\": \"0000000000001000\"}"),
                        @ExampleObject(name = "later", value = ApiExamples.NONCE_REQUEST)}))
    @ApiResponse(responseCode = "200", description = "Reserved up to next", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = NonceBody.class), examples = @ExampleObject(name = "reserved", value = ApiExamples.NONCE_RESERVED)))
    @ApiProblems({"bad-parameter", "nonce-conflict", "storage-error"})
    @Requires(Action.RESERVE_NONCE)
    public NonceBody reserve(@PathVariable String repo, @RequestBody NonceRequest body,
                             @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn) {
        Names.repository(repo);
        if (body == null || body.next() == null) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "The body is {\"next\": \"<16 hex digits>\", \"expected\": ...}.");
        }
        long next = parseHex(body.next(), "next");
        Long expected = body.expected() == null ? null : parseHex(body.expected(), "expected");
        maintenance.reserveNonces(repo, txn, next, expected);
        return new NonceBody(hex(next));
    }

    @PostMapping("/lock/break")
    @Operation(operationId = "breakLock", summary = "Break Borg's lock and roll back any lease", description = "Borg's break-lock: "
            + "every open transaction is rolled back; a repository that could not be opened because of a stale lock has its lock "
            + "files removed and is opened again.")
    @ApiResponse(responseCode = "204", description = "Broken")
    @ApiProblems({"locked", "storage-error"})
    @Requires(Action.BREAK_LOCK)
    public ResponseEntity<Void> breakLock(@PathVariable String repo) {
        repositories.breakLock(Names.repository(repo));
        return ResponseEntity.noContent().build();
    }

    private static String hex(long v) {
        return String.format(Locale.ROOT, "%016x", v);
    }

    private static long parseHex(String s, String name) {
        try {
            if (s.length() != 16) {
                throw new NumberFormatException();
            }
            return HexFormat.fromHexDigitsToLong(s);
        } catch (IllegalArgumentException e) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, name + " is 16 hex digits.");
        }
    }
}
