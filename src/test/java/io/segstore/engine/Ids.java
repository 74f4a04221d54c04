package io.segstore.engine;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Object ids for tests, made the way Borg's own test suite makes them. */
public final class Ids {

    private Ids() {
    }

    /** Borg's H(x): the 32 ASCII digits of x, zero-padded. */
    public static ObjectId h(long x) {
        return ObjectId.of(String.format("%032d", x).getBytes(StandardCharsets.US_ASCII));
    }

    /** Borg's H2(x): SHA-256 of H(x), so ids spread like real ones. */
    public static ObjectId h2(long x) {
        try {
            return ObjectId.of(MessageDigest.getInstance("SHA-256").digest(h(x).toBytes()));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
