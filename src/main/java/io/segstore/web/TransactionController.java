package io.segstore.web;

import io.segstore.security.AccessPolicy;
import io.segstore.security.Action;

import io.segstore.service.ManagedRepository;
import io.segstore.service.Names;
import io.segstore.service.RepositoryService;
import io.segstore.service.WriterLease;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.time.Instant;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Transactions: the repository's single writer, held as a lease. Writes name the transaction
 * with the Segstore-Transaction header; a lease that sees no request for its length is rolled
 * back.
 */
@RestController
@RequestMapping("/repos/{repo}/transactions")
@Tag(name = "transactions")
public class TransactionController {

    private final RepositoryService repositories;
    private final SegstoreHeaders headers;
    private final AccessPolicy access;

    public TransactionController(RepositoryService repositories, SegstoreHeaders headers, AccessPolicy access) {
        this.repositories = repositories;
        this.headers = headers;
        this.access = access;
    }

    /** Begin: the lease length wanted (absent: the default). */
    public record BeginRequest(Long leaseSeconds) {
    }

    /** Commit: with keep, the lease goes on in a new transaction (returned as next). */
    public record CommitRequest(Boolean keep) {
    }

    /** A transaction as the API shows it. */
    public record TransactionBody(String id, String state, long leaseSeconds, Instant expiresAt, Long baseTransactionId, long puts,
                                  long deletes) {
        static TransactionBody of(WriterLease l) {
            long base = l.baseTransactionId();
            return new TransactionBody(l.id(), l.state().name().toLowerCase(java.util.Locale.ROOT), l.length().toSeconds(), l.expiresAt(),
                    base < 0 ? null : base, l.puts(), l.deletes());
        }
    }

    /** What a commit answers. */
    public record CommitBody(long transactionId, TransactionBody next) {
    }

    @PostMapping
    @Operation(operationId = "beginTransaction", summary = "Begin a transaction", description = "Takes the repository's writer "
            + "lease: 201, or 423 with Retry-After while another transaction holds it (after waiting up to "
            + SegstoreHeaders.LOCK_WAIT + " seconds). The body is optional; leaseSeconds is 1 to segstore.lease.max-length "
            + "(default 3600), absent: segstore.lease.default-length (default 60).")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON,
            examples = @ExampleObject(name = "two minutes", value = ApiExamples.BEGIN)))
    @ApiResponse(responseCode = "201", description = "Begun; name it in " + SegstoreHeaders.TRANSACTION + " from now on",
            headers = @Header(name = "Location", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.LOCATION),
            content = @Content(mediaType = ApiExamples.JSON, schema = @Schema(implementation = TransactionBody.class),
                    examples = @ExampleObject(name = "begun", value = ApiExamples.NEW_TRANSACTION)))
    @ApiProblems({"bad-parameter", "check-needed"})
    @Requires(Action.TRANSACT)
    public ResponseEntity<TransactionBody> begin(@PathVariable String repo, @RequestBody(required = false) BeginRequest body,
                                                 @RequestHeader(name = SegstoreHeaders.LOCK_WAIT, required = false) String lockWaitHeader,
                                                 @RequestParam(name = "lockWait", required = false) String lockWaitQuery) {
        Names.repository(repo);
        ManagedRepository m = repositories.get(repo);
        WriterLease lease = m.begin(headers.leaseLength(body == null ? null : body.leaseSeconds()),
                headers.lockWait(lockWaitHeader, lockWaitQuery), access.caller().name());
        return ResponseEntity.created(URI.create("/repos/" + repo + "/transactions/" + lease.id())).body(TransactionBody.of(lease));
    }

    @GetMapping("/{txn}")
    @Operation(operationId = "getTransaction", summary = "A transaction's state and lease", description = "Also keeps the lease "
            + "alive, as any request naming the transaction does.")
    @ApiResponse(responseCode = "200", description = "The transaction", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = TransactionBody.class), examples = @ExampleObject(name = "open", value = ApiExamples.TRANSACTION)))
    @Requires(Action.READ)
    public TransactionBody get(@PathVariable String repo, @PathVariable String txn) {
        ManagedRepository m = repositories.get(Names.repository(repo));
        WriterLease lease = m.enter(txn);
        try {
            return TransactionBody.of(lease);
        } finally {
            m.exit(lease);
        }
    }

    @PostMapping("/{txn}/commit")
    @Operation(operationId = "commitTransaction", summary = "Commit durably", description = "Returns the new transaction id; the "
            + "data is durable when the answer arrives. A transaction doomed by an earlier error (quota) is rolled back and answers "
            + "409. With `{\"keep\": true}` the lease goes on in a new transaction, returned as next (same id), so that nobody "
            + "else takes the writer in between.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = ApiExamples.JSON,
            examples = {@ExampleObject(name = "commit", summary = "Commit and end", value = "{}"),
                        @ExampleObject(name = "keep", summary = "Commit and keep the writer", value = ApiExamples.COMMIT_KEEP)}))
    @ApiResponse(responseCode = "200", description = "Committed", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = CommitBody.class), examples = {
                    @ExampleObject(name = "commit", value = ApiExamples.COMMITTED),
                    @ExampleObject(name = "keep", value = ApiExamples.COMMITTED_KEEP)}))
    @ApiProblems({"transaction-doomed", "check-needed", "integrity-error", "storage-error", "insufficient-storage"})
    @Requires(Action.TRANSACT)
    public CommitBody commit(@PathVariable String repo, @PathVariable String txn, @RequestBody(required = false) CommitRequest body) {
        ManagedRepository m = repositories.get(Names.repository(repo));
        WriterLease lease = m.enter(txn);
        try {
            boolean keep = body != null && Boolean.TRUE.equals(body.keep());
            long tid = m.commit(lease, keep);
            return new CommitBody(tid, keep && lease.state() == WriterLease.State.OPEN ? TransactionBody.of(lease) : null);
        } finally {
            m.exit(lease);
        }
    }

    @PostMapping("/{txn}/rollback")
    @Operation(operationId = "rollbackTransaction", summary = "Discard everything the transaction wrote",
            description = "Ends the transaction and frees the writer.")
    @ApiResponse(responseCode = "204", description = "Rolled back")
    @ApiProblems({"storage-error"})
    @Requires(Action.TRANSACT)
    public ResponseEntity<Void> rollback(@PathVariable String repo, @PathVariable String txn) {
        ManagedRepository m = repositories.get(Names.repository(repo));
        WriterLease lease = m.enter(txn);
        try {
            m.rollback(lease);
        } finally {
            m.exit(lease);
        }
        return ResponseEntity.noContent().build();
    }

    @PostMapping("/{txn}/renew")
    @Operation(operationId = "renewTransaction", summary = "Keep a lease alive without writing",
            description = "Restarts the lease's clock; answers the transaction as GET does.")
    @ApiResponse(responseCode = "200", description = "Renewed", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = TransactionBody.class), examples = @ExampleObject(name = "open", value = ApiExamples.TRANSACTION)))
    @Requires(Action.TRANSACT)
    public TransactionBody renew(@PathVariable String repo, @PathVariable String txn) {
        return get(repo, txn);
    }
}
