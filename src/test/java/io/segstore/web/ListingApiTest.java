package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.testing.Poll;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Paging through a repository: every committed object exactly once, with its size, in either
 * order, however much is written, deleted and compacted while the pages are fetched.
 */
class ListingApiTest extends ServiceTestBase {

    private static final int STABLE = 400;

    /** Objects 0..STABLE-1 stay as they are; 10_000.. are churned by the concurrent writer. */
    private String stableRepository() {
        String repo = createRepository("{\"maxSegmentSize\": 65536}");
        String txn = api.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        for (int i = 0; i < STABLE; i++) {
            api.put("/repos/" + repo + "/objects/" + id(i), new byte[100 + i], Map.of(SegstoreHeaders.TRANSACTION, txn));
        }
        for (int i = 10_000; i < 10_200; i++) {
            api.put("/repos/" + repo + "/objects/" + id(i), new byte[300], Map.of(SegstoreHeaders.TRANSACTION, txn));
        }
        assertEquals(200, api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).status());
        return repo;
    }

    private Map<String, Long> listAll(String repo, String order, int limit, Runnable betweenPages) {
        Map<String, Long> seen = new HashMap<>();
        String marker = null;
        int pages = 0;
        do {
            String path = "/repos/" + repo + "/objects?order=" + order + "&limit=" + limit + (marker == null ? "" : "&marker=" + marker);
            ApiClient.Response r = api.get(path);
            assertEquals(200, r.status(), r.text());
            JsonNode page = r.json();
            assertTrue(page.get("objects").size() <= limit);
            for (JsonNode o : page.get("objects")) {
                Long before = seen.put(o.get("id").asText(), o.get("size").asLong());
                assertEquals(null, before, "listed twice: " + o);
            }
            marker = page.get("next").isNull() ? null : page.get("next").asText();
            pages++;
            betweenPages.run();
        } while (marker != null);
        assertTrue(pages > 1, "the listing took several pages");
        return seen;
    }

    @ParameterizedTest(name = "order={0}")
    @ValueSource(strings = {"index", "disk"})
    void aQuietRepositoryIsListedCompletelyWithSizes(String order) {
        String repo = stableRepository();
        Map<String, Long> all = listAll(repo, order, 37, () -> { });
        assertEquals(STABLE + 200, all.size());
        for (int i = 0; i < STABLE; i++) {
            assertEquals(100L + i, all.get(id(i)), "size of " + i);
        }
    }

    @ParameterizedTest(name = "order={0}")
    @ValueSource(strings = {"index", "disk"})
    void pagingWhileOthersWriteDeleteAndCompactListsEveryUntouchedObjectExactlyOnce(String order) throws Exception {
        String repo = stableRepository();
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger compactions = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger compactionsStarted = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger pages = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Integer> writer = pool.submit(() -> {
                int n = 0;
                while (!stop.get()) {
                    // delete a churned object, add a new one: segments fill with garbage for compaction
                    int deleted = api.delete("/repos/" + repo + "/objects/" + id(10_000 + n % 200)).status();
                    assertTrue(deleted == 204 || deleted == 404, "delete: " + deleted);
                    assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(20_000 + n), new byte[200]).status());
                    n++;
                    writes.incrementAndGet();
                }
                return n;
            });
            Future<Integer> compactor = pool.submit(() -> {
                int n = 0;
                while (!stop.get()) {
                    ApiClient.Response job = api.post("/repos/" + repo + "/compaction", "{\"threshold\": 0.0}");
                    if (job.status() == 202) {
                        compactionsStarted.incrementAndGet();
                        waitFor(job.header("Location"));
                        n++;
                        compactions.incrementAndGet();
                    } else {
                        assertEquals("too-many-jobs", job.problem());
                    }
                }
                return n;
            });
            // after the third page, wait until a compaction and some writes happened: the rest of
            // the pages are then fetched from a repository that changed under the listing. A
            // disk-order listing pins the segments of its snapshot, so there compaction can copy
            // and commit but not delete the old segments until the listing ends: wait for its start.
            Map<String, Long> listed = listAll(repo, order, 23, () -> {
                if (pages.incrementAndGet() == 3) {
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    java.util.concurrent.atomic.AtomicInteger awaited = order.equals("disk") ? compactionsStarted : compactions;
                    while (awaited.get() < 1 || writes.get() < 20) {
                        assertTrue(System.nanoTime() < deadline, "no compaction finished");
                        Thread.onSpinWait();
                    }
                }
            });
            stop.set(true);
            assertTrue(writer.get() > 0, "the writer ran while the pages were fetched");
            assertTrue(compactor.get() > 0, "compaction ran while the pages were fetched");
            for (int i = 0; i < STABLE; i++) {
                assertEquals(100L + i, listed.get(id(i)), "object " + i + " was committed before and untouched during the listing");
            }
            Set<String> current = new HashSet<>(listAll(repo, order, 250, () -> { }).keySet());
            for (String id : listed.keySet()) {
                int n = Integer.parseInt(id, 16);
                assertTrue(n < STABLE || n >= 10_000, "nothing but stored objects is listed: " + id);
            }
            assertTrue(current.containsAll(stableIds()));
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    @Test
    void diskOrderListingsInProgressAreBoundedPerRepository() {
        String repo = stableRepository();
        List<String> markers = new ArrayList<>();
        for (int i = 0; i < 4; i++) { // the test server allows 4 per repository
            markers.add(api.get("/repos/" + repo + "/objects?order=disk&limit=10").json().get("next").asText());
        }
        ApiClient.Response refused = api.get("/repos/" + repo + "/objects?order=disk&limit=10");
        assertEquals(429, refused.status());
        assertEquals("too-many-requests", refused.problem());
        assertTrue(refused.header("Retry-After") != null);
        assertEquals(200, api.get("/repos/" + repo + "/objects?order=index&limit=10").status(), "index order pins nothing");
        // finishing one makes room
        String marker = markers.get(0);
        while (marker != null) {
            JsonNode page = api.get("/repos/" + repo + "/objects?order=disk&limit=1000&marker=" + marker).json();
            marker = page.get("next").isNull() ? null : page.get("next").asText();
        }
        assertEquals(200, api.get("/repos/" + repo + "/objects?order=disk&limit=10").status());
    }

    @Test
    void badMarkersAndOrdersAreProblems() {
        String repo = stableRepository();
        ApiClient.Response badOrder = api.get("/repos/" + repo + "/objects?order=random");
        assertEquals(400, badOrder.status());
        assertEquals("bad-parameter", badOrder.problem());
        ApiClient.Response badLimit = api.get("/repos/" + repo + "/objects?limit=0");
        assertEquals("bad-parameter", badLimit.problem());
        ApiClient.Response badMarker = api.get("/repos/" + repo + "/objects?order=disk&marker=!!notamarker");
        assertEquals(400, badMarker.status());
        assertEquals("bad-marker", badMarker.problem());
        ApiClient.Response badIndexMarker = api.get("/repos/" + repo + "/objects?order=index&marker=zz");
        assertEquals(400, badIndexMarker.status());
    }

    @Test
    void aTransactionListsItsOwnWritesAndOthersDoNot() {
        String repo = stableRepository();
        String txn = api.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        api.put("/repos/" + repo + "/objects/" + id(50_000), new byte[7], Map.of(SegstoreHeaders.TRANSACTION, txn));
        api.delete("/repos/" + repo + "/objects/" + id(0), Map.of(SegstoreHeaders.TRANSACTION, txn));
        JsonNode own = api.get("/repos/" + repo + "/objects?limit=10000", Map.of(SegstoreHeaders.TRANSACTION, txn)).json();
        List<String> ownIds = new ArrayList<>();
        own.get("objects").forEach(o -> ownIds.add(o.get("id").asText()));
        assertTrue(ownIds.contains(id(50_000)));
        assertTrue(!ownIds.contains(id(0)));
        JsonNode others = api.get("/repos/" + repo + "/objects?limit=10000").json();
        List<String> otherIds = new ArrayList<>();
        others.get("objects").forEach(o -> otherIds.add(o.get("id").asText()));
        assertTrue(!otherIds.contains(id(50_000)), "uncommitted objects are invisible to others");
        assertTrue(otherIds.contains(id(0)), "an uncommitted delete is invisible to others");
        api.post("/repos/" + repo + "/transactions/" + txn + "/rollback", null);
    }

    private static Set<String> stableIds() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < STABLE; i++) {
            ids.add(id(i));
        }
        return ids;
    }

    private void waitFor(String location) {
        Poll.until("the compaction job finished", java.time.Duration.ofSeconds(120),
                () -> api.get(location).json().get("state").asText().matches("succeeded|failed"));
    }
}
