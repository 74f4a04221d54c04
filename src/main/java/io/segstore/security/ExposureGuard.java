package io.segstore.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Without tokens anyone who reaches the port may do anything, so the service then listens on
 * loopback only: binding any other address (or all of them) without tokens stops the start with
 * a message that says what to do. Runs before the web server binds.
 */
@Component
class ExposureGuard implements InitializingBean {

    private static final System.Logger LOG = System.getLogger(ExposureGuard.class.getName());

    private final Environment environment;
    private final TokenRegistry tokens;

    ExposureGuard(Environment environment, TokenRegistry tokens) {
        this.environment = environment;
        this.tokens = tokens;
    }

    @Override
    public void afterPropertiesSet() {
        if (tokens.enabled()) {
            return;
        }
        check("server.address", environment.getProperty("server.address"));
        if (environment.getProperty("management.server.port") != null) {
            check("management.server.address", environment.getProperty("management.server.address",
                    environment.getProperty("server.address")));
        }
        LOG.log(System.Logger.Level.WARNING, "No tokens are configured (segstore.security.tokens): the service runs "
                + "UNAUTHENTICATED and listens on loopback only. Configure tokens before exposing it.");
    }

    private static void check(String property, String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalStateException(property + " is not set, so the service would listen on every address, "
                    + "but no tokens are configured: anyone could read and delete every backup. Configure "
                    + "segstore.security.tokens (or segstore.security.tokens-file), or set " + property + "=127.0.0.1.");
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(property + "=" + address + " cannot be resolved", e);
        }
        if (!loopback) {
            throw new IllegalStateException(property + "=" + address + " is not a loopback address, but no tokens are "
                    + "configured: anyone reaching it could read and delete every backup. Configure "
                    + "segstore.security.tokens (or segstore.security.tokens-file), or listen on 127.0.0.1.");
        }
    }
}
