package io.segstore.engine;

/** An operation that would physically remove data was asked of an append-only repository. */
public class AppendOnlyException extends RepositoryException {

    public AppendOnlyException(String operation) {
        super(operation + " is not allowed: the repository is in append-only mode.");
    }
}
