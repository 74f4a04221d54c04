package io.segstore.security;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/** The caller of the request this thread serves (the local caller when no request is being served). */
public final class CurrentCaller {

    private CurrentCaller() {
    }

    public static Caller get() {
        Authentication a = SecurityContextHolder.getContext().getAuthentication();
        return a instanceof CallerAuthentication c ? c.caller() : Caller.LOCAL;
    }

    /** The caller if one was authenticated for this request, else null (for audit lines). */
    static Caller authenticatedOrNull() {
        Authentication a = SecurityContextHolder.getContext().getAuthentication();
        return a instanceof CallerAuthentication c ? c.caller() : null;
    }
}
