package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import io.segstore.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * restic's REST protocol against a real server, request by request: every endpoint, both API
 * versions, the status codes rest-server gives, Range reads across the objects of a large file,
 * names, hashes, credentials and roles. The real restic is driven by {@link ResticClientTest}.
 */
class ResticProtocolTest extends ResticServerBase {

    static final String[] TYPES = {"data", "keys", "locks", "snapshots", "index"};
    static final int PART = SegmentFile.MAX_DATA_SIZE;

    ResticHttp admin;

    @Autowired
    ResticProperties resticProperties;

    @Autowired
    ResticFiles files;
    ResticHttp native_;
    String repo;

    @BeforeEach
    void repository() {
        admin = new ResticHttp(port, ADMIN);
        native_ = admin.withAuthorization("Bearer " + ADMIN);
        repo = repoName();
        assertEquals(200, admin.post("/restic/" + repo + "/?create=true").status());
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    String path(String type, String name) {
        return "/restic/" + repo + "/" + type + "/" + name;
    }

    /** Stores {@code data} under its SHA-256 and returns the name. */
    String store(ResticHttp as, String type, byte[] data) {
        String name = sha256Hex(data);
        ResticHttp.Response r = as.post(path(type, name), data);
        assertEquals(200, r.status(), r.text());
        return name;
    }

    long objects() {
        ResticHttp.Response r = native_.get("/repos/" + repo);
        assertEquals(200, r.status(), r.text());
        return r.json().get("objects").asLong();
    }

    static void assertProblem(ResticHttp.Response r, int status, String type) {
        assertEquals(status, r.status(), r.text());
        assertEquals(type, r.problem(), r.text());
    }

    // ---- the repository ----------------------------------------------------------------------------

    @Test
    void createIsIdempotentAndNeedsCreateTrue() {
        assertEquals(200, admin.post("/restic/" + repo + "/?create=true").status());
        assertProblem(admin.post("/restic/" + repo + "/"), 400, "bad-parameter");
        assertProblem(admin.post("/restic/" + repo + "/?create=false"), 400, "bad-parameter");
        assertEquals(404, admin.head("/restic/" + repo + "/config").status(), "a new repository has no config");
        assertEquals(0, admin.listV1(repo, "keys").size());
        // the Segstore repository behind it
        assertEquals(200, native_.get("/repos/" + repo).status());
    }

    @Test
    void deleteRepository() {
        store(admin, "keys", "k".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, admin.delete("/restic/" + repo + "/").status());
        assertProblem(admin.get("/restic/" + repo + "/keys/"), 404, "repository-not-found");
        assertProblem(admin.delete("/restic/" + repo + "/"), 404, "repository-not-found");
        assertFalse(Files.exists(DATA_DIR.resolve(repo)));
    }

    @Test
    void appendOnlyRepositoryIsNotDeleted() {
        String name = repoName();
        assertEquals(201, native_.send("PUT", "/repos/" + name, HttpRequest.BodyPublishers.ofString("{\"appendOnly\": true}"),
                Map.of("Content-Type", "application/json")).status());
        assertProblem(admin.delete("/restic/" + name + "/"), 403, "append-only");
        assertEquals(200, admin.post("/restic/" + name + "/?create=true").status(), "create of an existing one is a no-op");
    }

    @Test
    void unknownRepositoryAnswers404() {
        String none = repoName();
        assertEquals(404, admin.head("/restic/" + none + "/config").status());
        assertProblem(admin.get("/restic/" + none + "/data/"), 404, "repository-not-found");
        assertProblem(admin.post("/restic/" + none + "/keys/" + sha256Hex(new byte[1]), new byte[1]), 404, "repository-not-found");
        assertProblem(admin.get("/restic/bad%2Fname/data/"), 400, "bad-repository-name");
    }

    // ---- the config ------------------------------------------------------------------------------

    @Test
    void config() {
        byte[] config = "{\"version\":2,\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8);
        String p = "/restic/" + repo + "/config";
        assertProblem(admin.get(p), 404, "file-not-found");
        assertEquals(200, admin.post(p, config).status(), "the config is not named by its hash");
        ResticHttp.Response head = admin.head(p);
        assertEquals(200, head.status());
        assertEquals(Long.toString(config.length), head.header("Content-Length"));
        ResticHttp.Response get = admin.get(p);
        assertEquals(200, get.status());
        assertEquals("application/octet-stream", get.header("Content-Type"));
        assertArrayEquals(config, get.body());
        ResticHttp.Response ranged = admin.get(p, Map.of("Range", "bytes=0-"));
        assertEquals(206, ranged.status());
        assertEquals("bytes 0-" + (config.length - 1) + "/" + config.length, ranged.header("Content-Range"));
        assertArrayEquals(config, ranged.body());
        assertProblem(admin.post(p, "other".getBytes(StandardCharsets.UTF_8)), 403, "file-exists");
        assertArrayEquals(config, admin.get(p).body(), "not overwritten");
        assertEquals(200, admin.delete(p).status());
        assertEquals(404, admin.head(p).status());
        assertEquals(200, admin.delete(p).status(), "removing what is not there succeeds, as in rest-server");
        assertEquals(200, admin.post(p, "again".getBytes(StandardCharsets.UTF_8)).status());
        assertProblem(admin.get("/restic/" + repo + "/config/"), 404, "not-found");
    }

    // ---- files -------------------------------------------------------------------------------

    @Test
    void uploadsInStagingMemoryAreShownInMetricsAndGiveTheMemoryBack() {
        byte[] data = random(77, 3 * 1024 * 1024 + 17); // above the in-memory body limit: pooled chunks
        String name = store(admin, "data", data);
        assertArrayEquals(data, admin.get(path("data", name)).body());
        ResticHttp.Response metrics = admin.withAuthorization("Bearer " + ADMIN).get("/actuator/prometheus");
        assertEquals(200, metrics.status());
        String text = metrics.text();
        assertTrue(text.contains("segstore_restic_staging_memory_max_bytes " + (double) resticProperties.stagingMemory()), text);
        assertTrue(text.contains("segstore_restic_staging_memory_used_bytes 0.0"), "the upload gave its chunks back");
        assertTrue(text.contains("segstore_restic_uploads_receiving_bytes 0.0"), "nothing is arriving");
    }

    @Test
    void everyTypeStoresReadsListsAndRemoves() {
        Map<String, String> names = new java.util.LinkedHashMap<>();
        for (int i = 0; i < TYPES.length; i++) {
            byte[] data = random(i, 1000 + i);
            names.put(TYPES[i], store(admin, TYPES[i], data));
            ResticHttp.Response head = admin.head(path(TYPES[i], names.get(TYPES[i])));
            assertEquals(200, head.status());
            assertEquals(Integer.toString(1000 + i), head.header("Content-Length"));
            ResticHttp.Response get = admin.get(path(TYPES[i], names.get(TYPES[i])));
            assertEquals(200, get.status());
            assertEquals("bytes", get.header("Accept-Ranges"));
            assertArrayEquals(data, get.body());
        }
        for (int i = 0; i < TYPES.length; i++) {
            // each type lists its own file and no other
            assertEquals(List.of(names.get(TYPES[i])), admin.listV1(repo, TYPES[i]), TYPES[i]);
            assertEquals(Map.of(names.get(TYPES[i]), (long) 1000 + i), admin.listV2(repo, TYPES[i]), TYPES[i]);
            // and a file is only found under its own type
            String other = TYPES[(i + 1) % TYPES.length];
            assertProblem(admin.get(path(other, names.get(TYPES[i]))), 404, "file-not-found");
        }
        for (String type : TYPES) {
            assertEquals(200, admin.delete(path(type, names.get(type))).status());
            assertEquals(404, admin.head(path(type, names.get(type))).status());
            assertEquals(List.of(), admin.listV1(repo, type));
            assertEquals(200, admin.delete(path(type, names.get(type))).status(), "idempotent");
        }
        assertEquals(0, objects(), "parts and catalogue buckets are all gone");
    }

    @Test
    void listingVersionsAreNegotiatedByAccept() {
        String a = store(admin, "snapshots", random(1, 10));
        String b = store(admin, "snapshots", random(2, 20));
        ResticHttp.Response v1 = admin.get("/restic/" + repo + "/snapshots/");
        assertEquals(200, v1.status());
        assertEquals("application/vnd.x.restic.rest.v1", v1.header("Content-Type"));
        ResticHttp.Response explicitV1 = admin.get("/restic/" + repo + "/snapshots/", Map.of("Accept", "application/vnd.x.restic.rest.v1"));
        assertEquals("application/vnd.x.restic.rest.v1", explicitV1.header("Content-Type"));
        assertEquals(v1.json(), explicitV1.json());
        List<String> names = new ArrayList<>();
        v1.json().forEach(n -> names.add(n.asText()));
        assertEquals(Stream.of(a, b).sorted().toList(), names.stream().sorted().toList());
        ResticHttp.Response v2 = admin.get("/restic/" + repo + "/snapshots/", Map.of("Accept", ResticHttp.V2));
        assertEquals(ResticHttp.V2, v2.header("Content-Type"));
        assertEquals(Map.of(a, 10L, b, 20L), admin.listV2(repo, "snapshots"));
        assertProblem(admin.get("/restic/" + repo + "/nonsense/"), 404, "not-found");
    }

    @Test
    void manyFilesOfATypeSpreadOverBucketsAreListedExactly() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<String> expected = new ArrayList<>();
        try {
            List<Future<String>> stored = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int seed = 100 + i;
                stored.add(pool.submit(() -> store(admin, seed % 2 == 0 ? "data" : "index", random(seed, 10 + seed))));
            }
            for (Future<String> f : stored) {
                expected.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> data = admin.listV1(repo, "data");
        List<String> index = admin.listV1(repo, "index");
        assertEquals(150, data.size());
        assertEquals(150, index.size());
        List<String> all = new ArrayList<>(data);
        all.addAll(index);
        assertEquals(expected.stream().sorted().toList(), all.stream().sorted().toList());
        assertEquals(data.stream().sorted().toList(), data, "listed bucket by bucket, in name order");
    }

    @Test
    void wrongHashIsRefusedAndStoresNothing() {
        byte[] data = random(7, 5000);
        String wrong = sha256Hex(random(8, 5000));
        long before = objects();
        for (String type : TYPES) {
            assertProblem(admin.post(path(type, wrong), data), 400, "hash-mismatch");
            assertEquals(404, admin.head(path(type, wrong)).status());
            assertEquals(List.of(), admin.listV1(repo, type));
        }
        // a large body (staged in a file) too
        byte[] big = random(9, 3 << 20);
        assertProblem(admin.post(path("data", wrong), big), 400, "hash-mismatch");
        assertEquals(before, objects());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", "abc",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", "config",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "..%2F..%2Fconfig", "%2E%2E"})
    void badNamesAreRefused(String name) {
        for (String type : TYPES) {
            String p = "/restic/" + repo + "/" + type + "/" + name;
            assertProblem(admin.post(p, new byte[] {1}), 400, "bad-file-name");
            assertProblem(admin.get(p), 400, "bad-file-name");
            assertEquals(400, admin.head(p).status());
            assertProblem(admin.delete(p), 400, "bad-file-name");
        }
        assertEquals(0, objects());
    }

