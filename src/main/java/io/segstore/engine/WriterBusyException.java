package io.segstore.engine;

/** Another transaction holds the repository's single writer and did not finish in time. */
public class WriterBusyException extends RepositoryException {

    public WriterBusyException(String message) {
        super(message);
    }
}
