package io.segstore.engine;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A 32-byte object key. Borg's ids are keyed MACs of the chunk; restic's are SHA-256 of the
 * file; the engine only needs them to be exactly 32 bytes.
 */
public final class ObjectId implements Comparable<ObjectId> {

    public static final int LENGTH = 32;

    /** Borg keeps its manifest under 32 zero bytes; it gets its own segment on every write. */
    public static final ObjectId MANIFEST = new ObjectId(new byte[LENGTH]);

    private static final HexFormat HEX = HexFormat.of();

    private final byte[] bytes;

    private ObjectId(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Copies {@code bytes}, which must be exactly 32 long. */
    public static ObjectId of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("an object id has 32 bytes, not " + bytes.length);
        }
        return new ObjectId(bytes.clone());
    }

    /** Parses 64 hex digits (either case). */
    public static ObjectId parse(String hex) {
        if (hex == null || hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("an object id is 64 hex digits");
        }
        try {
            return new ObjectId(HEX.parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("an object id is 64 hex digits", e);
        }
    }

    /** Wraps without copying: for ids the engine itself decoded and never hands out mutably. */
    static ObjectId wrap(byte[] bytes) {
        return new ObjectId(bytes);
    }

    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The backing array; callers inside the engine must not modify it. */
    byte[] bytes() {
        return bytes;
    }

    public boolean isManifest() {
        return Arrays.equals(bytes, MANIFEST.bytes);
    }

    public String hex() {
        return HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(ObjectId o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