    @Test
    void unknownTypesAndMethods() {
        String name = sha256Hex(new byte[1]);
        assertProblem(admin.post("/restic/" + repo + "/config2/" + name, new byte[1]), 404, "not-found");
        assertProblem(admin.get("/restic/" + repo + "/data"), 404, "not-found");
        ResticHttp.Response put = admin.send("PUT", path("data", name), HttpRequest.BodyPublishers.ofByteArray(new byte[1]), Map.of());
        assertProblem(put, 405, "method-not-allowed");
        assertNotNull(put.header("Allow"));
    }

    @Test
    void existingFileIsNotOverwritten() {
        byte[] data = random(3, 100);
        String name = store(admin, "index", data);
        assertProblem(admin.post(path("index", name), data), 403, "file-exists");
        assertArrayEquals(data, admin.get(path("index", name)).body());
    }

    @Test
    void emptyFile() {
        String name = store(admin, "keys", new byte[0]);
        assertEquals("0", admin.head(path("keys", name)).header("Content-Length"));
        ResticHttp.Response ranged = admin.get(path("keys", name), Map.of("Range", "bytes=0-"));
        assertEquals(200, ranged.status(), "an empty file's ranged read is answered whole, as by rest-server");
        assertEquals(0, ranged.body().length);
        assertEquals(Map.of(name, 0L), admin.listV2(repo, "keys"));
    }

