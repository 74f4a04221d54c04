package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import io.segstore.tier.S3TestServer;
import io.segstore.testing.Poll;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;
import tools.jackson.databind.JsonNode;

/**
 * The real restic against a service whose new repositories go to an S3 bucket (s3proxy in this
 * JVM, {@code segstore.s3.default-storage}): restic's init creates a bucket repository, its packs
 * (one larger than Borg's largest object) are committed into the bucket, and backup, restore,
 * check --read-data and forget --prune with compaction behave as on a local repository.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ResticOnBucketTest extends ResticServerBase {

    static final int LARGE = 24_000_000;
    static final String BUCKET = "restic-bucket";
    static final String PREFIX = "tenants/restic";
    static final S3TestServer S3;

    static {
        try {
            S3 = S3TestServer.start(Files.createTempDirectory("segstore-restic-s3"));
            S3.createBucket(BUCKET);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @DynamicPropertySource
    static void bucket(DynamicPropertyRegistry registry) {
        S3.properties("main", BUCKET, PREFIX).forEach((k, v) -> registry.add(k, () -> v));
        registry.add("segstore.s3.default-storage", () -> "main");
    }

    @TempDir
    static Path work;

    String repo;
    Path tree;
    ResticHttp admin;

    @BeforeAll
    void setUp() throws IOException {
        Restic.requireInstalled();
        repo = repoName();
        tree = work.resolve("tree");
        TestTree.generate(tree, 7, LARGE);
        admin = new ResticHttp(port, ADMIN).withAuthorization("Bearer " + ADMIN);
    }

    @AfterAll
    void stopS3() throws Exception {
        S3.close();
    }

    Restic restic(String token) {
        return new Restic(work, port, repo, token);
    }

    List<String> bucketKeys() {
        try (S3Client c = S3.client()) {
            return c.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(PREFIX + "/" + repo + "/")).contents().stream()
                    .map(S3Object::key).map(k -> k.substring(PREFIX.length() + repo.length() + 2)).toList();
        }
    }

    JsonNode info() {
        ResticHttp.Response r = admin.get("/repos/" + repo);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    @Test
    void createRequestNamingLocalStaysLocalDespiteTheDefaultStore() {
        String local = repoName();
        ResticHttp.Response created = admin.send("PUT", "/repos/" + local, HttpRequest.BodyPublishers.ofString("{\"storage\": \"local\"}"),
                Map.of("Content-Type", "application/json"));
        assertEquals(201, created.status(), created.text());
        assertEquals("local", created.json().get("storage").asText());
        assertTrue(Files.isDirectory(DATA_DIR.resolve(local).resolve("data")));
        try (S3Client c = S3.client()) {
            assertEquals(0, c.listObjectsV2(b -> b.bucket(BUCKET).prefix(PREFIX + "/" + local + "/")).keyCount(),
                    "nothing of it in the bucket");
        }
        ResticHttp.Response unknown = admin.send("PUT", "/repos/" + repoName(), HttpRequest.BodyPublishers.ofString("{\"storage\": \"elsewhere\"}"),
                Map.of("Content-Type", "application/json"));
        assertEquals(400, unknown.status(), unknown.text());
    }

    /**
     * A damaged segment object in the bucket: the repair salvages its intact entries into a new
     * repository in the same store (segments are never rewritten there) and leaves the damaged one
     * as it was; a repair without a target, or a target that exists, is refused up front.
     */
    @Test
    void repairOfADamagedBucketRepositoryWritesTheRepairedCopyUnderANewName() throws Exception {
        String name = repoName();
        String into = repoName();
        Map<String, String> json = Map.of("Content-Type", "application/json");
        Map<String, String> octets = Map.of("Content-Type", "application/octet-stream");
        assertEquals(201, admin.send("PUT", "/repos/" + name, HttpRequest.BodyPublishers.ofString("{}"), json).status());
        String early = "%064x".formatted(10);
        assertEquals(201, admin.send("PUT", "/repos/" + name + "/objects/" + early, HttpRequest.BodyPublishers.ofString("committed before"),
                octets).status());
        // one commit of three objects large enough that the segment is not kept in the cache when uploaded
        byte[][] bodies = new byte[3][];
        String[] ids = new String[3];
        String txn = admin.send("POST", "/repos/" + name + "/transactions", HttpRequest.BodyPublishers.noBody(), json).json().get("id").asText();
        for (int i = 0; i < 3; i++) {
            ids[i] = "%064x".formatted(11 + i);
            bodies[i] = new byte[1_600_000];
            new java.util.Random(i).nextBytes(bodies[i]);
            byte[] marker = ("object-" + i + "-marker").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(marker, 0, bodies[i], 1000, marker.length);
            assertEquals(201, admin.send("PUT", "/repos/" + name + "/objects/" + ids[i], HttpRequest.BodyPublishers.ofByteArray(bodies[i]),
                    Map.of("Content-Type", "application/octet-stream", "Segstore-Transaction", txn)).status());
        }
        assertEquals(200, admin.send("POST", "/repos/" + name + "/transactions/" + txn + "/commit", HttpRequest.BodyPublishers.noBody(),
                json).status());

        // damage the middle object's data inside its segment object in the bucket
        String damagedKey;
        byte[] damaged;
        try (S3Client c = S3.client()) {
            damagedKey = null;
            damaged = null;
            for (S3Object o : c.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(PREFIX + "/" + name + "/data/")).contents()) {
                byte[] content = c.getObjectAsBytes(b -> b.bucket(BUCKET).key(o.key())).asByteArray();
                int at = indexOf(content, "object-1-marker".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                if (at >= 0) {
                    content[at] ^= 0x55;
                    damagedKey = o.key();
                    damaged = content;
                }
            }
            assertTrue(damagedKey != null, "the segment holding the middle object is in the bucket");
            byte[] body = damaged;
            String key = damagedKey;
            c.putObject(b -> b.bucket(BUCKET).key(key), software.amazon.awssdk.core.sync.RequestBody.fromBytes(body));
        }

        ResticHttp.Response unnamed = admin.send("POST", "/repos/" + name + "/checks", HttpRequest.BodyPublishers.ofString("{\"repair\": true}"), json);
        assertEquals(400, unnamed.status(), unnamed.text());
        assertTrue(unnamed.text().contains("\\\"into\\\""), "the answer says what to add: " + unnamed.text());

        ResticHttp.Response start = admin.send("POST", "/repos/" + name + "/checks",
                HttpRequest.BodyPublishers.ofString("{\"repair\": true, \"into\": \"" + into + "\"}"), json);
        assertEquals(202, start.status(), start.text());
        JsonNode job = awaitJob(start.header("Location"));
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        JsonNode result = job.get("result");
        assertEquals(into, result.get("into").asText());
        assertTrue(result.get("errors").size() > 0, "the damage is reported: " + result);
        assertTrue(result.get("entriesSalvaged").asLong() >= 2, "the intact entries of the damaged segment are kept: " + result);
        assertEquals(3, result.get("objects").asLong(), "the damaged object is dropped, the others kept: " + result);

        JsonNode copy = info(into);
        assertEquals("main", copy.get("storage").asText(), "the repaired copy lives in the same store");
        assertEquals(info(name).get("id").asText(), copy.get("id").asText(), "the same repository id (and key)");
        assertEquals("committed before", new String(admin.get("/repos/" + into + "/objects/" + early).body(), java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(java.util.Arrays.equals(bodies[0], admin.get("/repos/" + into + "/objects/" + ids[0]).body()));
        assertTrue(java.util.Arrays.equals(bodies[2], admin.get("/repos/" + into + "/objects/" + ids[2]).body()));
        assertEquals(404, admin.get("/repos/" + into + "/objects/" + ids[1]).status(), "the damaged object is gone from the copy");
        ResticHttp.Response check = admin.send("POST", "/repos/" + into + "/checks", HttpRequest.BodyPublishers.ofString("{}"), json);
        JsonNode checked = awaitJob(check.header("Location"));
        assertTrue(checked.get("result").get("ok").asBoolean(), "the copy checks clean: " + checked);
        try (S3Client c = S3.client()) {
            String key = damagedKey;
            assertTrue(java.util.Arrays.equals(damaged, c.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray()),
                    "the damaged original is left as it was");
            assertEquals(0, c.listObjectsV2(b -> b.bucket(BUCKET).prefix(PREFIX + "/" + into + "/lock")).keyCount(),
                    "no lock files of the local copy reach the bucket");
        }
        ResticHttp.Response again = admin.send("POST", "/repos/" + name + "/checks",
                HttpRequest.BodyPublishers.ofString("{\"repair\": true, \"into\": \"" + into + "\"}"), json);
        assertEquals(409, again.status(), "into exists now: " + again.text());
        assertEquals(List.of(), Files.list(DATA_DIR.resolve(".staging")).filter(Files::isDirectory).toList(),
                "the local copy is removed when the repair is done");
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** An earlier transaction of an append-only repository in the bucket comes back as a new one there. */
    @Test
    void earlierTransactionOfAnAppendOnlyBucketRepositoryIsRestoredIntoTheBucket() throws Exception {
        String name = repoName();
        String into = repoName();
        Map<String, String> json = Map.of("Content-Type", "application/json");
        Map<String, String> octets = Map.of("Content-Type", "application/octet-stream");
        String one = "%064x".formatted(1);
        String two = "%064x".formatted(2);
        assertEquals(201, admin.send("PUT", "/repos/" + name, HttpRequest.BodyPublishers.ofString("{\"appendOnly\": true}"), json).status());
        assertEquals(201, admin.send("PUT", "/repos/" + name + "/objects/" + one, HttpRequest.BodyPublishers.ofString("one"), octets).status());
        assertEquals(201, admin.send("PUT", "/repos/" + name + "/objects/" + two, HttpRequest.BodyPublishers.ofString("two"), octets).status());
        assertEquals(204, admin.delete("/repos/" + name + "/objects/" + one).status());
        assertEquals(204, admin.send("PUT", "/repos/" + name + "/objects/" + two, HttpRequest.BodyPublishers.ofString("changed"), octets).status());
        JsonNode history = admin.get("/repos/" + name + "/history").json().get("transactions");
        assertEquals(4, history.size(), history.toString());
        long second = history.get(1).get("id").asLong();

        ResticHttp.Response start = admin.send("POST", "/repos/" + name + "/restore",
                HttpRequest.BodyPublishers.ofString("{\"transactionId\": " + second + ", \"into\": \"" + into + "\"}"), json);
        assertEquals(202, start.status(), start.text());
        JsonNode job = awaitJob(start.header("Location"));
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertTrue(job.get("result").get("ok").asBoolean(), job.toString());

        JsonNode restored = admin.get("/repos/" + into).json();
        assertEquals("main", restored.get("storage").asText(), "the copy lives in the same store");
        assertEquals(info(name).get("id").asText(), restored.get("id").asText(), "the same repository id (and key)");
        assertEquals("one", new String(admin.get("/repos/" + into + "/objects/" + one).body(), java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("two", new String(admin.get("/repos/" + into + "/objects/" + two).body(), java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(404, admin.get("/repos/" + name + "/objects/" + one).status(), "the original is unchanged");
        try (S3Client c = S3.client()) {
            assertEquals(1, c.listObjectsV2(b -> b.bucket(BUCKET).prefix(PREFIX + "/" + into + "/config")).keyCount());
        }
        ResticHttp.Response again = admin.send("POST", "/repos/" + name + "/restore",
                HttpRequest.BodyPublishers.ofString("{\"transactionId\": " + second + ", \"into\": \"" + into + "\"}"), json);
        assertEquals(409, again.status(), "into exists now: " + again.text());
    }

    JsonNode awaitJob(String location) {
        return Poll.until("the job ended", Duration.ofSeconds(120), () -> admin.get(location).json(),
                job -> job.get("state").asText().matches("succeeded|failed"));
    }

    JsonNode info(String name) {
        ResticHttp.Response r = admin.get("/repos/" + name);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    /**
     * A write that arrives while its repository is being created (in the bucket, here) waits for
     * the create and is served; it never hangs on the lease the create takes.
     */
    @Test
    void writesRacingTheCreateOfTheirRepositoryAreServed() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            for (int round = 0; round < 8; round++) {
                String name = repoName();
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                java.util.concurrent.Future<Integer> create = pool.submit(() -> {
                    go.await();
                    return admin.send("PUT", "/repos/" + name, HttpRequest.BodyPublishers.ofString("{}"),
                            Map.of("Content-Type", "application/json")).status();
                });
                List<java.util.concurrent.Future<Integer>> writes = new java.util.ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    String id = "%064x".formatted(round * 10 + w + 1);
                    writes.add(pool.submit(() -> {
                        go.await();
                        return admin.send("PUT", "/repos/" + name + "/objects/" + id, HttpRequest.BodyPublishers.ofString("x"),
                                Map.of("Content-Type", "application/octet-stream")).status();
                    }));
                }
                go.countDown();
                assertEquals(201, create.get(60, java.util.concurrent.TimeUnit.SECONDS));
                for (java.util.concurrent.Future<Integer> w : writes) {
                    int status = w.get(60, java.util.concurrent.TimeUnit.SECONDS); // a hang fails here
                    assertTrue(status == 201 || status == 404, "a write racing the create: " + status);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void initBackupRestoreCheckAndPruneOnABucketRepository() throws Exception {
        restic(ADMIN).ok("init");
        assertEquals("main", info().get("storage").asText(), "restic's init created the repository in the default store");
        assertTrue(bucketKeys().containsAll(List.of("README", "config")), bucketKeys().toString());

        restic(WRITER).ok("backup", "--pack-size", "64", tree.toString());
        Map<String, Long> packs = admin.listV2(repo, "data");
        assertTrue(packs.values().stream().anyMatch(size -> size > SegmentFile.MAX_DATA_SIZE), packs.toString());
        long segments = bucketKeys().stream().filter(k -> k.startsWith("data/")).count();
        assertTrue(segments >= 2, "the committed segments are in the bucket: " + bucketKeys());

        Path restored = work.resolve("restored");
        restic(READER).ok("--no-lock", "restore", "latest", "--target", restored.toString());
        TestTree.assertSame(tree, restored.resolve(tree.toString().substring(1)));
        restic(READER).ok("--no-lock", "check", "--read-data");

        Files.delete(tree.resolve("large.bin"));
        restic(WRITER).ok("backup", tree.toString());
        restic(WRITER).ok("forget", "--keep-last", "1", "--prune");
        long used = info().get("quotaUsed").asLong();
        ResticHttp.Response start = admin.send("POST", "/repos/" + repo + "/compaction",
                HttpRequest.BodyPublishers.ofString("{\"threshold\": 0.1}"), Map.of("Content-Type", "application/json"));
        assertEquals(202, start.status(), start.text());
        JsonNode job = awaitJob(start.header("Location"));
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertTrue(info().get("quotaUsed").asLong() < used - LARGE, "compaction freed the pruned pack in the bucket");
        restic(READER).ok("--no-lock", "check", "--read-data");
        Path again = work.resolve("restored-again");
        restic(READER).ok("--no-lock", "restore", "latest", "--target", again.toString());
        TestTree.assertSame(tree, again.resolve(tree.toString().substring(1)));
    }
}
