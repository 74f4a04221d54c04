package io.segstore.engine;

/** A write to a transaction that an earlier error doomed: it can only be rolled back. */
public class TransactionDoomedException extends TransactionStateException {

    public TransactionDoomedException(RepositoryException cause) {
        super("The transaction is doomed by an earlier error and can only be rolled back: " + cause.getMessage());
        initCause(cause);
    }
}
