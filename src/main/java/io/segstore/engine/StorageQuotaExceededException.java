package io.segstore.engine;

/** A write took the repository past its storage quota; the transaction is doomed. */
public class StorageQuotaExceededException extends RepositoryException {

    private final long quota;
    private final long used;

    public StorageQuotaExceededException(long quota, long used) {
        super("The storage quota (" + quota + " bytes) has been exceeded (" + used + " bytes). Try deleting some archives.");
        this.quota = quota;
        this.used = used;
    }

    public long quota() {
        return quota;
    }

    public long used() {
        return used;
    }
}
