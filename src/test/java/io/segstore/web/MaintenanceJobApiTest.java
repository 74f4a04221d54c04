package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.testing.Poll;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Compaction, check and repair as jobs: 202 with a Location, progress while running, a result when done. */
class MaintenanceJobApiTest extends ServiceTestBase {

    private static byte[] data(int i) {
        byte[] b = new byte[2000 + i % 700];
        new Random(i).nextBytes(b);
        return b;
    }

    private void fill(String repo, int n) {
        String txn = api.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        for (int i = 0; i < n; i++) {
            assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(i), data(i), java.util.Map.of(SegstoreHeaders.TRANSACTION, txn)).status());
        }
        assertEquals(200, api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).status());
    }

    /** Starts a job, checks the 202 answer and follows its Location until the job ends. */
    private JsonNode run(String path, String body) {
        ApiClient.Response started = api.post(path, body);
        assertEquals(202, started.status(), started.text());
        String location = started.header("Location");
        assertNotNull(location, "a job answers with its Location");
        assertEquals(location, path.substring(0, path.lastIndexOf('/')) + "/jobs/" + started.json().get("id").asText());
        return Poll.until("the job finished", java.time.Duration.ofMinutes(2), () -> {
            JsonNode job = api.get(location).json();
            int progress = job.get("progress").asInt();
            assertTrue(progress >= 0 && progress <= 100, "progress is a percentage: " + progress);
            return job;
        }, job -> job.get("state").asText().matches("succeeded|failed"));
    }

    @Test
    void compactionJobFreesTheSpaceOfDeletedObjectsAndKeepsTheRest() {
        String repo = createRepository("{\"maxSegmentSize\": 65536}");
        fill(repo, 120);
        for (int i = 0; i < 100; i++) {
            assertEquals(204, api.delete("/repos/" + repo + "/objects/" + id(i)).status());
        }
        JsonNode before = api.get("/repos/" + repo).json();
        assertTrue(before.get("sparseBytes").asLong() > 100 * 2000, before.toString());

        JsonNode job = run("/repos/" + repo + "/compaction", "{\"threshold\": 0.0}");
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertEquals(100, job.get("progress").asInt());
        assertTrue(job.get("result").get("bytesFreed").asLong() >= 100 * 2000, job.toString());
        assertTrue(job.get("result").get("segmentsCompacted").asLong() > 0, job.toString());

        JsonNode after = api.get("/repos/" + repo).json();
        assertTrue(after.get("sparseBytes").asLong() < before.get("sparseBytes").asLong() / 10, after.toString());
        assertTrue(after.get("quotaUsed").asLong() < before.get("quotaUsed").asLong(), after.toString());
        assertEquals(20, after.get("objects").asLong());
        for (int i = 100; i < 120; i++) {
            assertArrayEquals(data(i), api.get("/repos/" + repo + "/objects/" + id(i)).body());
        }
        for (int i = 0; i < 100; i += 17) {
            assertEquals(404, api.get("/repos/" + repo + "/objects/" + id(i)).status(), "a deleted object stays deleted");
        }
    }

    @Test
    void fullAndPartialChecksOfAHealthyRepositoryFindNothingAndAreRecorded() {
        String repo = createRepository();
        fill(repo, 50);
        JsonNode full = run("/repos/" + repo + "/checks", null);
        assertEquals("succeeded", full.get("state").asText(), full.toString());
        assertEquals("check", full.get("kind").asText());
        assertTrue(full.get("result").get("ok").asBoolean(), full.toString());
        assertEquals(0, full.get("result").get("errors").size());
        assertEquals("full", full.get("result").get("mode").asText());

        JsonNode lastCheck = api.get("/repos/" + repo).json().get("lastCheck");
        assertNotNull(lastCheck, "the repository reports its last check");
        assertEquals("full", lastCheck.get("mode").asText(), lastCheck.toString());
        assertEquals(0, lastCheck.get("errors").asInt());
        assertFalse(lastCheck.get("time").asText().isEmpty());

        JsonNode partial = run("/repos/" + repo + "/checks", "{\"maxDurationSeconds\": 60}");
        assertEquals("succeeded", partial.get("state").asText(), partial.toString());
        assertEquals("partial", partial.get("result").get("mode").asText());
        assertTrue(partial.get("result").get("ok").asBoolean());
        assertTrue(partial.get("result").get("finished").asBoolean(), "a small repository is checked in one go");
        assertEquals("partial", api.get("/repos/" + repo).json().get("lastCheck").get("mode").asText());
    }

    @Test
    void checkFindsADamagedSegmentAndRepairSalvagesEverythingElse() throws IOException {
        String repo = createRepository("{\"maxSegmentSize\": 32768}");
        fill(repo, 60);
        Path victim = largestSegment(DATA_DIR.resolve(repo));
        try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
        JsonNode check = run("/repos/" + repo + "/checks", "{}");
        assertEquals("succeeded", check.get("state").asText(), "the job ran; what it found is its result: " + check);
        assertFalse(check.get("result").get("ok").asBoolean(), check.toString());
        assertTrue(check.get("result").get("errors").size() > 0);

        int unreadable = 0;
        for (int i = 0; i < 60; i++) {
            ApiClient.Response r = api.get("/repos/" + repo + "/objects/" + id(i));
            if (r.status() == 200) {
                assertArrayEquals(data(i), r.body(), "a read never serves damaged bytes");
            } else {
                assertEquals("integrity-error", r.problem());
                unreadable++;
            }
        }
        assertTrue(unreadable > 0, "the flipped byte lies in some object");

        JsonNode repair = run("/repos/" + repo + "/checks", "{\"repair\": true}");
        assertEquals("succeeded", repair.get("state").asText(), repair.toString());
        assertEquals("repair", repair.get("kind").asText());
        assertTrue(repair.get("result").get("entriesSalvaged").asLong() > 0, repair.toString());

        int kept = 0;
        for (int i = 0; i < 60; i++) {
            ApiClient.Response r = api.get("/repos/" + repo + "/objects/" + id(i));
            if (r.status() == 200) {
                assertArrayEquals(data(i), r.body());
                kept++;
            } else {
                assertEquals("object-not-found", r.problem(), "repair drops what it could not salvage");
            }
        }
        assertEquals(60 - unreadable, kept, "repair keeps every intact object");
        JsonNode again = run("/repos/" + repo + "/checks", null);
        assertTrue(again.get("result").get("ok").asBoolean(), "clean after the repair: " + again);
    }

    @Test
    void aRepositoryDamagedWhileNoOneServedItNeedsACheckAndRepairBringsItBack() throws IOException {
        String repo = repoName();
        Path dir = DATA_DIR.resolve(repo);
        try (io.segstore.engine.Repository engine = io.segstore.engine.Repository.create(dir, io.segstore.engine.CreateOptions.defaults(),
                io.segstore.engine.OpenOptions.defaults())) {
            for (int round = 0; round < 3; round++) {
                try (io.segstore.engine.Transaction t = engine.begin()) {
                    for (int i = round * 10; i < round * 10 + 10; i++) {
                        t.put(io.segstore.engine.ObjectId.parse(id(i)), data(i));
                    }
                    t.commit();
                }
            }
        }
        // the newest commit segment: its COMMIT is intact, the bytes before it are not
        Path last;
        try (Stream<Path> walk = Files.walk(dir.resolve("data"))) {
            last = walk.filter(Files::isRegularFile).max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString()))).orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
            f.seek(1);
            f.write(f.read() ^ 0x01);
        }

        JsonNode info = api.get("/repos/" + repo).json();
        assertNotNull(info.get("checkNeeded").asText(null), "the service found the repository and reports why it needs a check: " + info);
        ApiClient.Response read = api.get("/repos/" + repo + "/objects/" + id(1));
        assertEquals(503, read.status());
        assertEquals("check-needed", read.problem());
        assertEquals("check-needed", api.put("/repos/" + repo + "/objects/" + id(99), new byte[1]).problem(), "nor may it be written");

        JsonNode repair = run("/repos/" + repo + "/checks", "{\"repair\": true}");
        assertEquals("succeeded", repair.get("state").asText(), repair.toString());
        for (int i = 0; i < 30; i++) {
            assertArrayEquals(data(i), api.get("/repos/" + repo + "/objects/" + id(i)).body(), "object " + i + " after the repair");
        }
        assertTrue(api.get("/repos/" + repo).json().get("checkNeeded").isNull());
    }

    @Test
    void jobErrorsAreProblems() {
        String repo = createRepository();
        ApiClient.Response unknown = api.get("/repos/" + repo + "/jobs/no-such-job");
        assertEquals(404, unknown.status());
        assertEquals("job-not-found", unknown.problem());
        ApiClient.Response badThreshold = api.post("/repos/" + repo + "/compaction", "{\"threshold\": 2.5}");
        assertEquals(400, badThreshold.status());
        assertEquals("bad-parameter", badThreshold.problem());
        ApiClient.Response badDuration = api.post("/repos/" + repo + "/checks", "{\"maxDurationSeconds\": -3}");
        assertEquals(400, badDuration.status());
        assertEquals("bad-parameter", badDuration.problem());
        ApiClient.Response partialRepair = api.post("/repos/" + repo + "/checks", "{\"repair\": true, \"maxDurationSeconds\": 10}");
        assertEquals(400, partialRepair.status(), "Borg refuses a partial repair");
        assertEquals("bad-parameter", partialRepair.problem());
        assertEquals("repository-not-found", api.post("/repos/nothere/checks", null).problem());
    }

    @Test
    void compactionOfAnAppendOnlyRepositoryFreesNothing() {
        String repo = createRepository("{\"appendOnly\": true}");
        fill(repo, 10);
        for (int i = 0; i < 10; i++) {
            api.delete("/repos/" + repo + "/objects/" + id(i));
        }
        long segments = api.get("/repos/" + repo).json().get("segments").asLong();
        JsonNode job = run("/repos/" + repo + "/compaction", null);
        assertEquals("succeeded", job.get("state").asText(), job.toString());
        assertEquals(0, job.get("result").get("bytesFreed").asLong());
        assertEquals(segments, api.get("/repos/" + repo).json().get("segments").asLong(), "append-only keeps every segment");
    }

    private static Path largestSegment(Path repo) throws IOException {
        try (Stream<Path> walk = Files.walk(repo.resolve("data"))) {
            List<Path> files = walk.filter(Files::isRegularFile).toList();
            return files.stream().max(Comparator.comparingLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            })).orElseThrow();
        }
    }
}
