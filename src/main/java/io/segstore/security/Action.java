package io.segstore.security;

/**
 * What a request does to a repository, and the role it takes. Some need less in an append-only
 * repository, where deletes and compaction only add to the log (Borg's {@code serve --append-only}).
 */
public enum Action {
    READ(Role.READ, Role.READ),
    PUT_OBJECT(Role.APPEND, Role.APPEND),
    /** Overwriting an existing object (any id but Borg's manifest). */
    OVERWRITE_OBJECT(Role.WRITE, Role.APPEND),
    DELETE_OBJECT(Role.WRITE, Role.APPEND),
    TRANSACT(Role.APPEND, Role.APPEND),
    COMPACT(Role.WRITE, Role.APPEND),
    CHECK(Role.WRITE, Role.WRITE),
    /** Storing the repository key when there is none yet (borg init); replacing one needs WRITE. */
    STORE_KEY(Role.APPEND, Role.APPEND),
    REPLACE_KEY(Role.WRITE, Role.WRITE),
    RESERVE_NONCE(Role.APPEND, Role.APPEND),
    /** restic: removing a lock file (rest-server's --append-only allows it). */
    DELETE_LOCK_FILE(Role.APPEND, Role.APPEND),
    /** restic: removing any other file (prune, forget); never for append, whatever the repository's flag. */
    DELETE_FILE(Role.WRITE, Role.WRITE),
    REPAIR(Role.ADMIN, Role.ADMIN),
    /** Bringing back an earlier transaction of an append-only repository, as a new repository. */
    RESTORE(Role.ADMIN, Role.ADMIN),
    CREATE(Role.ADMIN, Role.ADMIN),
    CONFIGURE(Role.ADMIN, Role.ADMIN),
    DESTROY(Role.ADMIN, Role.ADMIN),
    BREAK_LOCK(Role.ADMIN, Role.ADMIN),
    /** Using (writing to, committing, rolling back) a transaction another token began. */
    USE_OTHERS_TRANSACTION(Role.ADMIN, Role.ADMIN);

    private final Role role;
    private final Role roleWhenAppendOnly;

    Action(Role role, Role roleWhenAppendOnly) {
        this.role = role;
        this.roleWhenAppendOnly = roleWhenAppendOnly;
    }

    public Role role(boolean appendOnly) {
        return appendOnly ? roleWhenAppendOnly : role;
    }
}
