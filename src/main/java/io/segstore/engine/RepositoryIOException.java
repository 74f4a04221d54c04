package io.segstore.engine;

/** The file system failed underneath the repository. */
public class RepositoryIOException extends RepositoryException {

    public RepositoryIOException(String message, java.io.IOException cause) {
        super(message + ": " + cause, cause);
    }
}
