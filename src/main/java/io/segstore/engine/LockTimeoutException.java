package io.segstore.engine;

/** Borg's repository lock could not be taken in time: another process holds it. */
public class LockTimeoutException extends RepositoryException {

    public LockTimeoutException(String message) {
        super(message);
    }
}
