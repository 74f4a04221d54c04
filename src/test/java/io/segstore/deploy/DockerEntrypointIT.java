package io.segstore.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.segstore.deploy.Dockerfile.Instruction;
import io.segstore.deploy.Dockerfile.Stage;
import io.segstore.testing.Poll;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dockerfile's commands, run outside Docker (there is no Docker engine here) against the built
 * target/segstore.jar: the build stage's layer extraction, the runtime stage's COPYs into its
 * WORKDIR, then its ENTRYPOINT with its ENV. The image's directories are mapped into a temporary
 * directory and SERVER_PORT to a free port; nothing else differs. The service must come up on all
 * interfaces with its data in the volume's directory, the HEALTHCHECK command must report UP
 * (quickly), and SIGTERM (the STOPSIGNAL) must shut it down gracefully.
 */
class DockerEntrypointIT {

    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    @TempDir
    Path root;

    Process service;

    @AfterEach
    void stop() throws InterruptedException {
        if (service != null && service.isAlive()) {
            service.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void entrypointServesHealthOnAllInterfacesWithItsDataOnTheVolumeAndStopsGracefully() throws Exception {
        Dockerfile dockerfile = Dockerfile.read();
        Path jar = Path.of(System.getProperty("segstore.test.jar", "target/segstore.jar")).toAbsolutePath();
        assertThat(jar).as("the IT runs after package").exists();

        // The build stage: its extraction command, on the jar that its ./mvnw package built.
        Stage build = dockerfile.stage("build").orElseThrow();
        String extract = build.all("RUN").stream().map(Instruction::arguments)
                .flatMap(run -> Arrays.stream(run.split("&&"))).map(String::strip)
                .filter(command -> command.startsWith("java -Djarmode=tools")).findFirst().orElseThrow();
        Path buildDir = Files.createDirectories(root.resolve("build"));
        Map<String, Path> buildPaths = Map.of("/build", buildDir, "target/segstore.jar", jar);
        Result extracted = run(map(List.of(extract.split("\\s+")), buildPaths), buildDir, System.getenv(), 120);
        assertThat(extracted.status()).as("extract: %s", extracted.output()).isZero();

        // The runtime stage: COPY --from=build of each layer into WORKDIR.
        Stage runtime = dockerfile.finalStage();
        String workdir = runtime.last("WORKDIR").orElseThrow().arguments();
        Path app = Files.createDirectories(root.resolve("app"));
        for (Instruction copy : runtime.all("COPY")) {
            assertThat(copy.flags()).containsEntry("from", "build");
            Path from = Path.of(map(copy.words().get(0), buildPaths));
            copyTree(from, app.resolve(copy.words().get(1)));
        }
        assertThat(app.resolve("segstore.jar")).exists();
        assertThat(app.resolve("lib")).isDirectory();

        // The container's file system: the volume, the mounted tokens file, WORKDIR.
        Map<String, String> imageEnv = runtime.env();
        String dataDir = runtime.last("VOLUME").orElseThrow().execForm().orElseThrow().get(0);
        Path data = Files.createDirectories(root.resolve("data"));
        String tokensFile = imageEnv.get("SEGSTORE_SECURITY_TOKENS_FILE");
        Path tokens = root.resolve("tokens").resolve(Path.of(tokensFile).getFileName().toString());
        Files.createDirectories(tokens.getParent());
        String token = "it-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(root.toString().getBytes(StandardCharsets.UTF_8)));
        Files.writeString(tokens, tokensFileFor(token), StandardCharsets.UTF_8);
        Map<String, Path> container = new LinkedHashMap<>();
        container.put(workdir, app);
        container.put(dataDir, data);
        container.put(tokensFile, tokens);

        int port = freePort();
        Map<String, String> env = containerEnvironment(imageEnv, container);
        env.put("SERVER_PORT", String.valueOf(port));

        List<String> entrypoint = map(runtime.last("ENTRYPOINT").orElseThrow().execForm().orElseThrow(), container);
        Path log = root.resolve("service.log");
        ProcessBuilder builder = new ProcessBuilder(entrypoint).directory(app.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        service = builder.start();

        // The HEALTHCHECK command, as Docker runs it: same environment, no --url.
        List<String> healthcheck = map(runtime.last("HEALTHCHECK").orElseThrow().execForm().orElseThrow(), container);
        Result health = waitForHealthy(healthcheck, app, env, log);
        assertThat(health.output().strip()).isEqualTo("UP");
        assertThat(health.millis()).as("the probe must be quick (HEALTHCHECK --timeout=10s)").isLessThan(5_000);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (String group : List.of("liveness", "readiness")) {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/" + group)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(group).isEqualTo(200);
            assertThat(answer.body()).contains("\"status\":\"UP\"");
        }
        assertThat(listensOnAllInterfaces(port)).as("SERVER_ADDRESS=0.0.0.0: a wildcard listening socket on port %d", port).isTrue();

        // Repositories land in the volume's directory.
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/repos/it-volume"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(data.resolve("it-volume").resolve("config")).isRegularFile();

        // docker stop sends the STOPSIGNAL (SIGTERM): Spring's graceful shutdown, well within the
        // 60 s that the chart's terminationGracePeriodSeconds allows.
        assertThat(runtime.last("STOPSIGNAL").orElseThrow().arguments()).isEqualTo("SIGTERM");
        long stopping = System.nanoTime();
        service.destroy(); // SIGTERM on Linux
        assertThat(service.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s").isTrue();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stopping)).isLessThan(40);
        assertThat(service.exitValue()).as("exit on SIGTERM").isIn(0, 143);
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(output).contains("Commencing graceful shutdown").contains("Graceful shutdown complete");

        Result after = run(healthcheck, app, env, 30);
        assertThat(after.status()).isEqualTo(1);
        assertThat(after.output()).startsWith("UNREACHABLE");
    }

    /** The proposed tokens file (segstore.security.tokens-file): the token entries under "tokens". */
    static String tokensFileFor(String token) throws Exception {
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        return """
                tokens:
                  - name: entrypoint-it
                    sha256: %s
                    grants:
                      - repos: "*"
                        role: admin
                """.formatted(sha);
    }

    /**
     * The environment of the container: the image's ENV with its paths mapped, over a minimal
     * inherited environment (PATH, HOME, locale) from which every variable that would configure
     * the service or the JVM is removed.
     */
    static Map<String, String> containerEnvironment(Map<String, String> imageEnv, Map<String, Path> container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : List.of("PATH", "HOME", "LANG", "TZ")) {
            String value = System.getenv(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        imageEnv.forEach((name, value) -> env.put(name, map(value, container)));
        return env;
    }

    static String map(String value, Map<String, Path> paths) {
        for (Map.Entry<String, Path> p : paths.entrySet()) {
            if (value.equals(p.getKey())) {
                return p.getValue().toString();
            }
            String prefix = p.getKey().endsWith("/") ? p.getKey() : p.getKey() + "/";
            if (value.startsWith(prefix)) {
                return p.getValue().resolve(value.substring(prefix.length())).toString();
            }
        }
        return value;
    }

    static List<String> map(List<String> command, Map<String, Path> paths) {
        List<String> mapped = new ArrayList<>();
        for (String word : command) {
            mapped.add(word.equals("java") ? JAVA.toString() : map(word, paths));
        }
        return mapped;
    }

    private Result waitForHealthy(List<String> healthcheck, Path dir, Map<String, String> env, Path log) throws Exception {
        Result healthy = Poll.until("the service is healthy (HEALTHCHECK --start-period)", Duration.ofSeconds(120), () -> {
            try {
                if (!service.isAlive()) {
                    throw new AssertionError("the service exited with " + service.exitValue() + ":\n" + Files.readString(log));
                }
                Result probe = run(healthcheck, dir, env, 30);
                assertThat(probe.status()).as("health exits 0 or 1: %s", probe.output()).isIn(0, 1);
                return probe;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }, probe -> probe.status() == 0);
        return healthy;
    }

    record Result(int status, String output, long millis) {
    }

    static Result run(List<String> command, Path dir, Map<String, String> env, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(env);
        long start = System.nanoTime();
        Process p = builder.start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish in " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), new String(output, StandardCharsets.UTF_8), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path source : files.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** A listening socket on the wildcard address (IPv4 0.0.0.0 or IPv6 ::) for the port, from /proc/net. */
    static boolean listensOnAllInterfaces(int port) throws IOException {
        String suffix = String.format(Locale.ROOT, ":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.exists(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file).subList(1, Files.readAllLines(file).size())) {
                String[] fields = line.strip().split("\\s+");
                String local = fields[1];
                boolean listening = fields[3].equals("0A");
                if (listening && local.endsWith(suffix) && local.substring(0, local.indexOf(':')).chars().allMatch(c -> c == '0')) {
                    return true;
                }
            }
        }
        return false;
    }
}
