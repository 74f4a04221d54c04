package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Grouped autocommits against a service in a process of its own, killed with SIGKILL while 32
 * clients are writing: every PUT that was acknowledged is there after the restart, byte for byte,
 * and nothing else is.
 */
class AutocommitDurabilityTest {

    private static final int CLIENTS = 32;

    @TempDir
    Path tmp;

    private static byte[] body(int client, int n) {
        byte[] b = new byte[512 + new Random(client * 100_003L + n).nextInt(3584)];
        new Random(client * 7_919L + n).nextBytes(b);
        return b;
    }

    private static String objectId(int client, int n) {
        return String.format("%032x%032x", client + 1, n);
    }

    @Test
    void everyAcknowledgedAutocommitSurvivesAKilledServiceAndConcurrentOnesShareCommits() throws Exception {
        Path data = tmp.resolve("data");
        ServiceProcess first = ServiceProcess.start(data, tmp.resolve("first.log"));
        ApiClient api = new ApiClient(first.port);
        assertEquals(201, api.putJson("/repos/backups", "{}").status());

        Map<String, byte[]> acknowledged = new ConcurrentHashMap<>();
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        Set<String> commits = ConcurrentHashMap.newKeySet();
        CountDownLatch enough = new CountDownLatch(CLIENTS * 10);
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            clients.add(pool.submit(() -> {
                for (int n = 0; ; n++) {
                    String id = objectId(client, n);
                    byte[] b = body(client, n);
                    attempted.add(id);
                    ApiClient.Response r;
                    try {
                        r = api.put("/repos/backups/objects/" + id, b);
                    } catch (UncheckedIOException e) {
                        return; // the service was killed under this request: not acknowledged
                    }
                    assertEquals(201, r.status(), r.text());
                    commits.add(r.header(ObjectController.COMMITTED));
                    acknowledged.put(id, b);
                    enough.countDown();
                }
            }));
        }
        assertTrue(enough.await(5, TimeUnit.MINUTES), "the clients could not store enough objects");
        first.kill();
        for (Future<?> f : clients) {
            f.get(2, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertTrue(commits.size() < acknowledged.size(),
                "concurrent autocommits share commits: " + commits.size() + " commits for " + acknowledged.size() + " objects");

        ServiceProcess second = ServiceProcess.start(data, tmp.resolve("second.log"));
        try {
            ApiClient after = new ApiClient(second.port);
            for (Map.Entry<String, byte[]> e : acknowledged.entrySet()) {
                ApiClient.Response r = after.get("/repos/backups/objects/" + e.getKey());
                assertEquals(200, r.status(), "acknowledged object " + e.getKey() + " is lost");
                assertArrayEquals(e.getValue(), r.body());
            }
            long stored = after.get("/repos/backups").json().get("objects").asLong();
            assertTrue(stored >= acknowledged.size() && stored <= attempted.size(),
                    stored + " objects stored, " + acknowledged.size() + " acknowledged, " + attempted.size() + " attempted");
            ApiClient.Response listing = after.get("/repos/backups/objects?limit=10000");
            listing.json().get("objects").forEach(o -> assertTrue(attempted.contains(o.get("id").asText()), "unknown object " + o));
        } finally {
            second.stop();
        }
    }
}
