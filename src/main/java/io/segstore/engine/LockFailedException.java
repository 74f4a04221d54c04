package io.segstore.engine;

/** The repository lock could not be created at all (permissions, no space). */
public class LockFailedException extends RepositoryException {

    public LockFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
