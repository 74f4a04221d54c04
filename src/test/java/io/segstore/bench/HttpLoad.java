package io.segstore.bench;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP load client for object PUTs and GETs, used by tools/http-bench.py to compare Segstore
 * with a plain WebDAV server. It is not a test (no JUnit, not run by Surefire) and uses nothing but
 * the JDK, so it also runs as a single source file: {@code java HttpLoad.java ...}.
 *
 * <p>A fixed number of workers each own one keep-alive HTTP/1.1 connection (plain sockets, TCP_NODELAY)
 * and take request numbers from a shared counter until {@code --count} requests were sent or
 * {@code --duration} seconds passed. Object ids (64 hex digits) and the request lines are generated
 * from {@code --seed} before the clock starts; bodies are a pool of 16 random bodies of
 * {@code --size} bytes, body {@code i % 16} for object {@code i}, so a GET run with the seed and
 * size of an earlier PUT run reads exactly those objects (in a random order) and {@code --verify}
 * can compare every byte. With {@code --transaction} (Segstore only) the run begins a transaction,
 * sends every PUT in it and commits at the end, and the begin and the commit are inside the timing.
 * {@code --end-command} runs after the timed part (e.g. {@code sync}) and is timed on its own.
 *
 * <p>Prints one JSON line: requests, errors, elapsed seconds, req/s, MiB/s, p50/p99/max latency in
 * ms, commit ms, the end command's seconds, the CPU seconds the listed server processes
 * ({@code --pids}), this client and the whole machine used in the timed part (what is left is other
 * processes' load: the noise), and how often a server closed a connection.
 *
 * <pre>
 * HttpLoad --url http://127.0.0.1:8080/repos/bench --op put --size 4096 --connections 8 --duration 3 --seed 1 [--transaction]
 * HttpLoad --url http://127.0.0.1:8080/repos/bench --op get --size 4096 --connections 8 --duration 3 --seed 1 --objects 20000
 * HttpLoad --stdin      (one run per line of options on standard input, one JSON line out per run)
 * </pre>
 */
public final class HttpLoad {

    private static final int BODY_POOL = 16;
    private static final int MAX_PREGENERATED = 1_000_000;

    private HttpLoad() {
    }

    /** Options of one run. */
    static final class Options {
        String host;
        int port;
        String repoPath; // e.g. /repos/bench (no trailing slash)
        String op = "put";
        int size = 4096;
        int connections = 1;
        long count = 0; // 0: only the duration bounds the run
        double duration = 0;
        long seed = 1;
        int objects = 0; // GET: how many objects the set has (ids 0..objects-1 of the seed)
        boolean transaction;
        boolean verify;
        String endCommand;
        int[] pids = new int[0];
        String label = "";

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--url" -> {
                        URI u = URI.create(args[++i]);
                        o.host = u.getHost();
                        o.port = u.getPort() < 0 ? 80 : u.getPort();
                        String p = u.getRawPath();
                        o.repoPath = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
                    }
                    case "--op" -> o.op = args[++i];
                    case "--size" -> o.size = Integer.parseInt(args[++i]);
                    case "--connections" -> o.connections = Integer.parseInt(args[++i]);
                    case "--count" -> o.count = Long.parseLong(args[++i]);
                    case "--duration" -> o.duration = Double.parseDouble(args[++i]);
                    case "--seed" -> o.seed = Long.parseLong(args[++i]);
                    case "--objects" -> o.objects = Integer.parseInt(args[++i]);
                    case "--transaction" -> o.transaction = true;
                    case "--verify" -> o.verify = true;
                    case "--end-command" -> o.endCommand = args[++i];
                    case "--pids" -> {
                        String list = args[++i];
                        o.pids = list.isEmpty() ? new int[0] : Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
                    }
                    case "--label" -> o.label = args[++i];
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (o.host == null) {
                throw new IllegalArgumentException("--url is required");
            }
            if (!o.op.equals("put") && !o.op.equals("get")) {
                throw new IllegalArgumentException("--op is put or get");
            }
            if (o.count <= 0 && o.duration <= 0) {
                throw new IllegalArgumentException("give --count, --duration or both");
            }
            if (o.op.equals("get") && o.objects <= 0) {
                throw new IllegalArgumentException("a GET run needs --objects (the size of the set written with this seed)");
            }
            if (o.transaction && !o.op.equals("put")) {
                throw new IllegalArgumentException("--transaction is for PUT runs");
            }
            return o;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--stdin")) {
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                line = line.strip();
                if (line.isEmpty()) {
                    continue;
                }
                try {
                    System.out.println(run(Options.parse(split(line))));
                } catch (Exception e) {
                    System.out.println("{\"fatal\": " + json(e.toString()) + "}");
                }
                System.out.flush();
            }
            return;
        }
        System.out.println(run(Options.parse(args)));
    }

    /** Splits on spaces; single quotes group (enough for --end-command 'sync -f /dir'). */
    static String[] split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (char c : line.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
                any = true;
            } else if (c == ' ' && !quoted) {
                if (any) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    any = false;
                }
            } else {
                cur.append(c);
                any = true;
            }
        }
        if (any) {
            out.add(cur.toString());
        }
        return out.toArray(new String[0]);
    }

    // ---------------------------------------------------------------- a run

    static String run(Options o) throws Exception {
        boolean put = o.op.equals("put");
        long planned = put ? (o.count > 0 ? o.count : MAX_PREGENERATED) : o.objects;
        if (planned > MAX_PREGENERATED) {
            throw new IllegalArgumentException("at most " + MAX_PREGENERATED + " objects per run");
        }
        int n = (int) planned;
        byte[][] bodies = bodies(o.size);
        byte[][] ids = ids(o.seed, n);
        int[] order = null;
        if (!put) {
            order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            SplittableRandom shuffle = new SplittableRandom(o.seed * 0x9E3779B97F4A7C15L + 7);
            for (int i = n - 1; i > 0; i--) {
                int j = shuffle.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        long maxRequests = o.count > 0 ? o.count : Long.MAX_VALUE;
        if (put) {
            maxRequests = Math.min(maxRequests, n); // every PUT writes a new object
        }

        InetSocketAddress address = new InetSocketAddress(o.host, o.port);
        String hostHeader = o.host + ":" + o.port;

        long serverCpu0 = cpuTicks(o.pids);
        long machine0 = machineBusyTicks();
        long clientCpu0 = clientCpuNanos();
        long start = System.nanoTime();
        String txn = null;
        if (o.transaction) {
            txn = begin(address, hostHeader, o.repoPath);
        }
        String[] headLines = headTemplate(o, hostHeader, txn);
        long deadline = o.duration > 0 ? start + (long) (o.duration * 1e9) : Long.MAX_VALUE;

        AtomicLong next = new AtomicLong();
        Worker[] workers = new Worker[o.connections];
        Thread[] threads = new Thread[o.connections];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Worker(o, address, headLines, ids, bodies, order, next, maxRequests, deadline);
            threads[w] = new Thread(workers[w], "load-" + w);
        }
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double commitMs = 0;
        if (txn != null) {
            long c0 = System.nanoTime();
            commit(address, hostHeader, o.repoPath, txn);
            commitMs = (System.nanoTime() - c0) / 1e6;
        }
        long elapsedNanos = System.nanoTime() - start;
        long clientCpu = clientCpuNanos() - clientCpu0;
        long serverCpu = cpuTicks(o.pids) - serverCpu0;
        long machineBusy = machineBusyTicks() - machine0;

        double endSeconds = 0;
        if (o.endCommand != null) {
            long e0 = System.nanoTime();
            Process p = new ProcessBuilder("/bin/sh", "-c", o.endCommand).inheritIO().redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor() != 0) {
                throw new IOException("end command failed: " + o.endCommand);
            }
            endSeconds = (System.nanoTime() - e0) / 1e9;
        }

        long requests = 0;
        long errors = 0;
        long bytes = 0;
        long reconnects = 0;
        String firstError = null;
        int latencyCount = 0;
        for (Worker w : workers) {
            requests += w.requests;
            errors += w.errors;
            bytes += w.bytes;
            reconnects += w.connects - 1;
            latencyCount += w.latencyCount;
            if (firstError == null) {
                firstError = w.firstError;
            }
        }
        long[] latencies = new long[latencyCount];
        int at = 0;
        for (Worker w : workers) {
            System.arraycopy(w.latencies, 0, latencies, at, w.latencyCount);
            at += w.latencyCount;
        }
        Arrays.sort(latencies);
        double seconds = elapsedNanos / 1e9;
        double tick = clockTickSeconds();

        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("label", o.label);
        out.put("op", o.op);
        out.put("mode", o.transaction ? "transaction" : "plain");
        out.put("size", o.size);
        out.put("connections", o.connections);
        out.put("requests", requests);
        out.put("errors", errors);
        out.put("bytes", bytes);
        out.put("elapsed_s", round(seconds, 4));
        out.put("req_s", round((requests - errors) / seconds, 1));
        out.put("mib_s", round(bytes / seconds / (1 << 20), 2));
        out.put("p50_ms", round(percentile(latencies, 0.50) / 1e6, 3));
        out.put("p99_ms", round(percentile(latencies, 0.99) / 1e6, 3));
        out.put("max_ms", round(latencies.length == 0 ? 0 : latencies[latencies.length - 1] / 1e6, 3));
        out.put("commit_ms", round(commitMs, 2));
        out.put("end_s", round(endSeconds, 4));
        out.put("server_cpu_s", round(serverCpu * tick, 3));
        out.put("client_cpu_s", round(clientCpu / 1e9, 3));
        out.put("machine_busy_s", round(machineBusy * tick, 3));
        out.put("reconnects", reconnects);
        out.put("first_error", firstError);
        return toJson(out);
    }

    /** The request head up to the object id and after it: {method + path prefix, " HTTP/1.1\r\n..." }. */
    private static String[] headTemplate(Options o, String hostHeader, String txn) {
        String method = o.op.equals("put") ? "PUT" : "GET";
        StringBuilder after = new StringBuilder(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\n");
        if (method.equals("PUT")) {
            after.append("Content-Type: application/octet-stream\r\nContent-Length: ").append(o.size).append("\r\n");
        }
        if (txn != null) {
            after.append("Segstore-Transaction: ").append(txn).append("\r\n");
        }
        after.append("\r\n");
        return new String[]{method + " " + o.repoPath + "/objects/", after.toString()};
    }

    static byte[][] bodies(int size) {
        SplittableRandom r = new SplittableRandom(0x5E65_7011L + size);
        byte[][] b = new byte[BODY_POOL][size];
        for (byte[] body : b) {
            for (int i = 0; i < size; i += 8) {
                long v = r.nextLong();
                for (int k = 0; k < 8 && i + k < size; k++) {
                    body[i + k] = (byte) (v >>> (8 * k));
                }
            }
        }
        return b;
    }

    /** Object i's id as 64 lower-case hex ASCII bytes. */
    static byte[][] ids(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] hex = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        byte[][] out = new byte[n][64];
        for (int i = 0; i < n; i++) {
            for (int w = 0; w < 4; w++) {
                long v = r.nextLong();
                for (int k = 0; k < 16; k++) {
                    out[i][w * 16 + k] = hex[(int) (v >>> (60 - 4 * k)) & 15];
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- workers

    static final class Worker implements Runnable {
        private final Options o;
        private final boolean put;
        private final Connection conn;
        private final byte[] prefix;
        private final byte[] suffix;
        private final byte[][] ids;
        private final byte[][] bodies;
        private final int[] order;
        private final AtomicLong next;
        private final long max;
        private final long deadline;
        private final byte[] head;

        long requests;
        long errors;
        long bytes;
        long connects;
        String firstError;
        long[] latencies = new long[1024];
        int latencyCount;

        Worker(Options o, InetSocketAddress address, String[] headLines, byte[][] ids, byte[][] bodies, int[] order, AtomicLong next,
               long max, long deadline) {
            this.o = o;
            this.put = o.op.equals("put");
            this.conn = new Connection(address);
            this.prefix = headLines[0].getBytes(StandardCharsets.US_ASCII);
            this.suffix = headLines[1].getBytes(StandardCharsets.US_ASCII);
            this.ids = ids;
            this.bodies = bodies;
            this.order = order;
            this.next = next;
            this.max = max;
            this.deadline = deadline;
            this.head = new byte[prefix.length + 64 + suffix.length];
            System.arraycopy(prefix, 0, head, 0, prefix.length);
            System.arraycopy(suffix, 0, head, prefix.length + 64, suffix.length);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    long k = next.getAndIncrement();
                    if (k >= max || System.nanoTime() >= deadline) {
                        break;
                    }
                    int object = put ? (int) k : order[(int) (k % order.length)];
                    System.arraycopy(ids[object], 0, head, prefix.length, 64);
                    byte[] body = bodies[object % bodies.length];
                    long t0 = System.nanoTime();
                    Response r;
                    try {
                        r = conn.exchange(head, put ? body : null, o.verify && !put);
                    } catch (IOException e) {
                        r = null;
                        fail("I/O: " + e);
                    }
                    long t = System.nanoTime() - t0;
                    requests++;
                    if (r != null) {
                        boolean ok = put ? r.status == 201 || r.status == 204 : r.status == 200 && r.bodyLength == o.size;
                        if (ok && o.verify && !put && !Arrays.equals(r.body, body)) {
                            ok = false;
                        }
                        if (ok) {
                            bytes += put ? o.size : r.bodyLength;
                        } else {
                            fail("HTTP " + r.status + " for object " + object + ": "
                                    + (r.body == null ? r.bodyLength + " bytes" : new String(r.body, 0, Math.min(300, r.body.length), StandardCharsets.UTF_8)));
                        }
                    }
                    if (latencyCount == latencies.length) {
                        latencies = Arrays.copyOf(latencies, latencies.length * 2);
                    }
                    latencies[latencyCount++] = t;
                }
            } finally {
                connects = conn.connects;
                conn.close();
            }
        }

        private void fail(String what) {
            errors++;
            if (firstError == null) {
                firstError = what;
            }
        }
    }

    // ---------------------------------------------------------------- HTTP/1.1 over a socket

    record Response(int status, long bodyLength, byte[] body, Map<String, String> headers) {
    }

    /** One keep-alive connection; reopened when the server closes it (e.g. after its keep-alive request limit). */
    static final class Connection implements AutoCloseable {
        private static final int BUFFER = 64 * 1024;
        private final InetSocketAddress address;
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private final byte[] rbuf = new byte[BUFFER];
        private int rpos;
        private int rlim;
        private final byte[] wbuf = new byte[BUFFER];
        private boolean reused;
        long connects;

        Connection(InetSocketAddress address) {
            this.address = address;
        }

        private void open() throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(address, 5000);
            socket.setSoTimeout(120_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            rpos = 0;
            rlim = 0;
            reused = false;
            connects++;
        }

        Response exchange(byte[] head, byte[] body, boolean keepBody) throws IOException {
            if (socket == null) {
                open();
            }
            try {
                send(head, body);
                return receive(keepBody);
            } catch (IOException e) {
                // a kept-alive connection the server closed between two requests: once more on a new one
                if (!reused || rpos != 0 || rlim != 0) {
                    close();
                    throw e;
                }
                close();
                open();
                send(head, body);
                return receive(keepBody);
            }
        }

        private void send(byte[] head, byte[] body) throws IOException {
            int bodyLength = body == null ? 0 : body.length;
            if (head.length + bodyLength <= wbuf.length) {
                System.arraycopy(head, 0, wbuf, 0, head.length);
                if (body != null) {
                    System.arraycopy(body, 0, wbuf, head.length, bodyLength);
                }
                out.write(wbuf, 0, head.length + bodyLength);
            } else {
                out.write(head);
                out.write(body);
            }
            out.flush();
        }

        private Response receive(boolean keepBody) throws IOException {
            String statusLine = line();
            if (statusLine == null) {
                throw new IOException("connection closed before a response");
            }
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP response: " + statusLine);
            }
            int status = Integer.parseInt(parts[1]);
            Map<String, String> headers = new HashMap<>();
            for (String h; (h = line()) != null && !h.isEmpty(); ) {
                int colon = h.indexOf(':');
                if (colon > 0) {
                    headers.put(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
                }
            }
            boolean close = "close".equalsIgnoreCase(headers.get("connection")) || parts[0].equals("HTTP/1.0");
            boolean keep = keepBody || status >= 300;
            ByteArrayOutputStream kept = keep ? new ByteArrayOutputStream() : null;
            long length = 0;
            if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
                length = 0;
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                while (true) {
                    String size = line();
                    if (size == null) {
                        throw new IOException("connection closed in a chunked body");
                    }
                    int semi = size.indexOf(';');
                    long chunk = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                    if (chunk == 0) {
                        for (String t; (t = line()) != null && !t.isEmpty(); ) {
                            // trailers
                        }
                        break;
                    }
                    body(chunk, kept);
                    length += chunk;
                    line();
                }
            } else if (headers.containsKey("content-length")) {
                length = Long.parseLong(headers.get("content-length"));
                body(length, kept);
            } else {
                close = true;
                for (long n; (n = body(Long.MAX_VALUE, kept)) > 0; ) {
                    length += n;
                }
            }
            if (close) {
                close();
            } else {
                reused = true;
            }
            return new Response(status, length, kept == null ? null : kept.toByteArray(), headers);
        }

        /** Reads up to n body bytes (to EOF for MAX_VALUE), keeping them in {@code kept} when given. */
        private long body(long n, ByteArrayOutputStream kept) throws IOException {
            long left = n;
            while (left > 0) {
                if (rpos == rlim) {
                    rpos = 0;
                    rlim = in.read(rbuf, 0, rbuf.length);
                    if (rlim < 0) {
                        rlim = 0;
                        if (n == Long.MAX_VALUE) {
                            return n - left;
                        }
                        throw new IOException("connection closed in a body");
                    }
                }
                int take = (int) Math.min(left, rlim - rpos);
                if (kept != null) {
                    kept.write(rbuf, rpos, take);
                }
                rpos += take;
                left -= take;
            }
            return n;
        }

        /** A header line without its CRLF, or null at EOF before any byte. */
        private String line() throws IOException {
            StringBuilder sb = null;
            while (true) {
                if (rpos == rlim) {
                    rpos = 0;
                    rlim = in.read(rbuf, 0, rbuf.length);
                    if (rlim < 0) {
                        rlim = 0;
                        return null;
                    }
                }
                int start = rpos;
                while (rpos < rlim && rbuf[rpos] != '\n') {
                    rpos++;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(new String(rbuf, start, rpos - start, StandardCharsets.ISO_8859_1));
                if (rpos < rlim) {
                    rpos++; // the '\n'
                    int len = sb.length();
                    if (len > 0 && sb.charAt(len - 1) == '\r') {
                        sb.setLength(len - 1);
                    }
                    return sb.toString();
                }
            }
        }

        @Override
        public void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing anyway
                }
                socket = null;
            }
        }
    }

    // ---------------------------------------------------------------- transactions

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");

    static String begin(InetSocketAddress address, String host, String repoPath) throws IOException {
        Response r = post(address, host, repoPath + "/transactions", "{\"leaseSeconds\": 600}");
        if (r.status != 201) {
            throw new IOException("begin answered " + r.status + ": " + new String(r.body, StandardCharsets.UTF_8));
        }
        Matcher m = ID.matcher(new String(r.body, StandardCharsets.UTF_8));
        if (!m.find()) {
            throw new IOException("no transaction id in " + new String(r.body, StandardCharsets.UTF_8));
        }
        return m.group(1);
    }

    static void commit(InetSocketAddress address, String host, String repoPath, String txn) throws IOException {
        Response r = post(address, host, repoPath + "/transactions/" + txn + "/commit", null);
        if (r.status != 200) {
            throw new IOException("commit answered " + r.status + ": " + new String(r.body, StandardCharsets.UTF_8));
        }
    }

    private static Response post(InetSocketAddress address, String host, String path, String json) throws IOException {
        byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + (json == null ? "" : "Content-Type: application/json\r\n")
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        try (Connection c = new Connection(address)) {
            return c.exchange(head.getBytes(StandardCharsets.US_ASCII), body, true);
        }
    }

    // ---------------------------------------------------------------- figures

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** utime + stime of the processes, in clock ticks (0 where /proc has none). */
    private static long cpuTicks(int[] pids) {
        long sum = 0;
        for (int pid : pids) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                sum += Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of stat(5)
            } catch (IOException | RuntimeException e) {
                // gone or not Linux
            }
        }
        return sum;
    }

    /** Busy time of all CPUs (user, nice, system, irq, softirq, steal) in clock ticks, from /proc/stat. */
    private static long machineBusyTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static double clockTickSeconds() {
        String hz = System.getenv("CLK_TCK");
        return 1.0 / (hz == null ? 100 : Integer.parseInt(hz));
    }

    private static long clientCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static String toJson(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(json(e.getKey())).append(": ");
            Object v = e.getValue();
            sb.append(v == null ? "null" : v instanceof String s ? json(s) : v.toString());
        }
        return sb.append('}').toString();
    }

    private static String json(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
