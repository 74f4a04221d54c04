package io.segstore.bridge;

import java.util.List;
import java.util.Locale;

/**
 * An error as {@code borg serve} reports it to the client: the name of Borg's exception class,
 * its arguments, the one-line message Borg formats from them, and whether Borg shows a
 * traceback. The client rebuilds some classes (ObjectNotFound, DoesNotExist, AlreadyExists,
 * CheckNeeded, IntegrityError, PathNotAllowed, InvalidRPCMethod...) as its own exceptions and
 * prints every other one's message, so the names and texts here are Borg's.
 */
final class BorgError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String className;
    private final List<Object> args;
    private final boolean traceback;

    BorgError(String className, List<Object> args, String message, boolean traceback) {
        super(message);
        this.className = className;
        this.args = args;
        this.traceback = traceback;
    }

    String className() {
        return className;
    }

    List<Object> args() {
        return args;
    }

    boolean traceback() {
        return traceback;
    }

    // ---- Borg's repository errors (repository.py, locking.py, remote.py) --------------------

    static BorgError doesNotExist(String path) {
        return new BorgError("DoesNotExist", List.of(path), "Repository " + path + " does not exist.", false);
    }

    static BorgError alreadyExists(String path) {
        return new BorgError("AlreadyExists", List.of(path), "A repository already exists at " + path + ".", false);
    }

    static BorgError pathNotAllowed(String path) {
        return new BorgError("PathNotAllowed", List.of(path), "Repository path not allowed: " + path, false);
    }

    static BorgError invalidRpcMethod(String method) {
        return new BorgError("InvalidRPCMethod", List.of(method), "RPC method " + method + " is not valid", false);
    }

    static BorgError checkNeeded(String path) {
        return new BorgError("CheckNeeded", List.of(path), "Inconsistency detected. Please run \"borg check " + path + "\".", true);
    }

    static BorgError objectNotFound(String hexId, String path) {
        return new BorgError("ObjectNotFound", List.of(hexId, path),
                "Object with key " + hexId + " not found in repository " + path + ".", true);
    }

    static BorgError integrityError(String what) {
        return new BorgError("IntegrityError", List.of(what), "Data integrity error: " + what, true);
    }

    static BorgError insufficientFreeSpace(long required, long available) {
        String r = FileSizes.format(required);
        String a = FileSizes.format(available);
        return new BorgError("InsufficientFreeSpaceError", List.of(r, a),
                "Insufficient free space to complete transaction (required: " + r + ", available: " + a + ").", false);
    }

    static BorgError storageQuotaExceeded(long quota, long used) {
        String q = FileSizes.format(quota);
        String u = FileSizes.format(used);
        return new BorgError("StorageQuotaExceeded", List.of(q, u),
                "The storage quota (" + q + ") has been exceeded (" + u + "). Try deleting some archives.", false);
    }

    static BorgError lockTimeout(String lock) {
        return new BorgError("LockTimeout", List.of(lock), "Failed to create/acquire the lock " + lock + " (timeout).", false);
    }

    static BorgError lockFailed(String lock, String reason) {
        return new BorgError("LockFailed", List.of(lock, reason), "Failed to create/acquire the lock " + lock + " (" + reason + ").", false);
    }

    static BorgError invalidRepository(String path, String reason) {
        return new BorgError("InvalidRepository", List.of(path),
                path + " is not a valid repository. Check repo config." + (reason == null ? "" : " (" + reason + ")"), false);
    }

    /** Borg raises ValueError for destroy and repair of an append-only repository. */
    static BorgError appendOnly(String path) {
        return new BorgError("ValueError", List.of(path + " is in append-only mode"), path + " is in append-only mode", false);
    }

    /** Any other failure: the class name tells the kind, the message says what happened. */
    static BorgError other(String className, String message) {
        return new BorgError(className, List.of(message), message, false);
    }

    /** Borg's format_file_size: decimal units, two decimals above bytes ("1.50 kB", "500 B"). */
    static final class FileSizes {
        private static final String[] UNITS = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};

        private FileSizes() {
        }

        static String format(long bytes) {
            double num = bytes;
            int precision = 0;
            String unit = UNITS[UNITS.length - 1];
            boolean found = false;
            for (int i = 0; i < UNITS.length - 1; i++) {
                if (Math.abs(Math.round(num * 100) / 100.0) < 1000) {
                    unit = UNITS[i];
                    found = true;
                    break;
                }
                num /= 1000.0;
                precision = 2;
            }
            if (!found) {
                precision = 2;
            }
            return String.format(Locale.ROOT, "%." + precision + "f %sB", num, unit);
        }

        /** Borg's parse_file_size: a number with an optional K, M, G, T or P (powers of 1000). */
        static long parse(String s) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("empty size");
            }
            char suffix = s.charAt(s.length() - 1);
            long factor = switch (suffix) {
                case 'K' -> 1000L;
                case 'M' -> 1000L * 1000;
                case 'G' -> 1000L * 1000 * 1000;
                case 'T' -> 1000L * 1000 * 1000 * 1000;
                case 'P' -> 1000L * 1000 * 1000 * 1000 * 1000;
                default -> 1;
            };
            String number = factor == 1 ? s : s.substring(0, s.length() - 1);
            return (long) (Double.parseDouble(number) * factor);
        }
    }
}
