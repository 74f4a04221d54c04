package io.segstore.engine;

/** A write was asked of a repository opened read-only (Borg's shared lock). */
public class ReadOnlyRepositoryException extends RepositoryException {

    public ReadOnlyRepositoryException(String operation) {
        super(operation + " is not possible: the repository is open read-only.");
    }
}
