package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.SegstoreApplication;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Without tokens the service must not be reachable from other machines: it refuses to start. */
class ExposureGuardTest {

    @TempDir
    Path data;

    /** Command-line arguments: they win over application.yaml (default properties would not). */
    private String[] args(String... more) {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("--server.port=0", "--segstore.data-dir=" + data));
        all.addAll(java.util.List.of(more));
        return all.toArray(String[]::new);
    }

    private Throwable start(String... more) {
        return assertThrows(Throwable.class, () -> {
            try (ConfigurableApplicationContext ignored = new SpringApplicationBuilder(SegstoreApplication.class)
                    .properties("spring.main.banner-mode=off")
                    .run(args(more))) {
                // started: the assertion fails
            }
        });
    }

    private static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getMessage()).append('\n');
        }
        return b.toString();
    }

    @Test
    void aPublicAddressWithoutTokensRefusesToStart() {
        String why = messages(start("--server.address=0.0.0.0"));
        assertTrue(why.contains("server.address=0.0.0.0 is not a loopback address, but no tokens are configured"), why);
    }

    @Test
    void everyAddressWithoutTokensRefusesToStart() {
        String why = messages(start("--server.address="));
        assertTrue(why.contains("server.address is not set, so the service would listen on every address"), why);
    }

    @Test
    void aPublicAddressWithTokensStarts() {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(SegstoreApplication.class)
                .properties("spring.main.banner-mode=off")
                .run(args("--server.address=0.0.0.0", "--segstore.security.tokens[0].name=ops",
                        "--segstore.security.tokens[0].sha256=" + "ab".repeat(32),
                        "--segstore.security.tokens[0].grants[0].repos=*", "--segstore.security.tokens[0].grants[0].role=admin"))) {
            assertTrue(context.isRunning());
        }
    }
}
