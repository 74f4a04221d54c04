package io.segstore.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real borg 1.2 (/usr/bin/borg, Debian's borgbackup) talking to Segstore through
 * bin/borg-rsh and the packaged jar, each process with a private BORG_BASE_DIR, a passphrase, a
 * timeout, and its output in the assertion message when something goes wrong.
 */
final class BorgClient {

    static final Path BORG = Path.of("/usr/bin/borg");
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path RSH = Path.of("bin", "borg-rsh").toAbsolutePath();
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final Path workDir;
    private final Map<String, String> env = new HashMap<>();

    BorgClient(Path workDir, Path baseDir, String serviceUrl) {
        this.workDir = workDir;
        try {
            Files.createDirectories(baseDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        env.put("BORG_BASE_DIR", baseDir.toString());
        env.put("BORG_RSH", RSH.toString());
        env.put("SEGSTORE_URL", serviceUrl);
        env.put("SEGSTORE_JAR", jar().toString());
        env.put("SEGSTORE_CACHE_DIR", workDir.resolve("bridge-cache").toString()); // the class data sharing archive
        env.put("BORG_PASSPHRASE", "correct horse battery staple");
        env.put("BORG_DISPLAY_PASSPHRASE", "no");
        env.put("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes");
        env.put("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes");
        env.put("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING", "YES");
        env.put("BORG_DELETE_I_KNOW_WHAT_I_AM_DOING", "YES");
        env.put("LC_ALL", "C.UTF-8");
        env.put("PYTHONDONTWRITEBYTECODE", "1");
    }

    /** Another client of the same service: its own base dir (cache, keys, security), e.g. a restore machine. */
    BorgClient(BorgClient other, Path baseDir) {
        this(other.workDir, baseDir, other.env.get("SEGSTORE_URL"));
        env.putAll(other.env);
        env.put("BORG_BASE_DIR", baseDir.toString());
    }

    BorgClient withEnv(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** The packaged jar the bridge runs from (built by `package` before the integration-test phase). */
    static Path jar() {
        Path jar = Path.of(System.getProperty("segstore.test.jar", "target/segstore.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), jar + " is missing: the Borg bridge tests run the packaged jar; run ./mvnw verify "
                + "(or ./mvnw package -DskipTests first)");
        Path classes = Path.of("target", "classes", "io", "segstore");
        try (Stream<Path> compiled = Files.walk(classes)) {
            long newest = compiled.mapToLong(p -> p.toFile().lastModified()).max().orElse(0);
            assertTrue(jar.toFile().lastModified() >= newest, jar + " is older than the classes in " + classes
                    + ": package it again (./mvnw verify runs these tests after `package`)");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jar;
    }

    /** Fails (never skips) unless Debian's borg 1.2 and its python are installed. */
    static void requireInstalled() {
        String hint = " The Borg bridge tests need Debian's borgbackup 1.2 (apt-get install borgbackup) at " + BORG + ".";
        assertTrue(Files.isExecutable(BORG), BORG + " is missing or not executable." + hint);
        assertTrue(Files.isExecutable(PYTHON), PYTHON + " is missing." + hint);
        assertTrue(Files.isExecutable(RSH), RSH + " is missing or not executable");
    }

    /** What a finished borg left behind. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "command: " + String.join(" ", command) + "\nexit code: " + exitCode + "\nstdout:\n" + tail(stdout) + "\nstderr:\n"
                    + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() <= 20_000 ? s : "...\n" + s.substring(s.length() - 20_000);
        }
    }

    /** Runs borg in the work dir; the caller judges the exit code. */
    Result run(String... args) {
        return runIn(workDir, args);
    }

    /** Runs borg and fails unless it exits 0. */
    Result ok(String... args) {
        Result r = run(args);
        assertEquals(0, r.exitCode(), "borg failed\n" + r);
        return r;
    }

    Result runIn(Path dir, String... args) {
        List<String> command = new ArrayList<>();
        command.add(BORG.toString());
        command.addAll(List.of(args));
        return runCommand(dir, command);
    }

    /** Runs bin/borg-rsh itself, as borg would (its stdin is empty). */
    Result rsh(String... args) {
        List<String> command = new ArrayList<>();
        command.add(RSH.toString());
        command.addAll(List.of(args));
        return runCommand(workDir, command);
    }

    /** Runs Borg's own python (for scripts that use Borg's RemoteRepository). */
    Result python(String... args) {
        List<String> command = new ArrayList<>();
        command.add(PYTHON.toString());
        command.addAll(List.of(args));
        return runCommand(workDir, command);
    }

    private Result runCommand(Path dir, List<String> command) {
        Path out = temp("out");
        Path err = temp("err");
        try {
            Process p = builder(dir, command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("timed out after " + TIMEOUT + ": " + String.join(" ", command) + "\nstdout:\n" + read(out) + "\nstderr:\n" + read(err));
            }
            return new Result(command, p.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A borg started in the background with its stdin as a pipe (borg create ... - reads it). */
    Running start(String... args) {
        List<String> command = new ArrayList<>();
        command.add(BORG.toString());
        command.addAll(List.of(args));
        Path out = temp("out");
        Path err = temp("err");
        try {
            Process p = builder(workDir, command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            return new Running(command, p, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** A borg running in the background. */
    record Running(List<String> command, Process process, Path out, Path err) {
        /** Waits for it to end (it must, within the timeout) and returns what it left. */
        Result finish() {
            try {
                if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                    fail("did not end: " + command + "\nstderr:\n" + read(err));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            return new Result(command, process.exitValue(), read(out), read(err));
        }
    }

    private ProcessBuilder builder(Path dir, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        Map<String, String> e = pb.environment();
        e.remove("PYTHONPATH");
        e.remove("PYTHONHOME");
        e.remove("BORG_REPO");
        e.remove("BORG_REMOTE_PATH");
        e.remove("SEGSTORE_TOKEN");
        e.putAll(env);
        return pb;
    }

    private Path temp(String kind) {
        try {
            return Files.createTempFile(workDir, "borg-" + kind + "-", ".txt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }
}
