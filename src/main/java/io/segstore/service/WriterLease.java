package io.segstore.service;

import io.segstore.engine.Transaction;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client's write transaction with its lease: the repository's one writer, kept as long as
 * requests keep arriving. A request in progress keeps the lease alive; a lease that sees no
 * request for its length is rolled back by the sweeper.
 */
public final class WriterLease {

    /** Where a lease stands. */
    public enum State { OPEN, COMMITTED, ROLLED_BACK, EXPIRED }

    private final String id;
    private final Duration length;
    private volatile Transaction transaction;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastTouchNanos = System.nanoTime();
    private volatile State state = State.OPEN;
    private final long baseTransaction;
    private final String owner;

    WriterLease(String id, Transaction transaction, Duration length, String owner) {
        this.id = id;
        this.owner = owner;
        this.transaction = transaction;
        this.length = length;
        this.baseTransaction = transaction.baseTransactionId();
    }

    public String id() {
        return id;
    }

    /** The name of the token that began it (only it, or an administrator, may use it). */
    public String owner() {
        return owner;
    }

    public Duration length() {
        return length;
    }

    public State state() {
        return state;
    }

    void state(State s) {
        state = s;
    }

    public Transaction transaction() {
        return transaction;
    }

    void transaction(Transaction t) {
        transaction = t;
    }

    /** The committed transaction the lease's current transaction started from (-1: none). */
    public long baseTransactionId() {
        return transaction.baseTransactionId() >= 0 ? transaction.baseTransactionId() : baseTransaction;
    }

    /** A request for this lease begins: the lease cannot expire while it runs. */
    void enter() {
        inFlight.incrementAndGet();
        lastTouchNanos = System.nanoTime();
    }

    void exit() {
        lastTouchNanos = System.nanoTime();
        inFlight.decrementAndGet();
    }

    void touch() {
        lastTouchNanos = System.nanoTime();
    }

    boolean expired(long nowNanos) {
        return inFlight.get() == 0 && nowNanos - lastTouchNanos > length.toNanos();
    }

    /** When the lease runs out if no further request comes. */
    public Instant expiresAt() {
        long left = length.toNanos() - (System.nanoTime() - lastTouchNanos);
        return Instant.now().plusNanos(Math.max(0, left));
    }

    public long puts() {
        return transaction.puts();
    }

    public long deletes() {
        return transaction.deletes();
    }
}
