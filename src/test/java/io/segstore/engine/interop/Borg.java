package io.segstore.engine.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the real Borg 1.2 (Debian's borgbackup): the {@code borg} command and the helper scripts
 * in {@code src/test/resources/borg/}, which use Borg's own Repository class under
 * {@code /usr/bin/python3}. Every process gets a private BORG_BASE_DIR, a timeout, and its stderr
 * in the assertion message when something goes wrong.
 *
 * <p>A missing python, borg module or borg command is a test failure, never a skip: CI installs
 * borgbackup, and a skipped interop test would hide a broken CI.
 */
final class Borg {

    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path baseDir;
    private final Path workDir;
    private final Map<String, String> env = new HashMap<>();

    /** A Borg environment whose base dir (cache, security, config) lives below {@code tempDir}. */
    Borg(Path tempDir) {
        this.baseDir = tempDir.resolve("borg-base");
        this.workDir = tempDir;
        try {
            Files.createDirectories(baseDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds an environment variable for every process started later (e.g. BORG_PASSPHRASE). */
    Borg withEnv(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Fails (never skips) unless /usr/bin/python3 with Borg 1.2's module and the borg command are there. */
    static void requireInstalled() {
        String hint = " The Borg interop tests need Debian's borgbackup 1.2 (apt-get install borgbackup): "
                + "/usr/bin/python3 with the borg module, and `borg` on PATH.";
        assertTrue(Files.isExecutable(PYTHON), PYTHON + " is missing or not executable." + hint);
        Result module = new Borg(tempBase()).run(List.of(PYTHON.toString(), "-c",
                "import borg, borg.repository; print(borg.__version__)"), TIMEOUT);
        assertEquals(0, module.exitCode(), "/usr/bin/python3 cannot import borg.repository." + hint + "\n" + module);
        assertTrue(module.stdout().strip().startsWith("1.2."), "the borg module is not Borg 1.2: " + module.stdout() + hint);
        Result command;
        try {
            command = new Borg(tempBase()).run(List.of("borg", "--version"), TIMEOUT);
        } catch (UncheckedIOException e) {
            throw new AssertionError("the borg command is not on PATH (" + e.getCause().getMessage() + ")." + hint, e);
        }
        assertEquals(0, command.exitCode(), "`borg --version` failed." + hint + "\n" + command);
        assertTrue(command.stdout().strip().startsWith("borg 1.2."), "`borg` is not Borg 1.2: " + command.stdout() + hint);
    }

    private static Path tempBase() {
        try {
            Path p = Files.createTempDirectory("segstore-borg-probe-");
            p.toFile().deleteOnExit();
            p.resolve("borg-base").toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a finished process left behind. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "command: " + String.join(" ", command) + "\nexit code: " + exitCode + "\nstdout:\n" + tail(stdout)
                    + "\nstderr:\n" + tail(stderr);
        }
    }

    private static String tail(String s) {
        return s.length() <= 20_000 ? s : "...\n" + s.substring(s.length() - 20_000);
    }

    /** Runs a helper script and returns its JSON answer (its last stdout line); fails on a non-zero exit. */
    Map<String, Object> script(String name, String... args) {
        Result r = run(scriptCommand(name, args), TIMEOUT);
        assertEquals(0, r.exitCode(), "Borg helper script " + name + " failed\n" + r);
        return parseLastLine(r);
    }

    /** Runs the borg command; the caller judges the exit code (the message is {@link Result#toString}). */
    Result cli(String... args) {
        List<String> command = new ArrayList<>();
        command.add("borg");
        command.addAll(List.of(args));
        return run(command, TIMEOUT);
    }

    /** `borg check --repository-only`, which must succeed. */
    void checkRepositoryOnly(Path repository) {
        Result r = cli("check", "--repository-only", "--info", repository.toString());
        assertEquals(0, r.exitCode(), "borg check --repository-only found problems in " + repository + "\n" + r);
    }

    List<String> scriptCommand(String name, String... args) {
        List<String> command = new ArrayList<>();
        command.add(PYTHON.toString());
        command.add(scriptPath(name).toString());
        command.addAll(List.of(args));
        return command;
    }

    static Path scriptPath(String name) {
        URL url = Borg.class.getResource("/borg/" + name);
        assertTrue(url != null, "helper script borg/" + name + " is not on the test class path");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    Map<String, Object> parseLastLine(Result r) {
        String[] lines = r.stdout().strip().split("\n");
        String last = lines[lines.length - 1];
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> json = JSON.readValue(last, Map.class);
            return json;
        } catch (RuntimeException e) {
            throw new AssertionError("not a JSON answer: " + last + "\n" + r, e);
        }
    }

    ProcessBuilder builder(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
        Map<String, String> e = pb.environment();
        // the pyenv on PATH must not leak into the system python
        e.remove("PYTHONPATH");
        e.remove("PYTHONHOME");
        e.remove("PYTHONSTARTUP");
        e.put("PYTHONDONTWRITEBYTECODE", "1");
        e.put("LC_ALL", "C.UTF-8");
        e.put("BORG_BASE_DIR", baseDir.toString());
        e.put("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes");
        e.put("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes");
        e.put("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING", "YES");
        e.put("BORG_DISPLAY_PASSPHRASE", "no");
        e.putAll(env);
        return pb;
    }

    Result run(List<String> command, Duration timeout) {
        Path out;
        Path err;
        try {
            out = Files.createTempFile(workDir, "borg-out-", ".txt");
            err = Files.createTempFile(workDir, "borg-err-", ".txt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Process p = builder(command).redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("timed out after " + timeout + ": " + String.join(" ", command) + "\nstdout:\n" + read(out) + "\nstderr:\n"
                        + read(err));
            }
            return new Result(command, p.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + command, e);
        } finally {
            try {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            } catch (IOException ignored) {
                // temp dir cleanup removes them
            }
        }
    }

    private static java.io.File nullDevice() {
        return new java.io.File("/dev/null");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }

    /**
     * A helper script running in the background, talking line by line on stdin/stdout (stderr
     * goes to a file for the assertion messages).
     */
    final class Background implements AutoCloseable {
        private final List<String> command;
        private final Process process;
        private final BufferedReader stdout;
        private final Path stderr;
        private final StringBuilder seen = new StringBuilder();

        Background(String script, String... args) {
            this.command = scriptCommand(script, args);
            try {
                stderr = Files.createTempFile(workDir, "borg-bg-err-", ".txt");
                process = builder(command).redirectError(stderr.toFile()).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + command, e);
            }
            stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Waits for the next stdout line (no sleeping: a blocked read with a timeout). */
        String readLine() {
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return stdout.readLine();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try {
                String l = line.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (l == null) {
                    fail("borg helper " + command + " ended before writing a line\n" + diagnostics());
                }
                seen.append(l).append('\n');
                return l;
            } catch (TimeoutException e) {
                line.cancel(true);
                process.destroyForcibly();
                throw new AssertionError("no output from " + command + " within " + TIMEOUT + "\n" + diagnostics(), e);
            } catch (ExecutionException e) {
                throw new AssertionError("cannot read from " + command + "\n" + diagnostics(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        void writeLine(String line) {
            try {
                OutputStream in = process.getOutputStream();
                in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                in.flush();
            } catch (IOException e) {
                throw new AssertionError("cannot write to " + command + "\n" + diagnostics(), e);
            }
        }

        /** Waits for the process to end with exit code 0 and returns its final JSON line. */
        Map<String, Object> finish() {
            String last = readLine();
            try {
                if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    fail("borg helper " + command + " did not exit\n" + diagnostics());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            assertEquals(0, process.exitValue(), "borg helper " + command + " failed\n" + diagnostics());
            return parseLastLine(new Result(command, 0, last, read(stderr)));
        }

        String diagnostics() {
            return "command: " + String.join(" ", command) + "\nstdout so far:\n" + seen + "\nstderr:\n" + tail(read(stderr));
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
