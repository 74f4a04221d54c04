package io.segstore.restic;

import java.util.Locale;

/**
 * The kinds of file a restic repository holds, as they appear in the protocol's paths. Every type
 * but the config is named by 64 lower-case hex digits (the SHA-256 of the file) and listed through
 * a catalogue of its own, split into {@code 2^bucketBits} buckets by the first bits of the name:
 * listing one type reads only that type's buckets.
 */
public enum FileType {
    DATA("data", 1, 12),
    KEYS("keys", 2, 8),
    LOCKS("locks", 3, 8),
    SNAPSHOTS("snapshots", 4, 8),
    INDEX("index", 5, 8),
    /** The one file named {@code config}; it has no catalogue (its existence is its object's). */
    CONFIG("config", 6, 0);

    private final String path;
    private final int code;
    private final int bucketBits;

    FileType(String path, int code, int bucketBits) {
        this.path = path;
        this.code = code;
        this.bucketBits = bucketBits;
    }

    /** The name in the protocol's paths and in derived ids ("data", "keys", ...). */
    public String path() {
        return path;
    }

    /** The byte that identifies the type inside a catalogue bucket. */
    int code() {
        return code;
    }

    /** How many buckets the catalogue has: {@code 2^bucketBits}. */
    int buckets() {
        return 1 << bucketBits;
    }

    boolean catalogued() {
        return this != CONFIG;
    }

    /** The bucket of a (32-byte) name: its first {@code bucketBits} bits. */
    int bucketOf(byte[] name) {
        int first16 = ((name[0] & 0xff) << 8) | (name[1] & 0xff);
        return first16 >>> (16 - bucketBits);
    }

    /** The type of a listable directory path ("data", "keys", ...), or null. */
    static FileType directory(String path) {
        for (FileType t : values()) {
            if (t.catalogued() && t.path.equals(path)) {
                return t;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return path.toLowerCase(Locale.ROOT);
    }
}
