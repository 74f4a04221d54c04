package io.segstore.engine;

/** Create was asked for a path that holds a file or a non-empty directory. */
public class PathAlreadyExistsException extends RepositoryException {

    public PathAlreadyExistsException(java.nio.file.Path path) {
        super("There is already something at " + path + ".");
    }
}