    // ---- ranges and large files ----------------------------------------------------------------

    @Test
    void rangesOfASmallFile() {
        byte[] data = random(11, 10_000);
        String p = path("data", store(admin, "data", data));
        assertRange(p, data, "bytes=0-99", 0, 100);
        assertRange(p, data, "bytes=9990-", 9990, 10);
        assertRange(p, data, "bytes=-10", 9990, 10);
        assertRange(p, data, "bytes=100-99999", 100, 9900);
        assertRange(p, data, "bytes=-20000", 0, 10_000);
        for (String bad : new String[] {"bytes=10000-", "bytes=20000-20010", "bytes=5-4", "items=0-1", "bytes=x-", "bytes=-0"}) {
            ResticHttp.Response r = admin.get(p, Map.of("Range", bad));
            assertProblem(r, 416, "range-not-satisfiable");
            assertEquals("bytes */10000", r.header("Content-Range"), bad);
        }
        ResticHttp.Response several = admin.get(p, Map.of("Range", "bytes=0-1,5-6"));
        assertEquals(200, several.status(), "several ranges: the whole file");
        assertArrayEquals(data, several.body());
    }

    void assertRange(String p, byte[] data, String range, int start, int length) {
        ResticHttp.Response r = admin.get(p, Map.of("Range", range));
        assertEquals(206, r.status(), range + ": " + r.text());
        assertEquals("bytes " + start + "-" + (start + length - 1) + "/" + data.length, r.header("Content-Range"), range);
        assertEquals(Integer.toString(length), r.header("Content-Length"), range);
        assertArrayEquals(Arrays.copyOfRange(data, start, start + length), r.body(), range);
    }

