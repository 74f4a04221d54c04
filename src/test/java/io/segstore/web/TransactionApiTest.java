package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Transactions over HTTP: isolation, the writer lease, expiry, keep, doom, parallel writers. */
class TransactionApiTest extends ServiceTestBase {

    private String begin(String repo) {
        ApiClient.Response r = api.post("/repos/" + repo + "/transactions", null);
        assertEquals(201, r.status(), r.text());
        return r.json().get("id").asText();
    }

    private static Map<String, String> in(String txn) {
        return Map.of(SegstoreHeaders.TRANSACTION, txn);
    }

    @Test
    void otherClientsSeeNothingUntilTheCommitAndTheTransactionSeesItsOwnWrites() {
        String repo = createRepository();
        api.put("/repos/" + repo + "/objects/" + id(1), "old".getBytes(StandardCharsets.UTF_8));
        ApiClient.Response begun = api.post("/repos/" + repo + "/transactions", "{\"leaseSeconds\": 20}");
        assertEquals(201, begun.status());
        JsonNode t = begun.json();
        String txn = t.get("id").asText();
        assertEquals("/repos/" + repo + "/transactions/" + txn, begun.header("Location"));
        assertEquals(20, t.get("leaseSeconds").asLong());
        assertNotNull(t.get("expiresAt").asText());
        long base = t.get("baseTransactionId").asLong();

        assertEquals(204, api.put("/repos/" + repo + "/objects/" + id(1), "new".getBytes(StandardCharsets.UTF_8), in(txn)).status());
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(2), "two".getBytes(StandardCharsets.UTF_8), in(txn)).status());
        assertEquals(204, api.delete("/repos/" + repo + "/objects/" + id(1), in(txn)).status());
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(1), "newer".getBytes(StandardCharsets.UTF_8), in(txn)).status());

        assertEquals("old", api.get("/repos/" + repo + "/objects/" + id(1)).text(), "others see the committed object");
        assertEquals(404, api.get("/repos/" + repo + "/objects/" + id(2)).status(), "others do not see an uncommitted one");
        assertEquals("newer", api.get("/repos/" + repo + "/objects/" + id(1), in(txn)).text(), "the transaction sees its own writes");
        assertEquals("3", api.head("/repos/" + repo + "/objects/" + id(2), in(txn)).header("Content-Length"));
        assertEquals(1, api.get("/repos/" + repo + "/objects").json().get("objects").size());
        assertEquals(2, api.get("/repos/" + repo + "/objects", in(txn)).json().get("objects").size());
        assertEquals(1, api.post("/repos/" + repo + "/objects/exists", "{\"ids\": [\"" + id(2) + "\"]}", in(txn)).json().get("present").size());
        assertEquals(0, api.post("/repos/" + repo + "/objects/exists", "{\"ids\": [\"" + id(2) + "\"]}").json().get("present").size());

        JsonNode status = api.get("/repos/" + repo + "/transactions/" + txn).json();
        assertEquals("open", status.get("state").asText());
        assertEquals(3, status.get("puts").asLong());
        assertEquals(1, status.get("deletes").asLong());

        ApiClient.Response committed = api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null);
        assertEquals(200, committed.status(), committed.text());
        assertTrue(committed.json().get("transactionId").asLong() > base);
        assertEquals("newer", api.get("/repos/" + repo + "/objects/" + id(1)).text());
        assertEquals("two", api.get("/repos/" + repo + "/objects/" + id(2)).text());
        assertEquals(committed.json().get("transactionId").asLong(), api.get("/repos/" + repo).json().get("transactionId").asLong());

        ApiClient.Response again = api.put("/repos/" + repo + "/objects/" + id(3), new byte[1], in(txn));
        assertEquals(409, again.status());
        assertEquals("transaction-ended", again.problem());
    }

    @Test
    void rollbackDiscardsEverything() {
        String repo = createRepository();
        String txn = begin(repo);
        api.put("/repos/" + repo + "/objects/" + id(1), new byte[10], in(txn));
        assertEquals(204, api.post("/repos/" + repo + "/transactions/" + txn + "/rollback", null).status());
        assertEquals(404, api.get("/repos/" + repo + "/objects/" + id(1)).status());
        assertEquals("transaction-ended", api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).problem());
        assertEquals("transaction-not-found", api.get("/repos/" + repo + "/transactions/nosuchtransaction").problem());
        assertEquals(201, api.post("/repos/" + repo + "/transactions", null).status(), "the writer is free again");
    }

    @Test
    void theWriterIsExclusiveAndWaitersGetItWhenItIsFree() throws Exception {
        String repo = createRepository();
        String txn = begin(repo);
        ApiClient.Response busy = api.post("/repos/" + repo + "/transactions", null);
        assertEquals(423, busy.status());
        assertEquals("locked", busy.problem());
        assertNotNull(busy.header("Retry-After"));
        ApiClient.Response auto = api.put("/repos/" + repo + "/objects/" + id(5), new byte[1]);
        assertEquals(423, auto.status(), "an autocommit needs the writer too");

        ExecutorService pool = Executors.newFixedThreadPool(1);
        try {
            // a begin that may wait gets the writer as soon as the holder commits
            Future<ApiClient.Response> waiter = pool.submit(() -> api.post("/repos/" + repo + "/transactions", null,
                    Map.of(SegstoreHeaders.LOCK_WAIT, "20")));
            awaitWritersWaiting(repo, 1, waiter);
            assertEquals(200, api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).status());
            ApiClient.Response waited = waiter.get();
            assertEquals(201, waited.status(), waited.text());
            String second = waited.json().get("id").asText();

            // and so does an autocommit PUT that may wait
            Future<ApiClient.Response> autoWaiter = pool.submit(() -> api.put("/repos/" + repo + "/objects/" + id(6), new byte[1],
                    Map.of(SegstoreHeaders.LOCK_WAIT, "20")));
            awaitWritersWaiting(repo, 1, autoWaiter);
            assertEquals(200, api.post("/repos/" + repo + "/transactions/" + second + "/commit", null).status());
            ApiClient.Response autoWaited = autoWaiter.get();
            assertEquals(201, autoWaited.status(), autoWaited.text());
            assertEquals(200, api.get("/repos/" + repo + "/objects/" + id(6)).status());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Polls the repository until {@code n} callers wait for its writer (the server reports it). */
    private void awaitWritersWaiting(String repo, int n, Future<ApiClient.Response> caller) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (api.get("/repos/" + repo).json().get("writersWaiting").asInt() < n) {
            if (caller.isDone()) {
                fail("the caller did not wait for the writer: " + caller.get().status() + " " + caller.get().text());
            }
            assertTrue(System.nanoTime() < deadline, "no caller started waiting for the writer");
            Thread.onSpinWait();
        }
    }

    @Test
    void anIdleLeaseExpiresAndIsRolledBack() {
        String repo = createRepository();
        String txn = api.post("/repos/" + repo + "/transactions", "{\"leaseSeconds\": 1}").json().get("id").asText();
        api.put("/repos/" + repo + "/objects/" + id(1), new byte[4], in(txn));
        long deadline = System.nanoTime() + 20_000_000_000L;
        ApiClient.Response status;
        do {
            status = api.send("POST", "/repos/" + repo + "/transactions", null, Map.of(SegstoreHeaders.LOCK_WAIT, "1"));
        } while (status.status() == 423 && System.nanoTime() < deadline);
        assertEquals(201, status.status(), "the writer is free once the idle lease expired");
        ApiClient.Response late = api.put("/repos/" + repo + "/objects/" + id(2), new byte[1], in(txn));
        assertEquals(409, late.status());
        assertEquals("transaction-expired", late.problem());
        assertEquals(404, api.get("/repos/" + repo + "/objects/" + id(1)).status(), "its writes were rolled back");
        api.post("/repos/" + repo + "/transactions/" + status.json().get("id").asText() + "/rollback", null);
    }

    @Test
    void commitWithKeepGoesOnHoldingTheWriter() {
        String repo = createRepository();
        String txn = begin(repo);
        api.put("/repos/" + repo + "/objects/" + id(1), new byte[1], in(txn));
        ApiClient.Response first = api.post("/repos/" + repo + "/transactions/" + txn + "/commit", "{\"keep\": true}");
        assertEquals(200, first.status(), first.text());
        long t1 = first.json().get("transactionId").asLong();
        assertEquals(txn, first.json().get("next").get("id").asText(), "the lease keeps its id");
        assertEquals(t1, first.json().get("next").get("baseTransactionId").asLong());
        assertEquals(200, api.get("/repos/" + repo + "/objects/" + id(1)).status(), "the first part is committed");
        assertEquals(423, api.post("/repos/" + repo + "/transactions", null).status(), "nobody got in between");
        api.put("/repos/" + repo + "/objects/" + id(2), new byte[1], in(txn));
        assertEquals(200, api.post("/repos/" + repo + "/transactions/" + txn + "/renew", null).status());
        long t2 = api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).json().get("transactionId").asLong();
        assertTrue(t2 > t1);
        assertEquals(200, api.get("/repos/" + repo + "/objects/" + id(2)).status());
    }

    @Test
    void aPutOverTheQuotaDoomsItsTransaction() {
        String repo = createRepository("{\"storageQuota\": 1000}");
        String txn = begin(repo);
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(1), new byte[500], in(txn)).status());
        ApiClient.Response over = api.put("/repos/" + repo + "/objects/" + id(2), new byte[500], in(txn));
        assertEquals(507, over.status());
        assertEquals("quota-exceeded", over.problem());
        ApiClient.Response after = api.put("/repos/" + repo + "/objects/" + id(3), new byte[1], in(txn));
        assertEquals(409, after.status());
        assertEquals("transaction-doomed", after.problem());
        ApiClient.Response commit = api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null);
        assertEquals(409, commit.status());
        assertEquals("transaction-doomed", commit.problem());
        assertEquals(0, api.get("/repos/" + repo).json().get("objects").asLong());
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(1), new byte[500]).status(), "an autocommit within the quota works");
        long committed = api.get("/repos/" + repo).json().get("transactionId").asLong();
        ApiClient.Response autoOver = api.put("/repos/" + repo + "/objects/" + id(2), new byte[500]);
        assertEquals(507, autoOver.status());
        assertEquals(1, api.get("/repos/" + repo).json().get("objects").asLong());
        assertEquals(404, api.delete("/repos/" + repo + "/objects/" + id(77)).status());
        assertEquals(committed, api.get("/repos/" + repo).json().get("transactionId").asLong(),
                "refused autocommits commit nothing, not even an empty transaction");
    }

    @Test
    void manyRequestsWriteIntoOneTransactionAtOnce() throws Exception {
        String repo = createRepository();
        String txn = begin(repo);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Integer>> results = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            int base = w * 40;
            results.add(pool.submit(() -> {
                int ok = 0;
                for (int i = base; i < base + 40; i++) {
                    if (api.put("/repos/" + repo + "/objects/" + id(i), ("v" + i).getBytes(StandardCharsets.UTF_8), in(txn)).status() == 201) {
                        ok++;
                    }
                }
                return ok;
            }));
        }
        int total = 0;
        for (Future<Integer> f : results) {
            total += f.get();
        }
        pool.shutdown();
        assertEquals(320, total);
        assertEquals(200, api.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).status());
        Set<String> listed = new HashSet<>();
        api.get("/repos/" + repo + "/objects?limit=1000").json().get("objects").forEach(o -> listed.add(o.get("id").asText()));
        assertEquals(320, listed.size());
        assertEquals("v77", api.get("/repos/" + repo + "/objects/" + id(77)).text());
    }

    @Test
    void badTransactionRequestsAreProblems() {
        String repo = createRepository();
        assertEquals("bad-parameter", api.post("/repos/" + repo + "/transactions", "{\"leaseSeconds\": 0}").problem());
        assertEquals("bad-parameter", api.post("/repos/" + repo + "/transactions", "{\"leaseSeconds\": 999999999}").problem());
        assertEquals("bad-parameter", api.send("POST", "/repos/" + repo + "/transactions", null,
                Map.of(SegstoreHeaders.LOCK_WAIT, "-1")).problem());
        assertEquals("transaction-not-found", api.put("/repos/" + repo + "/objects/" + id(1), new byte[1], in("bogus")).problem());
    }
}
