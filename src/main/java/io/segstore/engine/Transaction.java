package io.segstore.engine;

import java.nio.ByteBuffer;

/**
 * The repository's one open write transaction. Puts and deletes are appended to the log at once
 * but only become visible to other readers when {@link #commit()} returns, and they are durable
 * by then. Reads through the transaction see its own writes.
 *
 * <p>Thread-safe: many threads may put into one transaction at the same time.
 */
public final class Transaction implements AutoCloseable {

    /** Overlay value for "deleted in this transaction". */
    static final long DELETED = 0xFFFF_FFFE_0000_0000L;

    enum State { OPEN, COMMITTED, ROLLED_BACK }

    private final Repository repository;
    final KeyIndex overlay;
    final TransactionDelta delta;
    final long baseTransaction;
    volatile State state = State.OPEN;
    /** Held by a compaction step or a repair rather than by a client (waiters may wait longer for it). */
    volatile boolean maintenance;
    volatile RepositoryException doomed;
    /** The transaction that took over the writer when this one committed with keep. */
    volatile Transaction successor;
    /** The transaction id this one committed as, or -1. */
    volatile long committedAs = -1;
    long puts;
    long deletes;
    long bytesWritten;
    /** True once a PUT was written: only such commits need free space. */
    boolean addsData;

    Transaction(Repository repository, long seed, int shardBits, long baseTransaction) {
        this.repository = repository;
        this.overlay = new KeyIndex(seed, shardBits, KeyIndex.Sizing.FAST);
        this.delta = new TransactionDelta(seed, shardBits);
        this.baseTransaction = baseTransaction;
    }

    /** Stores {@code data} under {@code id}, replacing what the id held. */
    public void put(ObjectId id, byte[] data) {
        repository.put(this, id, ByteBuffer.wrap(data));
    }

    /** Stores the remaining bytes of {@code data} (they are consumed). */
    public void put(ObjectId id, ByteBuffer data) {
        repository.put(this, id, data);
    }

    /** Stores the data of {@code source}, read in chunks (it is never held whole in memory). */
    public void put(ObjectId id, ObjectSource source) {
        repository.put(this, id, source);
    }

    /** Deletes the object; ObjectNotFoundException if there is none. */
    public void delete(ObjectId id) {
        repository.delete(this, id);
    }

    /** The object's data as this transaction sees it. */
    public byte[] get(ObjectId id) {
        return repository.get(this, id);
    }

    /** A page of the index-order listing as this transaction sees it (its own writes included). */
    public Repository.Page page(int limit, ObjectId marker) {
        return repository.page(this, limit, marker);
    }

    /** Opens the object as this transaction sees it, for streaming its data. */
    public StoredObject open(ObjectId id) {
        return repository.open(this, id);
    }

    /** Whether putting {@code dataLength} more bytes stays within the storage quota. */
    public boolean quotaAllows(long dataLength) {
        return repository.quotaAllows(this, dataLength);
    }

    public boolean contains(ObjectId id) {
        return repository.contains(this, id);
    }

    /** The object's data length as this transaction sees it, or -1 when absent. */
    public long size(ObjectId id) {
        return repository.size(this, id);
    }

    /**
     * Makes everything written durable and visible; returns the new transaction id. A doomed
     * transaction is rolled back and its error thrown.
     */
    public long commit() {
        return repository.commit(this);
    }

    /**
     * Commits and continues in a new transaction that holds the writer from the same moment,
     * so no other writer gets in between (a client that keeps its lease across commits).
     * Returns the new transaction (its base is the transaction just committed), or null when the
     * repository is closing and the writer could not be kept.
     */
    public Transaction commitAndContinue() {
        repository.commit(this, true);
        return successor;
    }

    /** Discards everything written. Rolling back an ended transaction does nothing. */
    public void rollback() {
        repository.rollback(this);
    }

    /** The transaction id this one committed as, or -1 while it has not committed. */
    public long committedAs() {
        return committedAs;
    }

    /** The committed transaction this one started from, or -1. */
    public long baseTransactionId() {
        return baseTransaction;
    }

    public boolean isOpen() {
        return state == State.OPEN;
    }

    /** The error that doomed the transaction, or null. */
    public RepositoryException doomedBy() {
        return doomed;
    }

    public long puts() {
        return puts;
    }

    public long deletes() {
        return deletes;
    }

    /** Rolls back if still open. */
    @Override
    public void close() {
        if (state == State.OPEN) {
            rollback();
        }
    }
}
