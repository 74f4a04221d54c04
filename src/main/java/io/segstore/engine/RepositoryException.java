package io.segstore.engine;

/**
 * Base of every error the engine reports. Each subclass is one kind of failure, so callers (the
 * HTTP layer, the Borg bridge) can map kinds to answers without parsing messages.
 */
public abstract class RepositoryException extends RuntimeException {

    protected RepositoryException(String message) {
        super(message);
    }

    protected RepositoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
