package io.segstore.engine;

/** The directory exists but is not a repository, or its config cannot be used. */
public class InvalidRepositoryException extends RepositoryException {

    public InvalidRepositoryException(String message) {
        super(message);
    }

    public InvalidRepositoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
