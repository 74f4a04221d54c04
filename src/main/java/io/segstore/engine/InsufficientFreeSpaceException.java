package io.segstore.engine;

/** A commit that adds data would leave less free space than the repository needs to stay maintainable. */
public class InsufficientFreeSpaceException extends RepositoryException {

    private final long required;
    private final long available;

    public InsufficientFreeSpaceException(long required, long available) {
        super("Insufficient free space to complete transaction (required: " + required + " bytes, available: " + available + " bytes).");
        this.required = required;
        this.available = available;
    }

    public long required() {
        return required;
    }

    public long available() {
        return available;
    }
}
