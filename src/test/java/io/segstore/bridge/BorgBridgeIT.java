package io.segstore.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.segstore.testing.Poll;
import java.io.IOException;
import java.io.OutputStream;
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
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Stock borg 1.2 against a real Segstore service on a random port, through bin/borg-rsh and the
 * packaged jar's bridge: every scenario a Borg user goes through, checked by what borg prints,
 * what it restores, and what the service reports about the repository.
 *
 * <p>The service lists at most 100 ids per page here, so borg's list (100,000 ids a call) and
 * scan (100) span several service pages.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BorgBridgeIT {

    private static final Path DATA_DIR;
    private static final Path WORK_DIR;

    static {
        try {
            DATA_DIR = Files.createTempDirectory("segstore-bridge-data");
            WORK_DIR = Files.createTempDirectory("segstore-bridge-work");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The operator's token (admin on every repository) and a backup client's (append on every repository). */
    private static final String ADMIN_TOKEN = "bridge-test-admin-" + UUID.randomUUID();
    private static final String APPEND_TOKEN = "bridge-test-append-" + UUID.randomUUID();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("segstore.data-dir", DATA_DIR::toString);
        registry.add("segstore.listing.max-limit", () -> "100");
        registry.add("segstore.listing.default-limit", () -> "50");
        String[][] tokens = {{"operator", ADMIN_TOKEN, "admin"}, {"backup-client", APPEND_TOKEN, "append"}};
        for (int i = 0; i < tokens.length; i++) {
            String[] t = tokens[i];
            String p = "segstore.security.tokens[" + i + "].";
            registry.add(p + "name", () -> t[0]);
            registry.add(p + "sha256", () -> sha256(t[1]));
            registry.add(p + "grants[0].repos", () -> "*");
            registry.add(p + "grants[0].role", () -> t[2]);
        }
    }

    private static String sha256(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @LocalServerPort
    int port;

    private final HttpClient http = HttpClient.newHttpClient();
    private BorgClient borg;
    private Path tree;

    @BeforeAll
    void setUp() {
        BorgClient.requireInstalled();
        borg = new BorgClient(WORK_DIR, WORK_DIR.resolve("borg-base"), url()).withEnv("SEGSTORE_TOKEN", ADMIN_TOKEN);
        tree = TestTree.create(WORK_DIR.resolve("tree"), 1);
    }

    private String url() {
        return "http://127.0.0.1:" + port;
    }

    private static String newName() {
        return "borg-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static String location(String repo) {
        return "ssh://segstore/" + repo;
    }

    private String init(String... options) {
        String repo = newName();
        String[] args = Stream.concat(Stream.of("init", "--encryption", "repokey"), Stream.concat(Stream.of(options),
                Stream.of(location(repo)))).toArray(String[]::new);
        borg.ok(args);
        return repo;
    }

    // ---- scenarios ------------------------------------------------------------------------------

    @Test
    void initCreateListAndExtractRoundTripTheTreeByteForByte() throws IOException {
        String repo = init();
        Map<String, Object> created = repository(repo);
        assertEquals(1L, created.get("objects"), "borg init stores the manifest");

        BorgClient.Result create = borg.ok("create", "--stats", location(repo) + "::first", "tree");
        assertTrue(create.stderr().contains("Number of files: 31"), create.toString()); // hard links count once, links not
        assertTrue(borg.ok("list", location(repo)).stdout().contains("first"));
        String listing = borg.ok("list", location(repo) + "::first").stdout();
        assertTrue(listing.contains("tree/ünïcødé-каталог-日本/Ωmega ✓ файл 名前.txt"), listing);
        assertTrue(listing.contains("tree/nested/empty/deeper"), listing);

        Path out = Files.createDirectories(WORK_DIR.resolve("extract-" + repo));
        borg.runIn(out, "extract", location(repo) + "::first");
        TestTree.assertSameTree(tree, out.resolve("tree"));

        Map<String, Object> info = repository(repo);
        assertFalse((Boolean) info.get("openTransaction"), "the session's writer lease outlived borg: " + info);
        assertTrue(((Number) info.get("objects")).longValue() > 10, info.toString());
    }

    @Test
    void secondCreateOfTheSameTreeStoresOnlyAFewNewChunks() {
        String repo = init();
        borg.ok("create", location(repo) + "::monday", "tree");
        Map<String, Object> first = repository(repo);
        BorgClient.Result second = borg.ok("create", "--stats", location(repo) + "::tuesday", "tree");
        Map<String, Object> after = repository(repo);

        long newObjects = number(after, "objects") - number(first, "objects");
        long newBytes = number(after, "quotaUsed") - number(first, "quotaUsed");
        assertTrue(newObjects >= 1 && newObjects <= 4, "the second backup stored " + newObjects + " new objects\n" + second);
        assertTrue(newBytes < 200_000, "the second backup stored " + newBytes + " new bytes of an 8 MB tree\n" + second);
        assertTrue(borg.ok("list", location(repo)).stdout().contains("tuesday"));
    }

    @Test
    void checkAndVerifyDataFindNoProblems() {
        String repo = init();
        borg.ok("create", location(repo) + "::one", "tree");

        BorgClient.Result check = borg.ok("check", "--verbose", location(repo));
        assertTrue(check.stderr().contains("Remote: Starting repository check"), check.toString());
        assertTrue(check.stderr().contains("Remote: Finished full repository check, no problems found."), check.toString());
        assertTrue(check.stderr().contains("Archive consistency check complete, no problems found."), check.toString());

        BorgClient.Result verify = borg.ok("check", "--verify-data", "--verbose", location(repo));
        assertTrue(verify.stderr().matches("(?s).*verified \\d+ chunks with 0 integrity errors.*"), verify.toString());

        BorgClient.Result partial = borg.ok("check", "--repository-only", "--max-duration", "60", "--verbose", location(repo));
        assertTrue(partial.stderr().contains("Finished partial repository check, no problems found."), partial.toString());

        BorgClient.Result repair = borg.ok("check", "--repair", "--verbose", location(repo));
        assertTrue(repair.stderr().contains("Remote: Finished full repository check, no problems found."), repair.toString());
        assertTrue(borg.ok("list", location(repo)).stdout().contains("one"));
    }

    @Test
    void bridgeAloneWritesNothingButBorgLinesAndEndsWithItsInput() {
        BorgClient.Result r = borg.rsh("-p", "22", "segstore", "borg", "serve", "--info");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("", r.stdout(), "stdout is borg's protocol channel");
        assertEquals("Borg 1.2.4: Got connection close before repository was opened.\n", r.stderr(),
                "no banner, no JVM or Spring output: borg shows every stderr line as Remote: ...");

        BorgClient.Result usage = borg.rsh("segstore", "borg", "serve", "--no-such-option");
        assertEquals(2, usage.exitCode(), usage.toString());
        assertTrue(usage.stderr().contains("borg serve: error: unrecognized arguments: --no-such-option"), usage.toString());
    }

    @Test
    void deletePruneAndCompactReallyFreeSpace() throws IOException {
        String repo = init();
        Path other = TestTree.create(WORK_DIR.resolve("tree-" + repo), 2);
        borg.ok("create", location(repo) + "::a-first", "tree");
        borg.ok("create", location(repo) + "::b-other-data", other.getFileName().toString());
        borg.ok("create", location(repo) + "::c-first-again", "tree");
        Map<String, Object> before = repository(repo);

        borg.ok("delete", location(repo) + "::b-other-data");
        borg.ok("prune", "--keep-last", "1", location(repo));
        Map<String, Object> deleted = repository(repo);
        assertTrue(number(deleted, "quotaUsed") >= number(before, "quotaUsed"), "delete and prune free nothing before compact");

        BorgClient.Result compact = borg.ok("compact", "--verbose", location(repo));
        assertTrue(compact.stderr().contains("Remote: compaction freed about"), compact.toString());
        Map<String, Object> after = repository(repo);
        assertTrue(number(after, "quotaUsed") < number(before, "quotaUsed") - 3_500_000, // the other tree: 4.1 MB compressed
                "compaction freed too little: " + before + " -> " + after);
        assertTrue(number(after, "segments") < number(before, "segments"), "segments: " + before + " -> " + after);
        assertTrue(number(after, "objects") < number(before, "objects"));

        String archives = borg.ok("list", "--short", location(repo)).stdout();
        assertEquals("c-first-again", archives.strip());
        borg.ok("check", "--verify-data", location(repo));
        Path out = Files.createDirectories(WORK_DIR.resolve("extract-" + repo));
        borg.runIn(out, "extract", location(repo) + "::c-first-again");
        TestTree.assertSameTree(tree, out.resolve("tree"));
    }

    @Test
    void appendTokenInAnAppendOnlyRepositoryLeavesEveryArchiveRestorableAfterDeletePruneAndCompact() throws IOException {
        String repo = init("--append-only"); // the operator creates it (admin token)
        assertEquals(Boolean.TRUE, repository(repo).get("appendOnly"));
        // the backup client has an append token: Borg's `borg serve --append-only` situation
        BorgClient client = new BorgClient(borg, WORK_DIR.resolve("borg-base")).withEnv("SEGSTORE_TOKEN", APPEND_TOKEN);
        Path other = TestTree.create(WORK_DIR.resolve("tree-" + repo), 3);
        client.ok("create", location(repo) + "::a-first", "tree");
        client.ok("create", location(repo) + "::b-other-data", other.getFileName().toString());
        client.ok("create", location(repo) + "::c-first-again", "tree");
        Map<String, Object> before = repository(repo);
        long lastGoodTransaction = number(before, "transactionId");

        // what an intruder with the client's credentials can do: delete, prune, compact...
        client.ok("delete", location(repo) + "::b-other-data");
        client.ok("prune", "--keep-last", "1", location(repo));
        client.ok("compact", location(repo));
        assertEquals("c-first-again", client.ok("list", "--short", location(repo)).stdout().strip());
        Map<String, Object> after = repository(repo);
        assertTrue(number(after, "quotaUsed") >= number(before, "quotaUsed"), "an append-only repository freed space");
        assertTrue(number(after, "segments") >= number(before, "segments"), "an append-only repository lost segments");
        // ... but not destroy it, nor repair it away
        BorgClient.Result destroy = client.run("delete", location(repo));
        assertEquals(2, destroy.exitCode(), destroy.toString());
        assertTrue(destroy.stderr().contains("is in append-only mode"), destroy.toString());
        BorgClient.Result repair = client.run("check", "--repair", location(repo));
        assertEquals(2, repair.exitCode(), repair.toString());
        assertTrue(repair.stderr().contains("is in append-only mode"), repair.toString());

        // Borg's restore of an append-only repository: drop the segments after the last good
        // transaction and the index files, here into a copy that the service picks up
        String restored = repo + "-restored";
        restoreCopy(DATA_DIR.resolve(repo), DATA_DIR.resolve(restored), lastGoodTransaction);
        BorgClient restoreMachine = new BorgClient(borg, WORK_DIR.resolve("restore-base-" + repo));
        String archives = restoreMachine.ok("list", "--short", location(restored)).stdout();
        assertEquals(List.of("a-first", "b-other-data", "c-first-again"), List.of(archives.strip().split("\n")));
        Path out = Files.createDirectories(WORK_DIR.resolve("extract-" + repo));
        restoreMachine.runIn(out, "extract", location(restored) + "::b-other-data");
        TestTree.assertSameTree(other, out.resolve(other.getFileName().toString()));
        restoreMachine.ok("check", location(restored));
    }

    @Test
    void appendTokenInARepositoryThatIsNotAppendOnlyCanBackUpButNotDelete() {
        String repo = init();
        BorgClient client = new BorgClient(borg, WORK_DIR.resolve("borg-base")).withEnv("SEGSTORE_TOKEN", APPEND_TOKEN);
        client.ok("create", location(repo) + "::kept", "tree");
        client.ok("create", location(repo) + "::kept-too", "tree");

        BorgClient.Result delete = client.run("delete", location(repo) + "::kept");
        assertEquals(2, delete.exitCode(), delete.toString());
        assertTrue(delete.stderr().contains("may not delete objects"), delete.toString());
        assertTrue(delete.stderr().contains("append-only repository"), "the bridge says what to do\n" + delete);
        BorgClient.Result compact = client.run("compact", location(repo));
        assertEquals(2, compact.exitCode(), compact.toString());
        assertTrue(compact.stderr().contains("may not compact it"), compact.toString());

        assertEquals(List.of("kept", "kept-too"), List.of(client.ok("list", "--short", location(repo)).stdout().strip().split("\n")));
        borg.ok("check", location(repo)); // the operator's check: nothing half-deleted
    }

    @Test
    void killedBorgCreateIsFollowedByASuccessfulOne() throws Exception {
        String repo = init();
        long initial = number(repository(repo), "transactionId");
        BorgClient.Running create = borg.start("create", "--checkpoint-interval", "1", "--chunker-params", "10,14,12,4095",
                location(repo) + "::stream", "-");
        feedUntilCheckpoint(create, repo, initial);
        create.process().destroyForcibly(); // kill -9 borg in the middle of its backup
        create.process().waitFor();

        // the bridge saw borg's end of the pipe close and gave the lease back; borg's own stale
        // cache lock is broken by borg (same host, dead process)
        BorgClient.Result after = borg.ok("create", "--lock-wait", "60", location(repo) + "::after", "tree");
        String archives = borg.ok("list", "--short", "--consider-checkpoints", location(repo)).stdout();
        assertTrue(archives.contains("stream.checkpoint"), "the checkpoint committed before the kill is kept\n" + archives);
        assertTrue(archives.contains("after"), archives + after);
        borg.ok("check", location(repo));
        assertFalse((Boolean) repository(repo).get("openTransaction"));
    }

    @Test
    void borgBusyElsewhereLongerThanTheLeaseKeepsItsLease() throws Exception {
        String repo = init();
        BorgClient shortLease = new BorgClient(borg, WORK_DIR.resolve("borg-base")).withEnv("SEGSTORE_LEASE_SECONDS", "2");
        BorgClient.Running create = shortLease.start("create", location(repo) + "::slow-source", "-");
        OutputStream in = create.process().getOutputStream();
        in.write(TestTree.bytes(new Random(5), 3_000_000));
        in.flush();
        // borg now waits for more input and sends nothing: three lease lengths pass, the bridge renews
        Poll.throughout(java.time.Duration.ofSeconds(6), // the passage of time is what is tested
                () -> assertTrue((Boolean) repository(repo).get("openTransaction"), "the lease of a live borg session expired"));
        in.write(TestTree.bytes(new Random(6), 1_000_000));
        in.close();
        BorgClient.Result done = create.finish();
        assertEquals(0, done.exitCode(), done.toString());
        assertTrue(borg.ok("list", "--short", location(repo)).stdout().contains("slow-source"));
    }

    @Test
    void killedBridgeLeavesTheLeaseHeldUntilBreakLock() throws Exception {
        String repo = init();
        long initial = number(repository(repo), "transactionId");
        BorgClient.Running create = borg.start("create", "--checkpoint-interval", "1", "--chunker-params", "10,14,12,4095",
                location(repo) + "::stream", "-");
        feedUntilCheckpoint(create, repo, initial);
        List<ProcessHandle> bridges = create.process().descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("borg-serve")).toList();
        assertEquals(1, bridges.size(), "one bridge process under borg");
        bridges.get(0).destroyForcibly(); // SIGKILL: no rollback, no goodbye
        create.process().getOutputStream().close();
        BorgClient.Result killed = create.finish();
        assertNotEquals(0, killed.exitCode(), killed.toString());
        assertTrue(killed.stderr().contains("Connection closed by remote host"), killed.toString());

        BorgClient.Result locked = borg.run("create", "--lock-wait", "1", location(repo) + "::while-locked", "tree");
        assertEquals(2, locked.exitCode(), locked.toString());
        assertTrue(locked.stderr().contains("Failed to create/acquire the lock"), locked.toString());

        borg.ok("break-lock", location(repo));
        borg.ok("create", location(repo) + "::after-break-lock", "tree");
        String archives = borg.ok("list", "--short", "--consider-checkpoints", location(repo)).stdout();
        assertTrue(archives.contains("stream.checkpoint") && archives.contains("after-break-lock"), archives);
        borg.ok("check", location(repo));
    }

    @Test
    void errorsReachBorgAsItsOwnMessages() throws IOException {
        String repo = init("--storage-quota", "10M");
        assertEquals(10_000_000L, number(repository(repo), "quotaLimit"));

        BorgClient.Result exists = borg.run("init", "--encryption", "repokey", location(repo));
        assertEquals(2, exists.exitCode(), exists.toString());
        assertTrue(exists.stderr().contains("A repository already exists at " + location(repo) + "."), exists.toString());

        BorgClient.Result missing = borg.run("list", location("no-such-repository"));
        assertEquals(2, missing.exitCode(), missing.toString());
        assertTrue(missing.stderr().contains("Repository " + location("no-such-repository") + " does not exist."), missing.toString());

        BorgClient.Result badPath = borg.run("list", "ssh://segstore/two/levels");
        assertEquals(2, badPath.exitCode(), badPath.toString());
        assertTrue(badPath.stderr().contains("Repository path not allowed: /two/levels"), badPath.toString());

        BorgClient restricted = new BorgClient(borg, WORK_DIR.resolve("borg-base"))
                .withEnv("BORG_RSH", BorgClient.RSH + " --restrict-to-repository /only-this-one");
        BorgClient.Result notAllowed = restricted.run("list", location(repo));
        assertEquals(2, notAllowed.exitCode(), notAllowed.toString());
        assertTrue(notAllowed.stderr().contains("Repository path not allowed: /" + repo), notAllowed.toString());

        String txn = (String) Json.object(send("POST", "/repos/" + repo + "/transactions", "{}").body()).get("id");
        BorgClient.Result locked = borg.run("create", location(repo) + "::while-locked", "tree");
        send("POST", "/repos/" + repo + "/transactions/" + txn + "/rollback", null);
        assertEquals(2, locked.exitCode(), locked.toString());
        assertTrue(locked.stderr().contains("Failed to create/acquire the lock"), locked.toString());
        assertTrue(locked.stderr().contains("(timeout)"), locked.toString());

        Path big = Files.createDirectories(WORK_DIR.resolve("over-quota-" + repo));
        Files.write(big.resolve("random.bin"), TestTree.bytes(new Random(7), 12_000_000));
        BorgClient.Result quota = borg.run("create", location(repo) + "::too-big", big.getFileName().toString());
        assertEquals(2, quota.exitCode(), quota.toString());
        assertTrue(quota.stderr().contains("The storage quota (10.00 MB) has been exceeded"), quota.toString());
        assertEquals("", borg.ok("list", "--short", location(repo)).stdout().strip(), "nothing of the refused backup is listed");
        borg.ok("check", location(repo));
        borg.ok("create", location(repo) + "::fits", "tree/small");
    }

    @Test
    void borgsOwnRemoteRepositoryPipelinesListsScansAndGetsItsErrors() throws Exception {
        Path script = Path.of(getClass().getResource("/bridge/remote_repository_protocol.py").toURI());
        BorgClient.Result r = borg.python(script.toString(), location(newName()));
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stdout().contains("\"ok\": true"), r.toString());
    }

    // ---- helpers --------------------------------------------------------------------------------

    /**
     * Writes random data into `borg create ... -` until a checkpoint (a commit) of the backup is
     * visible in the repository: then borg is in the middle of its backup with committed work.
     */
    private void feedUntilCheckpoint(BorgClient.Running create, String repo, long initialTransaction) throws IOException {
        Random random = new Random(11);
        byte[] block = new byte[256 * 1024];
        OutputStream in = create.process().getOutputStream();
        long written = 0;
        while (number(repository(repo), "transactionId") == initialTransaction) {
            if (!create.process().isAlive() || written > 400L * 1024 * 1024) {
                fail("no checkpoint after " + written + " bytes\n" + create.finish());
            }
            random.nextBytes(block);
            in.write(block);
            in.flush();
            written += block.length;
        }
    }

    /** Copies a repository as it was at {@code transaction}: later segments and every index file left out. */
    private static void restoreCopy(Path from, Path to, long transaction) throws IOException {
        Path staging = Files.createTempDirectory(DATA_DIR.getParent(), "restore-");
        Path copy = staging.resolve("repo");
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path rel = from.relativize(p);
                String name = p.getFileName().toString();
                if (rel.getNameCount() == 1 && (name.matches("(index|hints|integrity|segstore-index)\\..*") || name.startsWith("lock"))) {
                    continue;
                }
                if (rel.getNameCount() > 1 && rel.getName(0).toString().equals("lock.exclusive")) {
                    continue;
                }
                if (rel.getNameCount() == 3 && rel.getName(0).toString().equals("data") && Long.parseLong(name) > transaction) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    Files.createDirectories(copy.resolve(rel.toString()));
                } else {
                    Files.copy(p, copy.resolve(rel.toString()));
                }
            }
        }
        Files.move(copy, to); // appears whole in the data directory
    }

    private Map<String, Object> repository(String repo) {
        HttpResponse<String> r = send("GET", "/repos/" + repo, null);
        assertEquals(200, r.statusCode(), r.body());
        return Json.object(r.body());
    }

    private static long number(Map<String, Object> m, String field) {
        Object v = m.get(field);
        assertTrue(v instanceof Number, field + " is not a number in " + m);
        return ((Number) v).longValue();
    }

    private HttpResponse<String> send(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).header("Authorization", "Bearer " + ADMIN_TOKEN)
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
