package io.segstore.service;

/**
 * An error of the service layer (the engine has its own types). Each kind has one HTTP status
 * and one problem type, assigned where all errors become problem details.
 */
public class ServiceException extends RuntimeException {

    /** The kinds of service errors. */
    public enum Kind {
        BAD_REPOSITORY_NAME,
        BAD_OBJECT_ID,
        BAD_PARAMETER,
        BAD_MARKER,
        LENGTH_REQUIRED,
        UPLOAD_INCOMPLETE,
        FORBIDDEN,
        UNKNOWN_REPOSITORY,
        REPOSITORY_EXISTS,
        REPOSITORY_UNAVAILABLE,
        UNKNOWN_TRANSACTION,
        TRANSACTION_EXPIRED,
        TRANSACTION_ENDED,
        LOCKED,
        VERIFICATION_FAILED,
        LISTING_EXPIRED,
        UNKNOWN_JOB,
        TOO_MANY_JOBS,
        TOO_MANY_REQUESTS
    }

    private final Kind kind;
    private final long retryAfterSeconds;

    public ServiceException(Kind kind, String message) {
        this(kind, message, 0, null);
    }

    public ServiceException(Kind kind, String message, Throwable cause) {
        this(kind, message, 0, cause);
    }

    public ServiceException(Kind kind, String message, long retryAfterSeconds, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public Kind kind() {
        return kind;
    }

    /** For LOCKED and TOO_MANY_*: when to try again (0: no advice). */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
