package io.segstore.engine;

/** There is no repository at the given path. */
public class RepositoryDoesNotExistException extends RepositoryException {

    public RepositoryDoesNotExistException(java.nio.file.Path path) {
        super("Repository " + path + " does not exist.");
    }
}
