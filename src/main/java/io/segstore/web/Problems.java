package io.segstore.web;

/**
 * The problem types the API answers with: one per kind of error, each with its status and a
 * short title. The type URIs are stable; clients may branch on them.
 */
public final class Problems {

    public static final String BASE = "https://segstore.io/problems/";

    /** One kind of error. */
    public record Type(String name, int status, String title) {
        public String uri() {
            return BASE + name;
        }
    }

    public static final Type BAD_REPOSITORY_NAME = new Type("bad-repository-name", 400, "Invalid repository name");
    public static final Type BAD_OBJECT_ID = new Type("bad-object-id", 400, "Invalid object id");
    public static final Type BAD_PARAMETER = new Type("bad-parameter", 400, "Invalid parameter");
    public static final Type BAD_MARKER = new Type("bad-marker", 400, "Invalid listing marker");
    public static final Type BAD_REQUEST = new Type("bad-request", 400, "Malformed request");
    public static final Type UPLOAD_INCOMPLETE = new Type("upload-incomplete", 400, "Upload incomplete");
    public static final Type BAD_FILE_NAME = new Type("bad-file-name", 400, "Invalid restic file name");
    public static final Type HASH_MISMATCH = new Type("hash-mismatch", 400, "Content does not match its name");
    public static final Type UNAUTHORIZED = new Type("unauthorized", 401, "Authentication required");
    public static final Type FORBIDDEN = new Type("forbidden", 403, "Forbidden");
    public static final Type APPEND_ONLY = new Type("append-only", 403, "Refused by append-only mode");
    public static final Type FILE_EXISTS = new Type("file-exists", 403, "File already exists");
    public static final Type REPOSITORY_NOT_FOUND = new Type("repository-not-found", 404, "Repository not found");
    public static final Type OBJECT_NOT_FOUND = new Type("object-not-found", 404, "Object not found");
    public static final Type FILE_NOT_FOUND = new Type("file-not-found", 404, "File not found");
    public static final Type TRANSACTION_NOT_FOUND = new Type("transaction-not-found", 404, "Transaction not found");
    public static final Type JOB_NOT_FOUND = new Type("job-not-found", 404, "Job not found");
    public static final Type NOT_FOUND = new Type("not-found", 404, "No such resource");
    public static final Type METHOD_NOT_ALLOWED = new Type("method-not-allowed", 405, "Method not allowed");
    public static final Type NOT_ACCEPTABLE = new Type("not-acceptable", 406, "Not acceptable");
    public static final Type REPOSITORY_EXISTS = new Type("repository-exists", 409, "Repository already exists");
    public static final Type TRANSACTION_EXPIRED = new Type("transaction-expired", 409, "Transaction expired");
    public static final Type TRANSACTION_ENDED = new Type("transaction-ended", 409, "Transaction already ended");
    public static final Type TRANSACTION_DOOMED = new Type("transaction-doomed", 409, "Transaction doomed");
    public static final Type NONCE_CONFLICT = new Type("nonce-conflict", 409, "Nonce reservation conflict");
    public static final Type LISTING_EXPIRED = new Type("listing-expired", 410, "Listing expired");
    public static final Type LENGTH_REQUIRED = new Type("length-required", 411, "Content-Length required");
    public static final Type OBJECT_TOO_LARGE = new Type("object-too-large", 413, "Object too large");
    public static final Type PAYLOAD_TOO_LARGE = new Type("payload-too-large", 413, "Request body too large");
    public static final Type FILE_TOO_LARGE = new Type("file-too-large", 413, "File too large");
    public static final Type UNSUPPORTED_MEDIA_TYPE = new Type("unsupported-media-type", 415, "Unsupported media type");
    public static final Type RANGE_NOT_SATISFIABLE = new Type("range-not-satisfiable", 416, "Range not satisfiable");
    public static final Type VERIFICATION_FAILED = new Type("verification-failed", 422, "Content verification failed");
    public static final Type LOCKED = new Type("locked", 423, "Repository locked");
    public static final Type TOO_MANY_JOBS = new Type("too-many-jobs", 429, "Too many maintenance jobs");
    public static final Type TOO_MANY_REQUESTS = new Type("too-many-requests", 429, "Too many requests");
    public static final Type INTEGRITY_ERROR = new Type("integrity-error", 500, "Stored data failed its integrity check");
    public static final Type STORAGE_ERROR = new Type("storage-error", 500, "Storage error");
    public static final Type INTERNAL_ERROR = new Type("internal-error", 500, "Internal error");
    public static final Type CHECK_NEEDED = new Type("check-needed", 503, "Repository needs a check");
    public static final Type REPOSITORY_UNAVAILABLE = new Type("repository-unavailable", 503, "Repository unavailable");
    public static final Type READ_ONLY = new Type("read-only", 503, "Repository is read-only");
    public static final Type QUOTA_EXCEEDED = new Type("quota-exceeded", 507, "Storage quota exceeded");
    public static final Type INSUFFICIENT_STORAGE = new Type("insufficient-storage", 507, "Insufficient free space");

    private Problems() {
    }

    /** The type for an error the framework raised with only a status. */
    static Type forFrameworkStatus(int status) {
        return switch (status) {
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 411 -> LENGTH_REQUIRED;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 400 -> BAD_REQUEST;
            default -> status >= 500 ? INTERNAL_ERROR : BAD_REQUEST;
        };
    }
}
