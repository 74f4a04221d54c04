package io.segstore.engine;

/** The repository was closed (or destroyed) while the call was made. */
public class RepositoryClosedException extends RepositoryException {

    public RepositoryClosedException() {
        super("The repository is closed.");
    }
}
