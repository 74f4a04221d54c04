package io.segstore.restic;

import io.segstore.web.Problems;

/** An error of the restic protocol with its problem type (see {@link ResticProblemHandler}). */
public final class ResticException extends RuntimeException {

    private final Problems.Type type;
    /** For 416: the file's size, sent as {@code Content-Range: bytes *}{@code /size}; else -1. */
    private final long size;

    ResticException(Problems.Type type, String message, long size) {
        super(message);
        this.type = type;
        this.size = size;
    }

    public Problems.Type type() {
        return type;
    }

    long size() {
        return size;
    }

    static ResticException badName(String message) {
        return new ResticException(Problems.BAD_FILE_NAME, message, -1);
    }

    static ResticException notFound(String repo, FileName file) {
        return new ResticException(Problems.FILE_NOT_FOUND, "There is no file " + file.path() + " in repository " + repo + ".", -1);
    }

    static ResticException exists(String repo, FileName file) {
        return new ResticException(Problems.FILE_EXISTS, file.path() + " exists in repository " + repo
                + "; restic files are never overwritten.", -1);
    }

    static ResticException hashMismatch(FileName file, String actual) {
        return new ResticException(Problems.HASH_MISMATCH, "The body's SHA-256 is " + actual + ", not the file name "
                + file.name() + "; nothing was stored.", -1);
    }

    static ResticException tooLarge(String message) {
        return new ResticException(Problems.FILE_TOO_LARGE, message, -1);
    }

    static ResticException unsatisfiable(String range, long size) {
        return new ResticException(Problems.RANGE_NOT_SATISFIABLE, "The range " + FileName.printable(range)
                + " cannot be served from a file of " + size + " bytes.", size);
    }

    static ResticException badRequest(String message) {
        return new ResticException(Problems.BAD_PARAMETER, message, -1);
    }

    static ResticException noSuchPath(String message) {
        return new ResticException(Problems.NOT_FOUND, message, -1);
    }
}
