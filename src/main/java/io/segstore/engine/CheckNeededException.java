package io.segstore.engine;

/** The repository is inconsistent in a way only check (and maybe repair) can resolve. */
public class CheckNeededException extends RepositoryException {

    public CheckNeededException(String message) {
        super(message);
    }
}
