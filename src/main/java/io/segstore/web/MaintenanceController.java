package io.segstore.web;

import io.segstore.service.Job;
import io.segstore.service.MaintenanceService;
import io.segstore.service.Names;
import io.segstore.service.RepositoryService;
import io.segstore.service.ServiceException;
import io.segstore.engine.format.TransactionsLogFile;
import io.swagger.v3.oas.annotations.Operation;
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

    public MaintenanceController(MaintenanceService maintenance, RepositoryService repositories) {
        this.maintenance = maintenance;
        this.repositories = repositories;
    }

    /** Compaction: segments whose freeable share exceeds the threshold (default 0.1) are compacted. */
    public record CompactionRequest(Double threshold) {
    }

    /** Check: repair, or a partial check limited to maxDurationSeconds (resuming where the last stopped). */
    public record CheckRequest(Boolean repair, Long maxDurationSeconds) {
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
    @Operation(summary = "Start a compaction job", description = "202 with the job; follow its Location for progress and result.")
    public ResponseEntity<JobBody> compact(@PathVariable String repo, @RequestBody(required = false) CompactionRequest body) {
        Job job = maintenance.compact(Names.repository(repo), body == null ? null : body.threshold());
        return accepted(repo, job);
    }

    @PostMapping("/checks")
    @Operation(summary = "Start a check or repair job", description = "202 with the job; a check's result lists the errors found.")
    public ResponseEntity<JobBody> check(@PathVariable String repo, @RequestBody(required = false) CheckRequest body) {
        Job job = maintenance.check(Names.repository(repo), body == null ? null : body.repair(), body == null ? null : body.maxDurationSeconds());
        return accepted(repo, job);
    }

    @GetMapping("/jobs/{job}")
    @Operation(summary = "A job's state, progress and result")
    public JobBody job(@PathVariable String repo, @PathVariable String job) {
        return JobBody.of(maintenance.job(Names.repository(repo), job));
    }

    private static ResponseEntity<JobBody> accepted(String repo, Job job) {
        return ResponseEntity.accepted().location(URI.create("/repos/" + repo + "/jobs/" + job.id())).body(JobBody.of(job));
    }

    @GetMapping("/history")
    @Operation(summary = "The transactions log of an append-only repository")
    public HistoryBody history(@PathVariable String repo) {
        List<TransactionsLogFile.Entry> log = maintenance.history(Names.repository(repo));
        return new HistoryBody(log.stream().map(e -> new HistoryEntry(e.transaction(), e.time())).toList());
    }

    @GetMapping(path = "/key", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
    @Operation(summary = "Borg's repokey blob (empty when none was stored)")
    public byte[] key(@PathVariable String repo) {
        return maintenance.loadKey(Names.repository(repo));
    }

    @PutMapping(path = "/key", consumes = MediaType.ALL_VALUE)
    @Operation(summary = "Store Borg's repokey blob")
    public ResponseEntity<Void> saveKey(@PathVariable String repo, @RequestBody(required = false) byte[] key) {
        maintenance.saveKey(Names.repository(repo), key == null ? new byte[0] : key);
        return ResponseEntity.noContent().build();
    }

    @GetMapping("/nonce")
    @Operation(summary = "The next free encryption nonce")
    public NonceBody nonce(@PathVariable String repo) {
        OptionalLong n = maintenance.freeNonce(Names.repository(repo));
        return new NonceBody(n.isPresent() ? hex(n.getAsLong()) : null);
    }

    @PostMapping("/nonce")
    @Operation(summary = "Reserve nonces", description = "Needs the writer: name the transaction with " + SegstoreHeaders.TRANSACTION
            + ". 409 when expected is not the current value.")
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
    @Operation(summary = "Break Borg's lock and roll back any lease")
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
