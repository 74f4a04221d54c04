package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real restic (Debian's, /usr/bin/restic) against a Segstore repository. A missing
 * restic is a test failure, never a skip: CI installs it, and a skipped test would hide that.
 */
public final class Restic {

    static final Duration TIMEOUT = Duration.ofSeconds(300);
    static final String PASSWORD = "correct horse battery staple";

    private final Path work;
    private final Map<String, String> env;

    /** restic for {@code rest:http://restic:TOKEN@127.0.0.1:PORT/restic/REPO/} (no credentials for a null token), its cache below {@code work}. */
    public Restic(Path work, int port, String repo, String token) {
        this.work = work;
        this.env = Map.of(
                "RESTIC_REPOSITORY", "rest:http://" + (token == null ? "" : "restic:" + token + "@") + "127.0.0.1:" + port
                        + "/restic/" + repo + "/",
                "RESTIC_PASSWORD", PASSWORD,
                "RESTIC_CACHE_DIR", work.resolve("restic-cache").toString(),
                "HOME", work.toString());
    }

    /** Fails unless restic runs (and says so with the way to install it). */
    public static String requireInstalled() {
        String hint = " The restic tests need Debian's restic (apt-get install restic) on PATH.";
        Process p;
        try {
            p = new ProcessBuilder("restic", "version").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("restic is not installed: " + e.getMessage() + "." + hint, e);
        }
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "restic version did not finish." + hint);
            assertEquals(0, p.exitValue(), "restic version failed: " + out + hint);
            assertTrue(out.startsWith("restic 0."), "unexpected restic: " + out + hint);
            return out.strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** What a finished restic left behind. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "command: restic " + String.join(" ", command) + "\nexit code: " + exitCode + "\nstdout:\n" + tail(stdout)
                    + "\nstderr:\n" + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() <= 10_000 ? s : "...\n" + s.substring(s.length() - 10_000);
        }
    }

    /** Starts restic with these arguments (stdout and stderr into files below the work directory). */
    Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("restic");
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).directory(work.toFile());
        b.environment().putAll(env);
        Path out = Files.createTempFile(work, "restic-out", ".txt");
        Path err = Files.createTempFile(work, "restic-err", ".txt");
        b.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = b.start();
        outputs.put(p, new Path[] {out, err});
        return p;
    }

    private final Map<Process, Path[]> outputs = new java.util.concurrent.ConcurrentHashMap<>();

    /** Waits for a started restic and collects what it wrote. */
    Result finish(Process p, List<String> args) throws IOException, InterruptedException {
        if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("restic " + String.join(" ", args) + " did not finish in " + TIMEOUT);
        }
        Path[] files = outputs.remove(p);
        return new Result(args, p.exitValue(), Files.readString(files[0]), Files.readString(files[1]));
    }

    /** Runs restic to the end; the caller judges the exit code. */
    public Result run(String... args) {
        try {
            return finish(start(args), List.of(args));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs restic and fails unless it exits 0. */
    public Result ok(String... args) {
        Result r = run(args);
        assertEquals(0, r.exitCode(), "restic failed\n" + r);
        return r;
    }
}
