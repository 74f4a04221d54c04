package io.segstore.engine;

/** A transaction was used after it ended (committed or rolled back). */
public class TransactionStateException extends RepositoryException {

    public TransactionStateException(String message) {
        super(message);
    }
}
