package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.tier.FaultProxy;
import io.segstore.tier.S3TestServer;
import io.segstore.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several Segstore processes sharing one bucket (s3proxy in this JVM): any instance answers any
 * request, one writer per repository through the bucket's lease, writes forwarded to the holder,
 * commits seen by the others within the refresh interval, takeover after the holder is killed,
 * and an instance with an empty volume serving what the bucket holds.
 */
class SharedBucketInstancesTest {

    @TempDir
    static Path tmp;
    static S3TestServer s3;
    static ServiceProcess a;
    static ServiceProcess b;
    static ApiClient apiA;
    static ApiClient apiB;
    static final List<ServiceProcess> started = new ArrayList<>();

    static String[] args() {
        List<String> out = new ArrayList<>();
        s3.properties("main", "shared", "segstore").forEach((k, v) -> out.add("--" + k + "=" + v));
        out.add("--segstore.s3.lease-ttl=3s");
        out.add("--segstore.s3.refresh-interval=300ms");
        out.add("--segstore.s3.cache-size=16777216");
        return out.toArray(String[]::new);
    }

    static ServiceProcess instance(String name) throws Exception {
        return instance(name, args());
    }

    static ServiceProcess instance(String name, String[] args) throws Exception {
        Path data = Files.createDirectories(tmp.resolve(name));
        ServiceProcess p = ServiceProcess.start(data, tmp.resolve(name + ".log"), "/actuator/health/readiness", args);
        started.add(p);
        return p;
    }

    @BeforeAll
    static void start() throws Exception {
        s3 = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        s3.createBucket("shared");
        a = instance("a");
        b = instance("b");
        apiA = new ApiClient(a.port);
        apiB = new ApiClient(b.port);
    }

