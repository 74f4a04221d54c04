package io.segstore.bridge;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Segstore's HTTP API as the bridge uses it, over the JDK's HttpClient (HTTP/1.1 with
 * keep-alive; concurrent calls use concurrent connections). Every call sends
 * {@code Authorization: Bearer <token>} when a token is configured. A non-2xx answer becomes an
 * {@link ApiProblem} carrying the problem document's type; a transport failure an IOException.
 */
final class SegstoreClient implements AutoCloseable {

    static final String TRANSACTION = "Segstore-Transaction";
    static final String LOCK_WAIT = "Segstore-Lock-Wait";
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(10);

    private final String base;
    private final String token;
    private final HttpClient http;

    SegstoreClient(String baseUrl, String token, Executor executor) {
        this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.token = token == null || token.isBlank() ? null : token.strip();
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10));
        if (executor != null) {
            b.executor(executor);
        }
        if (this.base.startsWith("http:")) {
            b.sslContext(plainHttpOnly()); // never used: spares loading the default trust store at start-up
        }
        this.http = b.build();
    }

    /**
     * Stops the client's selector thread. The JVM's exit waits up to 300 ms for threads blocked
     * in native code, as the selector always is; borg waits for the bridge to exit after every
     * command. Java 21 has shutdownNow(); on 17 stopping the selector needs
     * {@code --add-opens java.net.http/jdk.internal.net.http=ALL-UNNAMED} (bin/borg-rsh passes it)
     * and without it the exit is merely slower.
     */
    @Override
    public void close() {
        try {
            HttpClient.class.getMethod("shutdownNow").invoke(http);
            return;
        } catch (ReflectiveOperationException | RuntimeException e) {
            // before Java 21
        }
        try {
            Object client = field(http, "impl");
            Object selector = field(client, "selmgr");
            java.lang.reflect.Method shutdown = selector.getClass().getDeclaredMethod("shutdown");
            shutdown.setAccessible(true);
            shutdown.invoke(selector);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not opened to us: the JVM's exit just takes a little longer
        }
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        java.lang.reflect.Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    private static javax.net.ssl.SSLContext plainHttpOnly() {
        try {
            javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
            c.init(new javax.net.ssl.KeyManager[0], new javax.net.ssl.TrustManager[0], null);
            return c;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    String baseUrl() {
        return base;
    }

    /** An error answer of the service: its status, problem type (last path element) and detail. */
    static final class ApiProblem extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String type;
        final transient Map<String, Object> body;

        ApiProblem(int status, String type, String detail, Map<String, Object> body) {
            super(detail);
            this.status = status;
            this.type = type;
            this.body = body;
        }

        long number(String field) {
            Object v = body.get(field);
            return v instanceof Number n ? n.longValue() : -1;
        }

        boolean is(String problemType) {
            return problemType.equals(type);
        }
    }

    // ---- repositories -----------------------------------------------------------------------

    Map<String, Object> createRepository(String name, boolean appendOnly, Long storageQuota) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        if (appendOnly) {
            body.put("appendOnly", true);
        }
        if (storageQuota != null) {
            body.put("storageQuota", storageQuota);
        }
        return json(send(request(repo(name)).PUT(jsonBody(body)).header("Content-Type", "application/json")));
    }

    Map<String, Object> repository(String name) throws IOException {
        return json(send(request(repo(name)).GET()));
    }

    void destroyRepository(String name) throws IOException {
        send(request(repo(name)).DELETE());
    }

    void breakLock(String name) throws IOException {
        send(request(repo(name) + "/lock/break").POST(HttpRequest.BodyPublishers.noBody()));
    }

    // ---- transactions ------------------------------------------------------------------------

    /** Begins a transaction (the writer lease), waiting up to {@code lockWaitSeconds} for it; returns its id. */
    String begin(String name, long leaseSeconds, double lockWaitSeconds) throws IOException {
        HttpRequest.Builder b = request(repo(name) + "/transactions")
                .POST(jsonBody(Map.of("leaseSeconds", leaseSeconds))).header("Content-Type", "application/json");
        if (lockWaitSeconds > 0) {
            b.header(LOCK_WAIT, String.format(java.util.Locale.ROOT, "%.3f", lockWaitSeconds));
        }
        return (String) json(send(b)).get("id");
    }

    /** What a commit answered: the transaction id, and the lease's next transaction when kept (else null). */
    record Commit(long transactionId, String next) {
    }

    Commit commit(String name, String txn, boolean keep) throws IOException {
        Map<String, Object> body = json(send(request(txn(name, txn) + "/commit")
                .POST(jsonBody(keep ? Map.of("keep", true) : Map.of())).header("Content-Type", "application/json")));
        Object next = body.get("next");
        String nextId = next instanceof Map<?, ?> m ? (String) m.get("id") : null;
        return new Commit(((Number) body.get("transactionId")).longValue(), nextId);
    }

    void rollback(String name, String txn) throws IOException {
        send(request(txn(name, txn) + "/rollback").POST(HttpRequest.BodyPublishers.noBody()));
    }

    void renew(String name, String txn) throws IOException {
        send(request(txn(name, txn) + "/renew").POST(HttpRequest.BodyPublishers.noBody()));
    }

    // ---- objects -----------------------------------------------------------------------------

    void put(String name, String txn, byte[] id, byte[] data) throws IOException {
        HttpRequest.Builder b = request(object(name, id)).PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                .header("Content-Type", "application/octet-stream");
        send(withTxn(b, txn));
    }

    byte[] get(String name, String txn, byte[] id) throws IOException {
        return send(withTxn(request(object(name, id)).GET(), txn)).body();
    }

    void delete(String name, String txn, byte[] id) throws IOException {
        send(withTxn(request(object(name, id)).DELETE(), txn));
    }

    /** One page of a listing: the ids and the marker of the next page (null: none). */
    record Page(List<byte[]> ids, String next) {
    }

    Page list(String name, String txn, String order, int limit, String marker) throws IOException {
        StringBuilder q = new StringBuilder(repo(name)).append("/objects?order=").append(order).append("&limit=").append(limit);
        if (marker != null) {
            q.append("&marker=").append(URLEncoder.encode(marker, StandardCharsets.UTF_8));
        }
        Map<String, Object> body = json(send(withTxn(request(q.toString()).GET(), txn)));
        List<byte[]> ids = new ArrayList<>();
        for (Object o : (List<?>) body.get("objects")) {
            ids.add(HexFormat.of().parseHex((String) ((Map<?, ?>) o).get("id")));
        }
        return new Page(ids, (String) body.get("next"));
    }

    // ---- key and nonce -----------------------------------------------------------------------

    byte[] loadKey(String name) throws IOException {
        return send(request(repo(name) + "/key").GET()).body();
    }

    void saveKey(String name, byte[] key) throws IOException {
        send(request(repo(name) + "/key").PUT(HttpRequest.BodyPublishers.ofByteArray(key)).header("Content-Type", "application/octet-stream"));
    }

    /** The next free nonce as 16 hex digits, or null before the first reservation. */
    String freeNonce(String name) throws IOException {
        return (String) json(send(request(repo(name) + "/nonce").GET())).get("nonce");
    }

    void reserveNonces(String name, String txn, String next, String expected) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("next", next);
        body.put("expected", expected);
        send(withTxn(request(repo(name) + "/nonce").POST(jsonBody(body)).header("Content-Type", "application/json"), txn));
    }

    // ---- jobs --------------------------------------------------------------------------------

    /** Starts a compaction job; returns the job's path (its Location). */
    String startCompaction(String name, double threshold) throws IOException {
        HttpResponse<byte[]> r = send(request(repo(name) + "/compaction").POST(jsonBody(Map.of("threshold", threshold)))
                .header("Content-Type", "application/json"));
        return location(r);
    }

    /** Starts a check (or repair) job; returns the job's path. */
    String startCheck(String name, boolean repair, long maxDurationSeconds) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        if (repair) {
            body.put("repair", true);
        }
        if (maxDurationSeconds > 0) {
            body.put("maxDurationSeconds", maxDurationSeconds);
        }
        HttpResponse<byte[]> r = send(request(repo(name) + "/checks").POST(jsonBody(body)).header("Content-Type", "application/json"));
        return location(r);
    }

    Map<String, Object> job(String path) throws IOException {
        return json(send(request(path).GET()));
    }

    // ---- plumbing ----------------------------------------------------------------------------

    private static String repo(String name) {
        return "/repos/" + name;
    }

    private static String txn(String name, String txn) {
        return repo(name) + "/transactions/" + URLEncoder.encode(txn, StandardCharsets.UTF_8);
    }

    private static String object(String name, byte[] id) {
        return repo(name) + "/objects/" + HexFormat.of().formatHex(id);
    }

    private static HttpRequest.Builder withTxn(HttpRequest.Builder b, String txn) {
        if (txn != null) {
            b.header(TRANSACTION, txn);
        }
        return b;
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static HttpRequest.BodyPublisher jsonBody(Map<String, ?> body) {
        return HttpRequest.BodyPublishers.ofString(Json.write(body));
    }

    private static String location(HttpResponse<byte[]> r) throws IOException {
        return r.headers().firstValue("Location").orElseThrow(() -> new IOException("the service answered " + r.statusCode()
                + " without a Location for the job"));
    }

    private HttpResponse<byte[]> send(HttpRequest.Builder b) throws IOException {
        HttpRequest request = b.build();
        HttpResponse<byte[]> r;
        try {
            r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted: " + request.method() + " " + request.uri());
        } catch (java.net.ConnectException e) {
            throw new java.net.ConnectException("cannot connect to the Segstore service at " + base
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
        int status = r.statusCode();
        if (status >= 200 && status < 300) {
            return r;
        }
        throw problem(r);
    }

    private static ApiProblem problem(HttpResponse<byte[]> r) {
        String text = new String(r.body(), StandardCharsets.UTF_8);
        Map<String, Object> body = Map.of();
        String type = "http-" + r.statusCode();
        String detail = text.isBlank() ? "HTTP " + r.statusCode() : text;
        if (r.headers().firstValue("Content-Type").orElse("").contains("json")) {
            try {
                body = Json.object(text);
                Object t = body.get("type");
                if (t instanceof String s && !s.isEmpty()) {
                    type = s.substring(s.lastIndexOf('/') + 1);
                }
                Object d = body.get("detail");
                if (d instanceof String s) {
                    detail = s;
                }
            } catch (IllegalArgumentException e) {
                // not a problem document after all: keep the text
            }
        }
        if (detail.length() > 500) {
            detail = detail.substring(0, 500) + "...";
        }
        return new ApiProblem(r.statusCode(), type, detail, body);
    }

    private static Map<String, Object> json(HttpResponse<byte[]> r) {
        return Json.object(new String(r.body(), StandardCharsets.UTF_8));
    }
}
