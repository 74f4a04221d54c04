package io.segstore.engine;

/** Stored bytes failed a check (CRC, header, id or magic): they are never served as data. */
public class IntegrityException extends RepositoryException {

    public IntegrityException(String message) {
        super(message);
    }

    public IntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}
