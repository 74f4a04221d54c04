package io.segstore.restic;

/**
 * The part of a file a GET asks for with {@code Range} (RFC 9110 byte ranges), resolved against
 * the file's size the way restic's rest-server (Go's http.ServeContent) resolves it:
 * {@code bytes=a-b}, {@code bytes=a-} and {@code bytes=-n}; an end beyond the file is clamped; a
 * start beyond it, or a header that cannot be parsed, is 416. Several ranges in one header are
 * answered with the whole file (200), which the RFC allows; restic never asks for more than one.
 *
 * @param start   first byte
 * @param length  number of bytes
 * @param partial whether the answer is 206 with Content-Range (false: the whole file, 200)
 */
record ByteRange(long start, long length, boolean partial) {

    static ByteRange whole(long size) {
        return new ByteRange(0, size, false);
    }

    /** The range {@code header} asks for in a file of {@code size} bytes (null header: all of it). */
    static ByteRange parse(String header, long size) {
        if (header == null || header.isBlank()) {
            return whole(size);
        }
        String h = header.strip();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            throw ResticException.unsatisfiable(header, size);
        }
        String spec = h.substring(6).strip();
        if (spec.contains(",")) {
            return whole(size);
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            throw ResticException.unsatisfiable(header, size);
        }
        String first = spec.substring(0, dash).strip();
        String last = spec.substring(dash + 1).strip();
        try {
            boolean suffix = first.isEmpty();
            long a = suffix ? -1 : number(first);
            long b = last.isEmpty() ? -1 : number(last);
            if (suffix && b < 0 || !suffix && b >= 0 && b < a) {
                throw ResticException.unsatisfiable(header, size);
            }
            if (size == 0) {
                return whole(0); // Go answers an empty file's ranged GET with 200, as clients range every read
            }
            if (suffix) {
                if (b == 0) {
                    throw ResticException.unsatisfiable(header, size);
                }
                long start = Math.max(0, size - b);
                return new ByteRange(start, size - start, true);
            }
            if (a >= size) {
                throw ResticException.unsatisfiable(header, size);
            }
            long end = b < 0 ? size - 1 : Math.min(b, size - 1);
            return new ByteRange(a, end - a + 1, true);
        } catch (NumberFormatException e) {
            throw ResticException.unsatisfiable(header, size);
        }
    }

    private static long number(String s) {
        if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new NumberFormatException(s);
        }
        return Long.parseLong(s);
    }

    /** The Content-Range of a partial answer. */
    String contentRange(long size) {
        return "bytes " + start + "-" + (start + length - 1) + "/" + size;
    }
}
