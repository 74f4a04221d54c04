package io.segstore.web;

import io.segstore.service.ManagedRepository;
import io.segstore.service.Names;
import io.segstore.service.RepositoryService;
import io.segstore.service.WriterLease;
import io.swagger.v3.oas.annotations.Operation;
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

    public TransactionController(RepositoryService repositories, SegstoreHeaders headers) {
        this.repositories = repositories;
        this.headers = headers;
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
    @Operation(summary = "Begin a transaction", description = "Takes the repository's writer lease: 201, or 423 with Retry-After while "
            + "another transaction holds it (after waiting up to " + SegstoreHeaders.LOCK_WAIT + " seconds).")
    public ResponseEntity<TransactionBody> begin(@PathVariable String repo, @RequestBody(required = false) BeginRequest body,
                                                 @RequestHeader(name = SegstoreHeaders.LOCK_WAIT, required = false) String lockWaitHeader,
                                                 @RequestParam(name = "lockWait", required = false) String lockWaitQuery) {
        Names.repository(repo);
        ManagedRepository m = repositories.get(repo);
        WriterLease lease = m.begin(headers.leaseLength(body == null ? null : body.leaseSeconds()),
                headers.lockWait(lockWaitHeader, lockWaitQuery));
        return ResponseEntity.created(URI.create("/repos/" + repo + "/transactions/" + lease.id())).body(TransactionBody.of(lease));
    }

    @GetMapping("/{txn}")
    @Operation(summary = "A transaction's state and lease")
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
    @Operation(summary = "Commit durably", description = "Returns the new transaction id. A transaction doomed by an earlier error "
            + "(quota) is rolled back and answers 409.")
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
    @Operation(summary = "Discard everything the transaction wrote")
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
    @Operation(summary = "Keep a lease alive without writing")
    public TransactionBody renew(@PathVariable String repo, @PathVariable String txn) {
        return get(repo, txn);
    }
}
