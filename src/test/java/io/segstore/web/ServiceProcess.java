package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.Main;
import io.segstore.testing.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The service in a JVM of its own, on a free port. */
final class ServiceProcess {
    final Process process;
    final int port;

    private ServiceProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static ServiceProcess start(Path dataDir, Path log) throws IOException, InterruptedException {
        return start(dataDir, log, "/actuator/health/readiness");
    }

    /** Starts the service and waits until {@code probe} answers 200 (readiness: the repositories are open). */
    static ServiceProcess start(Path dataDir, Path log, String probe, String... extraArgs) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(),
                "--server.port=" + port, "--segstore.data-dir=" + dataDir, "--spring.main.banner-mode=off"));
        command.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        ServiceProcess service = new ServiceProcess(p, port);
        service.awaitHealthy(log, probe);
        return service;
    }

    static String tail(Path log) {
        try {
            String s = java.nio.file.Files.readString(log);
            return s.substring(Math.max(0, s.length() - 4000));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private void awaitHealthy(Path log, String probe) {
        ApiClient api = new ApiClient(port);
        Poll.until("the service is healthy (" + probe + ")", java.time.Duration.ofMinutes(2), () -> {
            assertTrue(process.isAlive(), () -> "the service exited during start-up: " + tail(log));
            try {
                return api.get(probe).status() == 200;
            } catch (UncheckedIOException e) {
                return false; // not listening yet
            }
        });
    }

    /** SIGKILL: no shutdown hook, no final checkpoint, no lock release. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertTrue(process.waitFor(1, TimeUnit.MINUTES));
    }

    /** SIGTERM, as Kubernetes stops a pod; returns the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), "the service did not stop within two minutes of SIGTERM");
        return process.exitValue();
    }

    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            kill();
        }
    }
}