    @AfterAll
    static void stop() throws Exception {
        for (ServiceProcess p : started) {
            p.stop();
        }
        s3.close();
        try (var logs = Files.list(tmp)) {
            for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
                String text = Files.readString(log);
                Files.createDirectories(Path.of("target", "shared-bucket-logs"));
                Files.writeString(Path.of("target", "shared-bucket-logs", log.getFileName().toString()), text);
                assertTrue(!text.contains(S3TestServer.SECRET_KEY) && !text.contains(S3TestServer.ACCESS_KEY),
                        "credentials in " + log.getFileName());
            }
        }
    }

    static String id(int n) {
        return String.format("%064x", n);
    }

    static byte[] body(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Polls until the condition holds or the deadline passes (never a fixed sleep). */
    static void await(String what, long seconds, Supplier<Boolean> condition) {
        Poll.until(what, java.time.Duration.ofSeconds(seconds), condition::get);
    }

    /** The objects under {@code prefix}, downloaded into {@code to}; null when one vanished while they were. */
    static Path copyPrefix(String prefix, Path to) {
        try (software.amazon.awssdk.services.s3.S3Client c = s3.client()) {
            for (var o : c.listObjectsV2Paginator(r -> r.bucket("shared").prefix(prefix)).contents()) {
                Path target = to.resolve(o.key().substring(prefix.length()));
                Files.createDirectories(target.getParent());
                c.getObject(r -> r.bucket("shared").key(o.key()), target);
            }
            return to;
        } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return null;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void create(ApiClient api, String repo) {
        ApiClient.Response r = api.putJson("/repos/" + repo, "{\"storage\": \"main\"}");
        assertEquals(201, r.status(), r.text());
    }

    @Test
    void writesThroughOneInstanceAreReadThroughTheOtherAndWritesToTheOtherAreForwarded() {
        create(apiA, "photos");
        assertEquals(201, apiA.put("/repos/photos/objects/" + id(1), body("one")).status());
        await("instance b sees a's commit", 20, () -> apiB.get("/repos/photos/objects/" + id(1)).status() == 200);
        assertEquals("one", apiB.get("/repos/photos/objects/" + id(1)).text());

        ApiClient.Response viaB = apiB.put("/repos/photos/objects/" + id(2), body("two"));
        assertEquals(201, viaB.status(), viaB.text());
        assertEquals("two", apiA.get("/repos/photos/objects/" + id(2)).text(), "the write reached the holder, a");
        await("b sees its own forwarded write", 20, () -> apiB.get("/repos/photos/objects/" + id(2)).status() == 200);
        java.util.regex.Matcher applied = java.util.regex.Pattern.compile("(?m)^segstore_s3_follow_applied_total(\\{[^}]*})? (\\S+)$")
                .matcher(apiB.get("/actuator/prometheus").text());
        assertTrue(applied.find() && Double.parseDouble(applied.group(2)) >= 1, "b applied a's commit to its open state in place");
    }

    @Test
    void aTransactionBegunOnOneInstanceIsContinuedAndCommittedThroughAnother() {
        create(apiA, "docs");
        ApiClient.Response begun = apiB.post("/repos/docs/transactions", null);
        assertEquals(201, begun.status(), begun.text());
        String txn = begun.json().get("id").asText();
        Map<String, String> in = Map.of(SegstoreHeaders.TRANSACTION, txn);
        assertEquals(201, apiA.put("/repos/docs/objects/" + id(10), body("ten"), in).status());
        assertEquals(201, apiB.put("/repos/docs/objects/" + id(11), body("eleven"), in).status());
        assertEquals("eleven", apiA.get("/repos/docs/objects/" + id(11), in).text(), "the transaction sees its own writes");
        assertEquals(404, apiA.get("/repos/docs/objects/" + id(10)).status(), "nothing uncommitted is visible");
        ApiClient.Response committed = apiB.post("/repos/docs/transactions/" + txn + "/commit", null);
        assertEquals(200, committed.status(), committed.text());
        assertEquals("ten", apiA.get("/repos/docs/objects/" + id(10)).text());
        await("b sees the commit", 20, () -> apiB.get("/repos/docs/objects/" + id(11)).status() == 200);
    }

    @Test
    void killingTheLeaseHolderLetsAnotherInstanceTakeOverWithEveryAcknowledgedCommitIntact() throws Exception {
        ServiceProcess c = instance("c");
        ApiClient apiC = new ApiClient(c.port);
        create(apiC, "ledger");
        for (int i = 0; i < 20; i++) {
            assertEquals(201, apiC.put("/repos/ledger/objects/" + id(100 + i), body("entry " + i)).status());
        }
        ApiClient.Response begun = apiC.post("/repos/ledger/transactions", null);
        assertEquals(201, begun.status(), begun.text());
        Map<String, String> in = Map.of(SegstoreHeaders.TRANSACTION, begun.json().get("id").asText());
        assertEquals(201, apiC.put("/repos/ledger/objects/" + id(999), body("never committed"), in).status());
        c.kill();

        // until the lease expires the writes find no writer; then b takes the lease over
        await("b takes over the writer lease", 30, () -> apiB.put("/repos/ledger/objects/" + id(200), body("after")).status() == 201);
        for (int i = 0; i < 20; i++) {
            assertEquals("entry " + i, apiB.get("/repos/ledger/objects/" + id(100 + i)).text(), "acknowledged commit " + i);
        }
        assertEquals(404, apiB.get("/repos/ledger/objects/" + id(999)).status(), "the killed holder's open transaction is gone");
        await("a sees the new holder's commit", 20, () -> apiA.get("/repos/ledger/objects/" + id(200)).status() == 200);
        assertEquals("entry 19", apiA.get("/repos/ledger/objects/" + id(119)).text());
        assertEquals(201, apiA.put("/repos/ledger/objects/" + id(201), body("via a")).status(), "forwarded to b");
        assertEquals("via a", apiB.get("/repos/ledger/objects/" + id(201)).text());
    }

    /**
     * The holder is killed while the PUT of its commit's segment is in flight (held in a proxy
     * with its whole body): whether that PUT then reaches the bucket or not, the instance taking
     * over serves every acknowledged commit, and the unacknowledged one all or nothing.
     */
    @ParameterizedTest(name = "the in-flight upload {0}")
    @ValueSource(strings = {"lands after the kill", "never lands"})
    void killingTheHolderWhileItsCommitIsBeingUploadedLosesNothingAcknowledged(String fate) throws Exception {
        boolean lands = fate.startsWith("lands");
        String repo = lands ? "inflight-landed" : "inflight-lost";
        try (FaultProxy proxy = new FaultProxy(s3.endpoint())) {
            List<String> viaProxy = new ArrayList<>();
            for (String arg : args()) {
                viaProxy.add(arg.startsWith("--segstore.s3.stores.main.endpoint=") ? "--segstore.s3.stores.main.endpoint=" + proxy.endpoint() : arg);
            }
            ServiceProcess g = instance(lands ? "g1" : "g2", viaProxy.toArray(String[]::new));
            ApiClient apiG = new ApiClient(g.port);
            create(apiG, repo);
            for (int i = 0; i < 5; i++) {
                assertEquals(201, apiG.put("/repos/" + repo + "/objects/" + id(600 + i), body("acknowledged " + i)).status());
            }
            FaultProxy.Hold hold = proxy.hold(FaultProxy.method("PUT", "/" + repo + "/data/"));
            byte[] pending = new byte[200_000];
            new java.util.Random(7).nextBytes(pending);
            java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
            Thread writer = new Thread(() -> {
                try {
                    answered.set(apiG.put("/repos/" + repo + "/objects/" + id(699), pending).status());
                } catch (RuntimeException ex) {
                    // the instance dies under it: never acknowledged
                }
            });
            writer.setDaemon(true);
            writer.start();
            assertTrue(hold.awaitHeld(java.time.Duration.ofSeconds(60)), "the commit's segment upload reached the proxy");
            g.kill();
            hold.release(lands);
            writer.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(answered.get() == 0, "no answer came for a commit whose upload was cut off: " + answered.get());

            await("b takes " + repo + " over", 30, () -> apiB.put("/repos/" + repo + "/objects/" + id(650), body("after")).status() == 201);
            for (int i = 0; i < 5; i++) {
                assertEquals("acknowledged " + i, apiB.get("/repos/" + repo + "/objects/" + id(600 + i)).text());
            }
            ApiClient.Response inFlight = apiB.get("/repos/" + repo + "/objects/" + id(699));
            if (lands) {
                assertEquals(200, inFlight.status(), "its segment, COMMIT included, reached the bucket: the commit stands");
                assertTrue(java.util.Arrays.equals(pending, inFlight.body()));
            } else {
                assertEquals(404, inFlight.status(), "its segment never reached the bucket: nothing of it is served");
            }
            await("a, following, sees the new holder's commit", 20, () -> apiA.get("/repos/" + repo + "/objects/" + id(650)).status() == 200);
            assertEquals(lands ? 200 : 404, apiA.get("/repos/" + repo + "/objects/" + id(699)).status(), "a agrees with b");
        }
    }

    @Test
    void anInstanceWithAnEmptyVolumeServesTheBucketsRepositories() throws Exception {
        create(apiA, "archive");
        for (int i = 0; i < 5; i++) {
            assertEquals(201, apiA.put("/repos/archive/objects/" + id(300 + i), body("archived " + i)).status());
        }
        ServiceProcess d = instance("d");
        ApiClient apiD = new ApiClient(d.port);
        assertEquals("archived 4", apiD.get("/repos/archive/objects/" + id(304)).text());
        assertTrue(apiD.get("/repos").text().contains("archive"));
        String metrics = apiD.get("/actuator/prometheus").text();
        assertTrue(metrics.contains("segstore_s3_cache_misses_total") && metrics.contains("segstore_s3_cache_fetched_bytes_total"), metrics);
        assertTrue(!metrics.contains(S3TestServer.SECRET_KEY));
        d.stop();
    }

    @Test
    void killingTheHolderInTheMiddleOfALargeCommitLeavesAllOrNothingAndABucketBorgAccepts() throws Exception {
        ServiceProcess e = instance("e");
        ApiClient apiE = new ApiClient(e.port);
        create(apiE, "media");
        for (int i = 0; i < 5; i++) {
            assertEquals(201, apiE.put("/repos/media/objects/" + id(400 + i), body("small " + i)).status());
        }
        byte[] big = new byte[16 << 20]; // under Borg's largest object
        new java.util.Random(9).nextBytes(big);
        Thread upload = new Thread(() -> {
            try {
                apiE.put("/repos/media/objects/" + id(499), big);
            } catch (RuntimeException ex) {
                // the instance dies under it
            }
        });
        upload.setDaemon(true);
        upload.start();
        Path volume = tmp.resolve("e");
        // its body staged, or its segment being written or uploaded: the commit is under way
        await("the large object is on its way through e's volume", 60, () -> {
            if (!upload.isAlive()) {
                return true; // answered already: then the kill comes after the commit
            }
            try (var files = Files.walk(volume)) {
                return files.anyMatch(f -> Files.isRegularFile(f) && f.toFile().length() > (1 << 20));
            } catch (java.io.IOException | java.io.UncheckedIOException ex) {
                return false;
            }
        });
        e.kill();

        await("b takes over media", 30, () -> apiB.put("/repos/media/objects/" + id(450), body("after")).status() == 201);
        for (int i = 0; i < 5; i++) {
            assertEquals("small " + i, apiB.get("/repos/media/objects/" + id(400 + i)).text());
        }
        ApiClient.Response large = apiB.get("/repos/media/objects/" + id(499));
        assertTrue(large.status() == 404 || java.util.Arrays.equals(big, large.body()), "all of the large commit or nothing: " + large.status());

        // the bucket holds a Borg repository: copied out, `borg check --repository-only` accepts it
        Path borg = Path.of("/usr/bin/borg");
        assertTrue(Files.isExecutable(borg), "borg (Debian's borgbackup 1.2) is needed at /usr/bin/borg");
        // b, the holder now, may replace its checkpoint while the prefix is copied: copy again then
        java.util.concurrent.atomic.AtomicInteger attempt = new java.util.concurrent.atomic.AtomicInteger();
        Path copy = Poll.until("a copy of the prefix that no checkpoint replaced under it", java.time.Duration.ofSeconds(60),
                () -> copyPrefix("segstore/media/", tmp.resolve("media-copy-" + attempt.incrementAndGet())), java.util.Objects::nonNull);
        ProcessBuilder check = new ProcessBuilder(borg.toString(), "check", "--repository-only", copy.toString())
                .redirectErrorStream(true);
        check.environment().put("BORG_BASE_DIR", Files.createDirectories(tmp.resolve("borg-base")).toString());
        check.environment().put("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes");
        check.environment().put("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes");
        Process p = check.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void createRefusesAnUnknownStoreAndANameTheBucketAlreadyHolds() {
        ApiClient.Response unknown = apiA.putJson("/repos/nowhere", "{\"storage\": \"elsewhere\"}");
        assertEquals(400, unknown.status(), unknown.text());
        assertEquals("bad-parameter", unknown.problem());
        create(apiA, "taken");
        ApiClient.Response again = apiB.putJson("/repos/taken", "{\"storage\": \"main\"}");
        assertEquals(409, again.status(), again.text());
        assertEquals("repository-exists", again.problem());
    }

    @Test
    void aRepositoryDestroyedThroughOneInstanceDisappearsFromTheOthers() {
        create(apiA, "scratch");
        assertEquals(201, apiA.put("/repos/scratch/objects/" + id(500), body("x")).status());
        await("b serves scratch", 20, () -> apiB.get("/repos/scratch/objects/" + id(500)).status() == 200);
        ApiClient.Response destroyed = apiB.delete("/repos/scratch");
        assertEquals(204, destroyed.status(), destroyed.text());
        assertEquals(404, apiA.get("/repos/scratch").status(), "the holder destroyed it");
        await("b forgets it", 20, () -> apiB.get("/repos/scratch").status() == 404);
    }
}
