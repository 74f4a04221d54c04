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

    @Test
    void repairOfABucketRepositoryIsRefusedClearlyAndACheckRuns() throws Exception {
        String name = repoName();
        Map<String, String> json = Map.of("Content-Type", "application/json");
        assertEquals(201, admin.send("PUT", "/repos/" + name, HttpRequest.BodyPublishers.ofString("{}"), json).status());
        ResticHttp.Response repair = admin.send("POST", "/repos/" + name + "/checks", HttpRequest.BodyPublishers.ofString("{\"repair\": true}"), json);
        assertEquals(400, repair.status(), repair.text());
        assertTrue(repair.text().contains("Repair is not available for a repository in object storage"), repair.text());
        ResticHttp.Response check = admin.send("POST", "/repos/" + name + "/checks", HttpRequest.BodyPublishers.ofString("{}"), json);
        assertEquals(202, check.status(), "a check without repair runs: " + check.text());
        assertEquals("succeeded", awaitJob(check.header("Location")).get("state").asText());
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
