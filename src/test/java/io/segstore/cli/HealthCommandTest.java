package io.segstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.segstore.deploy.RunningServiceTestBase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code segstore.jar health}, the Docker HEALTHCHECK's probe: UP against the real service, and
 * exit 1 with the reason against a closed port, a DOWN answer, or something that is no health
 * endpoint.
 */
class HealthCommandTest extends RunningServiceTestBase {

    /** Exit status and printed lines of one run. */
    record Run(int status, String out, String err) {
    }

    static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new HealthCommand(env).run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void isACommandOfTheJar() {
        assertThat(CommandLine.isCommand("health")).isTrue();
    }

    @Test
    void upAgainstTheRunningServicesLiveness() {
        Run run = run(Map.of(), "--url", baseUrl() + "/actuator/health/liveness");
        assertThat(run.status()).isZero();
        assertThat(run.out().strip()).isEqualTo("UP");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void upAgainstTheRunningServicesReadiness() {
        Run run = run(Map.of(), "--url", baseUrl() + "/actuator/health/readiness", "--timeout", "3");
        assertThat(run.status()).isZero();
        assertThat(run.out().strip()).isEqualTo("UP");
    }

    @Test
    void defaultUrlFollowsTheServicesPortFromTheEnvironment() {
        // The HEALTHCHECK runs without --url: SERVER_PORT, which configures the service, also aims the probe.
        Run run = run(Map.of("SERVER_PORT", String.valueOf(port)));
        assertThat(run.status()).isZero();
        assertThat(run.out().strip()).isEqualTo("UP");
        assertThat(new HealthCommand(Map.of()).defaultUrl()).isEqualTo("http://127.0.0.1:8080/actuator/health/liveness");
        assertThat(new HealthCommand(Map.of("SERVER_PORT", "9000", "MANAGEMENT_SERVER_PORT", "9100")).defaultUrl())
                .isEqualTo("http://127.0.0.1:9100/actuator/health/liveness");
    }

    @Test
    void unreachableOnAClosedPort() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        Run run = run(Map.of("SERVER_PORT", String.valueOf(closed)), "--timeout", "2");
        assertThat(run.status()).isEqualTo(1);
        assertThat(run.out()).startsWith("UNREACHABLE (").contains("127.0.0.1:" + closed).contains("Connection refused");
    }

    @Test
    void downWhenTheServiceSaysSo() throws IOException {
        HttpServer server = fakeHealth(503, "application/vnd.spring-boot.actuator.v3+json",
                "{\"components\":{\"disk\":{\"status\":\"UP\"}},\"status\":\"DOWN\"}");
        try {
            Run run = run(Map.of(), "--url", "http://127.0.0.1:" + server.getAddress().getPort() + "/actuator/health/liveness");
            assertThat(run.status()).isEqualTo(1);
            assertThat(run.out()).startsWith("DOWN (HTTP 503");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void unknownWhenTheAnswerIsNoHealthDocument() throws IOException {
        HttpServer server = fakeHealth(200, "text/html", "<html><body>status: UP</body></html>");
        try {
            Run run = run(Map.of(), "--url", "http://127.0.0.1:" + server.getAddress().getPort() + "/");
            assertThat(run.status()).isEqualTo(1);
            assertThat(run.out()).startsWith("UNKNOWN (HTTP 200");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void nonUpStatusWithHttp200IsNotHealthy() throws IOException {
        HttpServer server = fakeHealth(200, "application/json", "{\"status\":\"OUT_OF_SERVICE\"}");
        try {
            Run run = run(Map.of(), "--url", "http://127.0.0.1:" + server.getAddress().getPort() + "/");
            assertThat(run.status()).isEqualTo(1);
            assertThat(run.out()).startsWith("OUT_OF_SERVICE");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void wrongArgumentsExitOneAsDockerWants() {
        // Docker reserves exit status 2 of a HEALTHCHECK; the probe never uses it.
        Run bad = run(Map.of(), "--url", "ftp://example/");
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("usage: java -jar segstore.jar health");
        assertThat(run(Map.of(), "--frequency", "2").status()).isEqualTo(1);
        assertThat(run(Map.of(), "extra").status()).isEqualTo(1);
    }

    @Test
    void readsOnlyTheTopLevelStatus() {
        assertThat(HealthCommand.topLevelStatus("{\"status\":\"UP\"}")).isEqualTo("UP");
        assertThat(HealthCommand.topLevelStatus("{ \"components\" : {\"a\": {\"status\": \"DOWN\", \"details\": {\"x\": [1, \"}\"]}}},"
                + " \"groups\": [\"liveness\"], \"status\" : \"UP\" }")).isEqualTo("UP");
        assertThat(HealthCommand.topLevelStatus("{\"details\":{\"status\":\"UP\"}}")).isNull();
        assertThat(HealthCommand.topLevelStatus("{\"note\":\"status\",\"status\":\"OUT_OF_SERVICE\"}")).isEqualTo("OUT_OF_SERVICE");
        assertThat(HealthCommand.topLevelStatus("{\"status\":\"\\u0055P\"}")).isEqualTo("UP");
        assertThat(HealthCommand.topLevelStatus("not json")).isNull();
        assertThat(HealthCommand.topLevelStatus("{\"status\":\"UP")).isNull();
    }

    private static HttpServer fakeHealth(int status, String contentType, String body) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        return server;
    }
}
