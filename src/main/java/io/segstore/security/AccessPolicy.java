package io.segstore.security;

import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.segstore.service.ServiceException;
import org.springframework.stereotype.Component;

/**
 * Decides whether the current caller may do an action in a repository. A caller without any
 * grant on a repository is refused the same way whether it exists or not, so names cannot be
 * probed; only a caller that may see a repository learns that it does not exist.
 */
@Component
public class AccessPolicy {

    private final RepositoryService repositories;

    public AccessPolicy(RepositoryService repositories) {
        this.repositories = repositories;
    }

    public Caller caller() {
        return CurrentCaller.get();
    }

    /** Refuses (403) unless the caller may do {@code action} in {@code repository}. */
    public void require(String repository, Action action) {
        Caller caller = caller();
        Role has = caller.roleIn(repository);
        Role needs = action.role(has != null && needsAppendOnlyFlag(action) && appendOnly(repository));
        if (has == null || !has.includes(needs)) {
            throw new ServiceException(ServiceException.Kind.FORBIDDEN, describe(caller, has, repository)
                    + " may not " + verb(action) + (has == null ? "." : " (that needs " + needs.name().toLowerCase() + ")."));
        }
    }

    /**
     * Refuses (403) a request that names a transaction another token began, unless the caller
     * is an administrator of the repository. Unknown transactions are left to the service (404/409).
     */
    public void requireOwnTransaction(String repository, String transaction) {
        String owner;
        try {
            owner = repositories.get(repository).owner(transaction);
        } catch (RuntimeException e) {
            return;
        }
        if (owner != null && !owner.equals(caller().name())) {
            require(repository, Action.USE_OTHERS_TRANSACTION);
        }
    }

    public boolean allows(String repository, Action action) {
        Role has = caller().roleIn(repository);
        return has != null && has.includes(action.role(needsAppendOnlyFlag(action) && appendOnly(repository)));
    }

    /** Whether the caller may see the repository at all (listed, described). */
    public boolean maySee(String repository) {
        return caller().roleIn(repository) != null;
    }

    private static boolean needsAppendOnlyFlag(Action action) {
        return action.role(true) != action.role(false);
    }

    private boolean appendOnly(String repository) {
        try {
            ManagedRepository m = repositories.get(repository);
            return m.repository().isAppendOnly();
        } catch (RuntimeException e) {
            return false; // unknown or unavailable: the stricter rule
        }
    }

    private static String describe(Caller caller, Role has, String repository) {
        return "Token \"" + caller.name() + "\"" + (has == null ? " has no grant on repository " + repository + " and"
                : " (role " + has.name().toLowerCase() + " in " + repository + ")");
    }

    private static String verb(Action action) {
        return switch (action) {
            case READ -> "read it";
            case PUT_OBJECT -> "store objects";
            case OVERWRITE_OBJECT -> "overwrite an existing object";
            case DELETE_OBJECT -> "delete objects";
            case TRANSACT -> "write transactions";
            case COMPACT -> "compact it";
            case CHECK -> "check it";
            case STORE_KEY -> "store its key";
            case REPLACE_KEY -> "replace its key";
            case RESERVE_NONCE -> "reserve nonces";
            case DELETE_LOCK_FILE -> "remove lock files";
            case DELETE_FILE -> "remove files other than locks";
            case REPAIR -> "repair it";
            case RESTORE -> "restore an earlier transaction of it";
            case CREATE -> "create it";
            case CONFIGURE -> "change its settings";
            case DESTROY -> "destroy it";
            case BREAK_LOCK -> "break its lock";
            case USE_OTHERS_TRANSACTION -> "use a transaction another token began";
        };
    }
}
