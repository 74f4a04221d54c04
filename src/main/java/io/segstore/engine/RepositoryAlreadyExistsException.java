package io.segstore.engine;

/** Create was asked for a place where, or inside which, a repository already is. */
public class RepositoryAlreadyExistsException extends RepositoryException {

    public RepositoryAlreadyExistsException(java.nio.file.Path path) {
        super("A repository already exists at " + path + ".");
    }
}
