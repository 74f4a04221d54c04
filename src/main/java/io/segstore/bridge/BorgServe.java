package io.segstore.bridge;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@code java -jar segstore.jar borg-serve ...}: the Borg bridge process, one per borg command
 * (bin/borg-rsh starts it as borg's "ssh"). It speaks Borg's RPC on stdin/stdout and forwards
 * to the Segstore service named by SEGSTORE_URL (with SEGSTORE_TOKEN as bearer token when set).
 *
 * <p>stdout carries only the protocol and stderr only Borg-format log lines: anything else in
 * the process that prints becomes a debug log line.
 *
 * <p>Environment: SEGSTORE_URL (else http://HOST:8080 from borg's location), SEGSTORE_TOKEN,
 * SEGSTORE_LEASE_SECONDS (writer lease, default 60: how long a repository stays locked after
 * the bridge dies without a word), SEGSTORE_BRIDGE_CONNECTIONS (concurrent object requests,
 * default 8).
 */
public final class BorgServe {

    private static final long DEFAULT_LEASE_SECONDS = 60;
    private static final int DEFAULT_CONNECTIONS = 8;
    private static final long MAX_BUFFERED_BYTES = 256L * 1024 * 1024;

    private BorgServe() {
    }

    /** Runs the bridge on this process's stdin/stdout/stderr; returns the exit status. */
    public static int run(String[] args) {
        OutputStream err = new FileOutputStream(FileDescriptor.err);
        OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        InputStream in = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16);
        return run(args, System.getenv(), in, out, err, true);
    }

    /** Runs the bridge on the given streams (tests run it in process); {@code ownProcess}: take over System.out/err. */
    static int run(String[] args, Map<String, String> env, InputStream in, OutputStream out, OutputStream err, boolean ownProcess) {
        ServeOptions options;
        try {
            options = ServeOptions.parse(args);
        } catch (ServeOptions.UsageException e) {
            write(err, e.getMessage() + "\n");
            return 2;
        }
        BorgLog log = new BorgLog(err, options.logLevel);
        if (ownProcess) {
            java.util.logging.LogManager.getLogManager().reset();
            PrintStream stray = new PrintStream(log.strayOutput(), true, StandardCharsets.UTF_8);
            System.setOut(stray);
            System.setErr(stray);
        }
        String url = options.serviceUrl(env);
        if (url == null) {
            log.error("Segstore: set SEGSTORE_URL to the service's address (e.g. http://127.0.0.1:8080).");
            url = "http://127.0.0.1:8080";
        }
        long leaseSeconds = number(env, "SEGSTORE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, log);
        int connections = (int) number(env, "SEGSTORE_BRIDGE_CONNECTIONS", DEFAULT_CONNECTIONS, log);
        SegstoreClient client = new SegstoreClient(url, env.get("SEGSTORE_TOKEN"), null);
        BorgRpcServer server = new BorgRpcServer(options, client, log, in, out, connections, MAX_BUFFERED_BYTES, leaseSeconds);
        if (ownProcess) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::abort, "bridge-shutdown"));
        }
        try {
            return server.serve();
        } catch (java.io.IOException e) {
            log.debug("the connection to borg failed: " + e);
            return 1;
        } finally {
            client.close();
        }
    }

    private static long number(Map<String, String> env, String name, long fallback, BorgLog log) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        log.warning("Segstore: " + name + " must be a positive whole number, not \"" + v + "\"; using " + fallback + ".");
        return fallback;
    }

    private static void write(OutputStream err, String text) {
        try {
            err.write(text.getBytes(StandardCharsets.UTF_8));
            err.flush();
        } catch (java.io.IOException e) {
            // nobody to tell
        }
    }
}
