package io.segstore.security;

import java.util.Locale;

/**
 * What a token may do in the repositories a grant names. Each role includes the ones before it:
 * an {@code append} client reads, a {@code write} client appends, an {@code admin} writes.
 */
public enum Role {
    /** GET, HEAD, listings, exists, the index download, job status. */
    READ,
    /**
     * Read, store new objects and commit: no delete and no overwrite (but of Borg's manifest id),
     * no compaction — unless the repository is append-only, where those are only logged.
     */
    APPEND,
    /** Every object and transaction operation, compaction and check. */
    WRITE,
    /** Create, configure and destroy repositories, repair, break locks. */
    ADMIN;

    public boolean includes(Role other) {
        return compareTo(other) >= 0;
    }

    /** The role named in configuration ("read", "append", "write", "admin"). */
    public static Role parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown role \"" + name + "\": one of read, append, write, admin (or metrics)");
        }
    }
}
