package io.segstore.security;

import java.util.List;

/**
 * Who sent a request: a configured token's name and its grants, or the local caller of a
 * service that runs without tokens (on loopback only), which may do everything.
 */
public final class Caller {

    /** One grant: a role in the repositories a pattern matches. */
    public record Grant(RepositoryGlob repositories, Role role) {
    }

    /** The only caller of a service without tokens. */
    public static final Caller LOCAL = new Caller("local", List.of(new Grant(new RepositoryGlob("*"), Role.ADMIN)), true);

    private final String name;
    private final List<Grant> grants;
    private final boolean metrics;

    public Caller(String name, List<Grant> grants, boolean metrics) {
        this.name = name;
        this.grants = List.copyOf(grants);
        this.metrics = metrics;
    }

    public String name() {
        return name;
    }

    /** The highest role any grant gives in {@code repository}, or null for none. */
    public Role roleIn(String repository) {
        Role best = null;
        for (Grant g : grants) {
            if (g.repositories().matches(repository) && (best == null || g.role().includes(best))) {
                best = g.role();
            }
        }
        return best;
    }

    public boolean may(Role role, String repository) {
        Role r = roleIn(repository);
        return r != null && r.includes(role);
    }

    /** An admin grant on every repository ("*"): needed for the actuator and for creating any name. */
    public boolean isAdministrator() {
        for (Grant g : grants) {
            if (g.role() == Role.ADMIN && g.repositories().toString().equals("*")) {
                return true;
            }
        }
        return false;
    }

    /** May read the actuator's repositories and prometheus endpoints. */
    public boolean mayReadMetrics() {
        return metrics || isAdministrator();
    }

    @Override
    public String toString() {
        return name;
    }
}