    @Test
    void fileLargerThanBorgsLargestObjectIsSeveralObjectsAndOneFile() {
        int size = 2 * PART + 12_345;
        byte[] data = random(21, size);
        long before = objects();
        String name = store(admin, "data", data);
        String p = path("data", name);
        assertEquals(before + 3 + 1, objects(), "three parts and the catalogue bucket");
        assertEquals(Long.toString(size), admin.head(p).header("Content-Length"));
        assertEquals(Map.of(name, (long) size), admin.listV2(repo, "data"));
        ResticHttp.Response whole = admin.get(p);
        assertEquals(200, whole.status());
        assertArrayEquals(data, whole.body());
        assertRange(p, data, "bytes=" + (PART - 10) + "-" + (PART + 9), PART - 10, 20);          // across parts 0 and 1
        assertRange(p, data, "bytes=" + (PART - 1) + "-" + (2 * PART), PART - 1, PART + 2);    // 0, 1 and 2
        assertRange(p, data, "bytes=" + PART + "-" + PART, PART, 1);                           // first byte of part 1
        assertRange(p, data, "bytes=" + (2 * PART + 5) + "-", 2 * PART + 5, size - 2 * PART - 5);
        assertRange(p, data, "bytes=-100", size - 100, 100);
        assertRange(p, data, "bytes=0-", 0, size);
        assertEquals(200, admin.delete(p).status());
        assertEquals(before, objects(), "every part and the emptied bucket are deleted");
        assertEquals(404, admin.head(p).status());
    }

