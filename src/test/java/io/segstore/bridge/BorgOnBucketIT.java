package io.segstore.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.tier.S3TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Stock borg through the bridge against a service whose new repositories go to an S3 bucket
 * (s3proxy in this JVM, {@code segstore.s3.default-storage}): borg init creates a bucket
 * repository, and a Borg user's round trip (create, list, extract, a deduplicating second create,
 * check --verify-data, delete, prune and compact) works on it as on a local one.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BorgOnBucketIT {

    private static final String BUCKET = "borg-bucket";
    private static final String PREFIX = "tenants/borg";
    private static final Path DATA_DIR;
    private static final Path WORK_DIR;
    private static final S3TestServer S3;

    static {
        try {
            DATA_DIR = Files.createTempDirectory("segstore-bucket-data");
            WORK_DIR = Files.createTempDirectory("segstore-bucket-work");
            S3 = S3TestServer.start(Files.createTempDirectory("segstore-bucket-s3"));
            S3.createBucket(BUCKET);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("segstore.data-dir", DATA_DIR::toString);
        S3.properties("main", BUCKET, PREFIX).forEach((k, v) -> registry.add(k, () -> v));
        registry.add("segstore.s3.default-storage", () -> "main");
    }

    @LocalServerPort
    int port;

    private final HttpClient http = HttpClient.newHttpClient();
    private BorgClient borg;
    private Path tree;

    @BeforeAll
    void setUp() {
        BorgClient.requireInstalled();
        borg = new BorgClient(WORK_DIR, WORK_DIR.resolve("borg-base"), "http://127.0.0.1:" + port); // no tokens: loopback
        tree = TestTree.create(WORK_DIR.resolve("tree"), 3);
    }

    @AfterAll
    void stopS3() throws Exception {
        S3.close();
    }

    @Test
    void borgRoundTripOnARepositoryInTheBucket() throws IOException {
        String repo = "borg-in-bucket";
        String location = "ssh://segstore/" + repo;
        borg.ok("init", "--encryption", "repokey", location);
        assertEquals("main", repository(repo).get("storage"), "borg init created the repository in the default store");

        borg.ok("create", location + "::first", "tree");
        assertTrue(bucketKeys(repo).stream().anyMatch(k -> k.startsWith("data/")), "segments in the bucket: " + bucketKeys(repo));
        Path out = Files.createDirectories(WORK_DIR.resolve("extract-1"));
        borg.runIn(out, "extract", location + "::first");
        TestTree.assertSameTree(tree, out.resolve("tree"));

        Map<String, Object> first = repository(repo);
        borg.ok("create", location + "::second", "tree");
        long newObjects = number(repository(repo), "objects") - number(first, "objects");
        assertTrue(newObjects >= 1 && newObjects <= 4, "the second backup stored " + newObjects + " new objects");

        BorgClient.Result verify = borg.ok("check", "--verify-data", "--verbose", location);
        assertTrue(verify.stderr().matches("(?s).*verified \\d+ chunks with 0 integrity errors.*"), verify.toString());

        Path other = TestTree.create(WORK_DIR.resolve("other"), 4);
        borg.ok("create", location + "::other", other.getFileName().toString());
        Map<String, Object> before = repository(repo);
        borg.ok("delete", location + "::other");
        borg.ok("prune", "--keep-last", "1", location);
        BorgClient.Result compact = borg.ok("compact", "--verbose", location);
        assertTrue(compact.stderr().contains("Remote: compaction freed about"), compact.toString());
        assertTrue(number(repository(repo), "quotaUsed") < number(before, "quotaUsed") - 3_500_000, "compaction freed the other tree");
        assertEquals("second", borg.ok("list", "--short", location).stdout().strip());
        borg.ok("check", location);
        Path again = Files.createDirectories(WORK_DIR.resolve("extract-2"));
        borg.runIn(again, "extract", location + "::second");
        TestTree.assertSameTree(tree, again.resolve("tree"));
    }

    private List<String> bucketKeys(String repo) {
        String base = PREFIX + "/" + repo + "/";
        try (S3Client c = S3.client()) {
            return c.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(base)).contents().stream()
                    .map(S3Object::key).map(k -> k.substring(base.length())).toList();
        }
    }

    private Map<String, Object> repository(String repo) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/repos/" + repo)).build();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, r.statusCode(), r.body());
            return Json.object(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static long number(Map<String, Object> m, String field) {
        Object v = m.get(field);
        assertTrue(v instanceof Number, field + " is not a number in " + m);
        return ((Number) v).longValue();
    }
}
