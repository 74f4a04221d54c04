package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import io.segstore.service.RepositoryService;
import io.segstore.testing.Poll;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import tools.jackson.databind.JsonNode;

/**
 * The real restic (Debian's) against a Segstore service, one repository through a life: init,
 * backups, restore, check --read-data, an append-only token, a backup killed half way, forget
 * --prune and compaction, and finally Borg's own check of the repository restic's data lives in.
 * The steps build on each other and run in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS) // the last step closes the repositories
class ResticClientTest extends ResticServerBase {

    static final int LARGE = 30_000_000; // > Borg's largest object: with --pack-size 64 its pack is one too

    @TempDir
    static Path work;

    @Autowired
    RepositoryService repositories;

    @Autowired
    ResticFiles files;

    String repo;
    Path tree;
    ResticHttp http;

    @BeforeAll
    void setUp() throws IOException {
        Restic.requireInstalled();
        repo = repoName();
        tree = work.resolve("tree");
        TestTree.generate(tree, 1, LARGE);
        http = new ResticHttp(port, ADMIN);
    }

    Restic restic(String token) {
        return new Restic(work, port, repo, token);
    }

    /** The summary line of `backup --json`. */
    static JsonNode summary(Restic.Result r) {
        String[] lines = r.stdout().strip().split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (lines[i].contains("\"message_type\":\"summary\"")) {
                return ResticHttp.JSON.readTree(lines[i]);
            }
        }
        throw new AssertionError("no summary in\n" + r);
    }

    JsonNode repositoryInfo() {
        ResticHttp.Response r = http.withAuthorization("Bearer " + ADMIN).get("/repos/" + repo);
        assertEquals(200, r.status(), r.text());
        return r.json();
    }

    int snapshots() {
        Restic.Result r = restic(READER).ok("--no-lock", "snapshots", "--json"); // a read token may not create lock files
        return ResticHttp.JSON.readTree(r.stdout()).size();
    }

    Path restore(String what) {
        Path target = work.resolve("restore-" + System.nanoTime());
        restic(READER).ok("--no-lock", "restore", what, "--target", target.toString());
        return target.resolve(tree.toString().substring(1)); // restic restores the absolute path below the target
    }

    @Test
    @Order(1)
    void init() {
        Restic.Result r = restic(ADMIN).ok("init");
        assertTrue(r.stdout().contains("created restic repository"), r.toString());
        assertEquals(200, http.head("/restic/" + repo + "/config").status());
        assertEquals(1, http.listV1(repo, "keys").size());
        assertEquals(List.of(), http.listV1(repo, "locks"), "init removed its lock");
    }

    @Test
    @Order(2)
    void backup() {
        Restic.Result r = restic(WRITER).ok("backup", "--json", "--pack-size", "64", tree.toString());
        JsonNode summary = summary(r);
        assertTrue(summary.get("data_added").asLong() > LARGE, r.stdout());
        Map<String, Long> data = http.listV2(repo, "data");
        assertTrue(data.values().stream().anyMatch(size -> size > SegmentFile.MAX_DATA_SIZE),
                "a pack larger than Borg's largest object: " + data);
        assertEquals(List.of(), http.listV1(repo, "locks"));
    }

    @Test
    @Order(3)
    void secondBackupAddsAlmostNothing() {
        long objects = repositoryInfo().get("objects").asLong();
        JsonNode summary = summary(restic(WRITER).ok("backup", "--json", tree.toString()));
        assertTrue(summary.get("data_added").asLong() < 10_000, summary.toString());
        assertEquals(0, summary.get("files_new").asLong(), summary.toString());
        assertEquals(0, summary.get("files_changed").asLong(), summary.toString());
        // a snapshot file and perhaps an index file: a few objects, not a copy of the data
        assertTrue(repositoryInfo().get("objects").asLong() - objects < 10);
    }

    @Test
    @Order(4)
    void snapshotsAreListed() {
        assertEquals(2, snapshots());
        assertEquals(2, http.listV1(repo, "snapshots").size());
    }

    /**
     * An append token (rest-server's --append-only) backs up, but its forget --prune fails; restic
     * retries each refused removal for about 45 s, so restore and check --read-data (read token,
     * --no-lock) run meanwhile.
     */
    @Test
    @Order(5)
    void appendTokenBacksUpButCannotPruneWhileRestoreAndCheckRead() throws Exception {
        Files.writeString(tree.resolve("added-by-append.txt"), "appended\n", StandardCharsets.UTF_8);
        restic(APPENDER).ok("backup", tree.toString());
        assertEquals(3, snapshots());
        Restic appender = restic(APPENDER);
        List<String> forget = List.of("forget", "--keep-last", "1", "--prune");
        Process p = appender.start(forget.toArray(String[]::new));

        TestTree.assertSame(tree, restore("latest"));
        Restic.Result check = restic(READER).ok("--no-lock", "check", "--read-data");
        assertTrue(check.stdout().contains("no errors were found"), check.toString());

        Restic.Result refused = appender.finish(p, forget);
        assertNotEquals(0, refused.exitCode(), "forget with an append token must fail\n" + refused);
        assertTrue(refused.stderr().contains("403"), refused.toString());
        assertEquals(3, snapshots(), "nothing was forgotten");
        assertEquals(3, http.listV1(repo, "snapshots").size());
        assertEquals(List.of(), http.listV1(repo, "locks"), "restic removed its lock: an append token may");
    }

    @Test
    @Order(6)
    void killedBackupThenUnlockAndBackup() throws Exception {
        Files.write(tree.resolve("killed-half-way.bin"), TestTree.bytes(new Random(2), 24_000_000));
        Map<String, Long> dataBefore = http.listV2(repo, "data");
        Restic r = restic(WRITER);
        List<String> args = List.of("backup", "--limit-upload", "1024", tree.toString());
        Process p = r.start(args.toArray(String[]::new));
        Path staging = DATA_DIR.resolve(".staging");
        // a pack upload is under way (at 1 MiB/s), or restic ended before it got there
        Poll.until("restic uploads a pack", Duration.ofSeconds(120), () -> !p.isAlive() || files.bytesBeingReceived() > 2_000_000);
        if (!p.isAlive()) {
            throw new AssertionError("the backup never got to uploading a pack: " + r.finish(p, args));
        }
        p.destroyForcibly(); // SIGKILL, half way through a POST
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        // the cut-off upload left nothing: no staged file, no new file visible
        Poll.until("the server let go of the cut-off upload", Duration.ofSeconds(30),
                () -> stagedBytes(staging) == 0 && files.bytesBeingReceived() == 0);
        assertEquals(0, stagedBytes(staging));
        assertEquals(0, files.bytesBeingReceived(), "the server let go of the cut-off upload");
        Map<String, Long> dataAfter = http.listV2(repo, "data");
        for (Map.Entry<String, Long> e : dataAfter.entrySet()) {
            if (!dataBefore.containsKey(e.getKey())) {
                // a pack that got through before the kill is whole
                ResticHttp.Response get = http.get("/restic/" + repo + "/data/" + e.getKey());
                assertEquals(e.getValue(), get.body().length);
                assertEquals(e.getKey(), sha256Hex(get.body()));
            }
        }
        assertEquals(1, http.listV1(repo, "locks").size(), "the killed restic's lock stays behind");
        restic(WRITER).ok("unlock");
        assertEquals(List.of(), http.listV1(repo, "locks"));
        restic(WRITER).ok("backup", tree.toString());
        assertEquals(4, snapshots());
        restic(READER).ok("--no-lock", "check");
        TestTree.assertSame(tree, restore("latest"));
    }

    static long stagedBytes(Path staging) {
        if (!Files.isDirectory(staging)) {
            return 0;
        }
        long total = 0;
        try (Stream<Path> files = Files.list(staging)) {
            for (Path f : files.toList()) {
                try {
                    total += Files.size(f);
                } catch (java.nio.file.NoSuchFileException e) {
                    // finished meanwhile
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return total;
    }

    @Test
    @Order(7)
    void forgetPruneThenCompactionFreesTheSpace() throws Exception {
        // the large files leave the tree: only the older snapshots keep them
        Files.delete(tree.resolve("large.bin"));
        Files.delete(tree.resolve("killed-half-way.bin"));
        restic(WRITER).ok("backup", tree.toString());
        restic(WRITER).ok("forget", "--keep-last", "1", "--prune");
        assertEquals(1, snapshots());
        long used = repositoryInfo().get("quotaUsed").asLong();
        ResticHttp admin = http.withAuthorization("Bearer " + ADMIN);
        // the repository's scheduled compaction (the service checks every 200 ms in tests) reclaims it
        ResticHttp.Response patched = admin.send("PATCH", "/repos/" + repo,
                HttpRequest.BodyPublishers.ofString("{\"maintenance\": {\"compactionIntervalSeconds\": 3600, \"compactionThreshold\": 0.1}}"),
                Map.of("Content-Type", "application/json"));
        assertEquals(200, patched.status(), patched.text());
        JsonNode last = Poll.until("the scheduled compaction ran", Duration.ofSeconds(120),
                () -> repositoryInfo().get("lastCompaction"), node -> !node.isNull());
        long freed = last.get("bytesFreed").asLong();
        assertTrue(freed > LARGE + 20_000_000, "compaction freed the pruned packs: " + last);
        long after = repositoryInfo().get("quotaUsed").asLong();
        assertTrue(after < used - LARGE - 20_000_000, "quota use " + used + " -> " + after);
        restic(READER).ok("--no-lock", "check", "--read-data");
        TestTree.assertSame(tree, restore("latest"));
    }

    @Test
    @Order(8)
    void borgCheckAcceptsTheRepository() throws Exception {
        Path dir = DATA_DIR.resolve(repo);
        repositories.destroy(); // closes every repository as a shutdown does: checkpoint written, Borg's lock released
        Path base = Files.createDirectories(work.resolve("borg-base"));
        ProcessBuilder b = new ProcessBuilder("borg", "check", "--repository-only", "--info", dir.toString())
                .redirectErrorStream(true);
        b.environment().put("BORG_BASE_DIR", base.toString());
        Process p;
        try {
            p = b.start();
        } catch (IOException e) {
            throw new AssertionError("borg is not installed (apt-get install borgbackup): " + e.getMessage(), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "borg check --repository-only on restic's repository:\n" + out);
        assertTrue(out.contains("no problems found"), out);
        List<String> segments = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir.resolve("data"))) {
            walk.filter(Files::isRegularFile).forEach(f -> segments.add(f.getFileName().toString()));
        }
        assertTrue(!segments.isEmpty());
    }
}