    /** 128 MiB (restic's largest --pack-size), sent chunked from a generator: streamed through, never whole in heap. */
    @Test
    void largestPackStreamsThrough() throws Exception {
        long size = 128L << 20;
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = generated(size)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        String name = java.util.HexFormat.of().formatHex(sha.digest());
        ResticHttp.Response r = admin.send("POST", path("data", name), HttpRequest.BodyPublishers.ofInputStream(() -> generated(size)),
                Map.of("Content-Type", "application/octet-stream"));
        assertEquals(200, r.status(), r.text());
        assertEquals(Map.of(name, size), admin.listV2(repo, "data"));
        ResticHttp.Response tail = admin.get(path("data", name), Map.of("Range", "bytes=" + (size - 70_000) + "-"));
        assertEquals(206, tail.status());
        byte[] expected = new byte[70_000];
        try (InputStream in = generated(size)) {
            in.skipNBytes(size - 70_000);
            in.readNBytes(expected, 0, expected.length);
        }
        assertArrayEquals(expected, tail.body());
        assertEquals(200, admin.delete(path("data", name)).status());
    }

    /** A deterministic stream of {@code size} bytes. */
    static InputStream generated(long size) {
        return new InputStream() {
            long pos;
            final byte[] block = random(99, 1 << 16);

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= size) {
                    return -1;
                }
                int n = (int) Math.min(len, Math.min(size - pos, block.length - pos % block.length));
                System.arraycopy(block, (int) (pos % block.length), b, off, n);
                if (pos % block.length == 0) {
                    b[off] ^= (byte) (pos / block.length); // vary the blocks so that parts differ
                }
                pos += n;
                return n;
            }
        };
    }

    @Test
    void deletedFilesSpaceIsReclaimedByCompaction() throws Exception {
        byte[] data = random(31, PART + 1000);
        String name = store(admin, "data", data);
        store(admin, "index", random(32, 100));
        assertEquals(200, admin.delete(path("data", name)).status());
        ResticHttp.Response start = native_.send("POST", "/repos/" + repo + "/compaction",
                HttpRequest.BodyPublishers.ofString("{\"threshold\": 0}"), Map.of("Content-Type", "application/json"));
        assertEquals(202, start.status(), start.text());
        String job = start.header("Location");
        ResticHttp.Response done = Poll.until("the compaction ended", java.time.Duration.ofSeconds(60), () -> native_.get(job),
                r -> r.json().get("state").asText().matches("succeeded|failed"));
        assertEquals("succeeded", done.json().get("state").asText(), done.text());
        assertTrue(done.json().get("result").get("bytesFreed").asLong() >= data.length, done.text());
        assertEquals(1, admin.listV1(repo, "index").size());
    }

    // ---- uploads -------------------------------------------------------------------------------

    /** Polls (with a deadline) the bytes of uploads the server is receiving until they match. */
    void awaitReceiving(java.util.function.LongPredicate condition, String what) {
        Poll.until(what, java.time.Duration.ofSeconds(30), files::bytesBeingReceived, condition::test);
    }

    @Test
    void cutOffUploadLeavesNothing() throws Exception {
        byte[] data = random(41, 4 << 20);
        String name = sha256Hex(data);
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            String auth = java.util.Base64.getEncoder().encodeToString(("x:" + ADMIN).getBytes(StandardCharsets.UTF_8));
            out.write(("POST " + path("data", name) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " + auth
                    + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + data.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(data, 0, data.length / 2);
            out.flush();
            awaitReceiving(n -> n >= data.length / 2, "the server received the first half");
        } // closed half way
        awaitReceiving(n -> n == 0, "the server let go of the cut-off upload");
        assertEquals(404, admin.head(path("data", name)).status());
        assertEquals(List.of(), admin.listV1(repo, "data"));
        assertEquals(0, objects());
        // and the whole upload afterwards works
        assertEquals(200, admin.post(path("data", name), data).status());
    }

    @Test
    void chunkedUpload() {
        byte[] data = random(42, 3 << 20);
        String name = sha256Hex(data);
        ResticHttp.Response r = admin.send("POST", path("data", name),
                HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data)), Map.of());
        assertEquals(200, r.status(), r.text());
        assertArrayEquals(data, admin.get(path("data", name)).body());
    }

    @Test
    void tooLargeIsRefusedBeforeItIsRead() throws Exception {
        String answer = headersOnly(path("data", sha256Hex(new byte[0])), 2L << 30);
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        assertTrue(answer.contains("file-too-large"), answer);
        answer = headersOnly("/restic/" + repo + "/config", PART + 1L);
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        assertTrue(answer.contains("file-too-large"), answer);
        assertEquals(0, objects());
    }

    /** Sends a POST's headers only (no body) and reads the answer: the server must answer without the body. */
    String headersOnly(String path, long contentLength) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            String auth = java.util.Base64.getEncoder().encodeToString(("x:" + ADMIN).getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " + auth
                    + "\r\nContent-Length: " + contentLength + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // the answer, up to the end of its chunked body (the server then waits for the body it will not read)
            StringBuilder answer = new StringBuilder();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            for (int n; !answer.toString().endsWith("\r\n0\r\n\r\n") && (n = in.read(buf)) > 0; ) {
                answer.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
            return answer.toString();
        }
    }

    @Test
    void concurrentUploadsAreGroupedAndAllDurable() throws Exception {
        long before = native_.get("/repos/" + repo).json().get("transactionId").asLong(-1);
        int n = 32;
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> names = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int seed = 500 + i;
                names.add(pool.submit(() -> store(admin, "data", random(seed, 200_000 + seed))));
            }
            List<String> stored = new ArrayList<>();
            for (Future<String> f : names) {
                stored.add(f.get());
            }
            assertEquals(stored.stream().sorted().toList(), admin.listV1(repo, "data").stream().sorted().toList());
        } finally {
            pool.shutdownNow();
        }
        long commits = native_.get("/repos/" + repo).json().get("transactionId").asLong();
        assertTrue(commits > before);
    }

    // ---- credentials and roles ----------------------------------------------------------------

    @Test
    void credentials() {
        ResticHttp none = admin.withAuthorization(null);
        ResticHttp.Response r = none.get("/restic/" + repo + "/keys/");
        assertProblem(r, 401, "unauthorized");
        assertTrue(r.header("WWW-Authenticate").startsWith("Basic realm=\"segstore\""), r.header("WWW-Authenticate"));
        assertProblem(admin.as("not-a-token").get("/restic/" + repo + "/keys/"), 401, "unauthorized");
        assertProblem(admin.withAuthorization("Basic !!!").get("/restic/" + repo + "/keys/"), 401, "unauthorized");
        assertProblem(admin.as(STRANGER).get("/restic/" + repo + "/keys/"), 403, "forbidden");
        assertProblem(admin.as(STRANGER).post("/restic/" + repoName() + "/?create=true"), 403, "forbidden");
        assertEquals(200, admin.as(READER).get("/restic/" + repo + "/keys/").status());
        assertEquals(401, none.head("/restic/" + repo + "/config").status());
    }

    @Test
    void readRole() {
        String name = store(admin, "snapshots", random(51, 100));
        ResticHttp reader = admin.as(READER);
        assertEquals(200, reader.get(path("snapshots", name)).status());
        assertEquals(200, reader.head(path("snapshots", name)).status());
        assertEquals(List.of(name), reader.listV1(repo, "snapshots"));
        byte[] data = random(52, 100);
        assertProblem(reader.post(path("snapshots", sha256Hex(data)), data), 403, "forbidden");
        assertProblem(reader.post("/restic/" + repo + "/config", data), 403, "forbidden");
        assertProblem(reader.delete(path("snapshots", name)), 403, "forbidden");
        assertProblem(reader.delete(path("locks", name)), 403, "forbidden");
        assertProblem(reader.post("/restic/" + repo + "/?create=true"), 403, "forbidden");
        assertEquals(List.of(name), admin.listV1(repo, "snapshots"));
    }

    @Test
    void appendRoleIsRestServersAppendOnly() {
        ResticHttp appender = admin.as(APPENDER);
        byte[] config = "config".getBytes(StandardCharsets.UTF_8);
        assertEquals(200, appender.post("/restic/" + repo + "/?create=true").status(), "create of an existing repository");
        assertEquals(200, appender.post("/restic/" + repo + "/config", config).status(), "init stores the config");
        String data = store(appender, "data", random(61, 1000));
        String snapshot = store(appender, "snapshots", random(62, 100));
        String lock = store(appender, "locks", random(63, 100));
        assertEquals(200, appender.delete(path("locks", lock)).status(), "lock files may be removed");
        assertEquals(List.of(), admin.listV1(repo, "locks"));
        assertProblem(appender.delete(path("data", data)), 403, "forbidden");
        assertProblem(appender.delete(path("snapshots", snapshot)), 403, "forbidden");
        assertProblem(appender.delete("/restic/" + repo + "/config"), 403, "forbidden");
        assertProblem(appender.post(path("data", data), random(61, 1000)), 403, "file-exists");
        assertProblem(appender.delete("/restic/" + repo + "/"), 403, "forbidden");
        assertProblem(appender.post("/restic/" + repoName() + "/?create=true"), 403, "forbidden");
        assertEquals(List.of(data), admin.listV1(repo, "data"));
        assertEquals(List.of(snapshot), admin.listV1(repo, "snapshots"));
    }

    @Test
    void appendRoleCannotDeleteInAnAppendOnlyRepositoryEither() {
        String name = repoName();
        assertEquals(201, native_.send("PUT", "/repos/" + name, HttpRequest.BodyPublishers.ofString("{\"appendOnly\": true}"),
                Map.of("Content-Type", "application/json")).status());
        ResticHttp appender = admin.as(APPENDER);
        byte[] data = random(64, 10);
        String p = "/restic/" + name + "/snapshots/" + sha256Hex(data);
        assertEquals(200, appender.post(p, data).status());
        assertProblem(appender.delete(p), 403, "forbidden");
        assertEquals(200, admin.as(WRITER).delete(p).status(), "write may (logged, as Borg's append-only mode keeps it)");
    }

    @Test
    void writeAndAdminRoles() {
        ResticHttp writer = admin.as(WRITER);
        String name = store(writer, "data", random(71, 100));
        assertEquals(200, writer.delete(path("data", name)).status());
        assertEquals(200, writer.post("/restic/" + repo + "/?create=true").status(), "an existing repository");
        assertProblem(writer.post("/restic/" + repoName() + "/?create=true"), 403, "forbidden");
        assertProblem(writer.delete("/restic/" + repo + "/"), 403, "forbidden");
        ResticHttp teamAdmin = admin.as(TEAM_ADMIN);
        String created = repoName();
        assertEquals(200, teamAdmin.post("/restic/" + created + "/?create=true").status());
        assertEquals(200, teamAdmin.delete("/restic/" + created + "/").status());
        assertProblem(teamAdmin.post("/restic/other-" + created + "/?create=true"), 403, "forbidden");
    }

    @Test
    void refusalsChangeNothing() {
        long before = objects();
        byte[] data = random(81, 100);
        admin.as(READER).post(path("keys", sha256Hex(data)), data);
        admin.as(STRANGER).post(path("keys", sha256Hex(data)), data);
        admin.withAuthorization(null).post(path("keys", sha256Hex(data)), data);
        assertEquals(before, objects());
        assertNull(admin.listV1(repo, "keys").stream().findAny().orElse(null));
    }

    @Test
    void stagingIsEmptyAfterUploads() throws IOException {
        store(admin, "data", random(91, 3 << 20));
        assertProblem(admin.post(path("data", sha256Hex(new byte[1])), random(92, 3 << 20)), 400, "hash-mismatch");
        try (Stream<java.nio.file.Path> staged = Files.list(DATA_DIR.resolve(".staging"))) {
            assertEquals(List.of(), staged.filter(p -> p.getFileName().toString().startsWith("restic-")).toList());
        }
    }
}
