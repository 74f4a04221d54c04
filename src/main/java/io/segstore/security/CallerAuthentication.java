package io.segstore.security;

import java.util.ArrayList;
import java.util.List;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/** An authenticated caller as Spring Security holds it; the authorities only guard the actuator. */
final class CallerAuthentication extends AbstractAuthenticationToken {

    static final String ADMINISTRATOR = "SEGSTORE_ADMINISTRATOR";
    static final String METRICS = "SEGSTORE_METRICS";

    private final Caller caller;

    CallerAuthentication(Caller caller) {
        super(authorities(caller));
        this.caller = caller;
        setAuthenticated(true);
    }

    private static List<GrantedAuthority> authorities(Caller caller) {
        List<GrantedAuthority> a = new ArrayList<>();
        if (caller.isAdministrator()) {
            a.add(new SimpleGrantedAuthority(ADMINISTRATOR));
        }
        if (caller.mayReadMetrics()) {
            a.add(new SimpleGrantedAuthority(METRICS));
        }
        return a;
    }

    Caller caller() {
        return caller;
    }

    @Override
    public Object getCredentials() {
        return ""; // the secret is not kept
    }

    @Override
    public Object getPrincipal() {
        return caller;
    }

    @Override
    public String getName() {
        return caller.name();
    }
}
