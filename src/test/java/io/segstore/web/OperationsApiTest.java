package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.testing.Poll;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * What operators look at and do: health and its probe groups, the repositories endpoint,
 * Prometheus metrics, build info, scheduled maintenance, and bringing back an earlier
 * transaction of an append-only repository.
 */
class OperationsApiTest extends ServiceTestBase {

    private void eventually(String what, BooleanSupplier condition) {
        Poll.until(what, java.time.Duration.ofSeconds(60), condition);
    }

    @Test
    void aRepositoryNearItsQuotaIsDownInHealthButNeverInTheProbes() {
        String repo = createRepository("{\"storageQuota\": 2000}");
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(1), new byte[1950]).status());
        JsonNode health = api.get("/actuator/health").json();
        JsonNode mine = health.get("components").get("repositories").get("components").get(repo);
        assertEquals("DOWN", mine.get("status").asText(), mine.toString());
        assertTrue(mine.get("details").get("problems").toString().contains("quota"), mine.toString());

        ApiClient.Response liveness = api.get("/actuator/health/liveness");
        ApiClient.Response readiness = api.get("/actuator/health/readiness");
        assertEquals(200, liveness.status());
        assertEquals(200, readiness.status(), readiness.text());
        JsonNode ready = readiness.json().get("components");
        assertEquals("UP", ready.get("repositoriesOpened").get("status").asText());
        assertEquals("UP", ready.get("dataDirectory").get("status").asText());
        assertEquals("UP", ready.get("readinessState").get("status").asText());
        assertFalse(ready.has("repositories"), "a repository's health is not part of readiness");
    }

    @Test
    void theRepositoriesEndpointShowsQuotaSegmentsTheOpenTransactionAndTheLastJobs() {
        String repo = createRepository("{\"storageQuota\": 1000000}");
        api.put("/repos/" + repo + "/objects/" + id(1), new byte[100]);
        api.delete("/repos/" + repo + "/objects/" + id(1));
        String txn = api.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        JsonNode r = api.get("/actuator/repositories/" + repo).json();
        assertEquals(1000000, r.get("quotaLimit").asLong());
        assertTrue(r.get("quotaUsed").asLong() >= 100);
        assertTrue(r.get("segments").asLong() > 0);
        assertTrue(r.get("segmentBytes").asLong() > 100);
        assertTrue(r.get("sparseBytes").asLong() > 0);
        assertEquals(0, r.get("objects").asLong());
        assertEquals(txn, r.get("openTransactions").get(0).get("id").asText());
        assertEquals("local", r.get("openTransactions").get(0).get("owner").asText());
        assertTrue(r.get("lastCheck").isNull());
        api.post("/repos/" + repo + "/transactions/" + txn + "/rollback", null);

        String job = api.post("/repos/" + repo + "/compaction", "{\"threshold\": 0}").header("Location");
        eventually("compaction finished", () -> api.get(job).json().get("state").asText().equals("succeeded"));
        JsonNode after = api.get("/actuator/repositories/" + repo).json();
        assertTrue(after.get("lastCompaction").get("bytesFreed").asLong() > 0, after.toString());
        assertTrue(api.get("/actuator/repositories").json().get("repositories").has(repo));
        assertEquals(404, api.get("/actuator/repositories/no-such-repository").status());
    }

    @Test
    void prometheusShowsLatencyHistogramsAndGaugesPerRepository() {
        String repo = createRepository();
        for (int i = 0; i < 5; i++) {
            assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(i), new byte[1000]).status());
        }
        assertEquals(200, api.get("/repos/" + repo + "/objects/" + id(1)).status());
        String metrics = api.get("/actuator/prometheus").text();
        String label = "repository=\"" + repo + "\"";
        for (String series : new String[] {"segstore_commit_seconds_bucket", "segstore_fsync_seconds_count", "segstore_put_seconds_count",
                "segstore_get_seconds_bucket", "segstore_written_bytes_total", "segstore_read_bytes_total", "segstore_commit_bytes_sum",
                "segstore_repository_objects", "segstore_repository_segments", "segstore_repository_quota_used_bytes",
                "segstore_repository_sparse_bytes", "segstore_repository_check_errors", "segstore_repository_transactions_open"}) {
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith(series + "{") && l.contains(label)), series + " for " + repo);
        }
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("segstore_repository_objects{") && l.contains(label) && l.endsWith(" 5.0")),
                "5 objects");
        assertTrue(metrics.contains("segstore_jobs_running{kind=\"check\"}"));
        assertTrue(metrics.contains("http_server_requests_seconds_bucket{"), "request latency histograms");
        assertFalse(metrics.contains("uri=\"/repos/" + repo), "requests are labelled by route, not by path");
    }

    @Test
    void everySeriesTheGrafanaDashboardPlotsIsExported() throws Exception {
        String repo = createRepository();
        api.put("/repos/" + repo + "/objects/" + id(1), new byte[10]);
        api.get("/repos/" + repo + "/objects/" + id(1));
        String dashboard = java.nio.file.Files.readString(java.nio.file.Path.of("helm/segstore/dashboards/segstore.json"));
        String metrics = api.get("/actuator/prometheus").text();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-z_]+)\\{job=").matcher(dashboard);
        java.util.Set<String> names = new java.util.TreeSet<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        assertTrue(names.size() > 10, names.toString());
        for (String name : names) {
            assertTrue(metrics.contains("\n" + name + "{") || metrics.contains("\n" + name + " "), "the dashboard plots " + name
                    + ", which the service does not export");
        }
    }

    @Test
    void infoNamesTheBuild() {
        JsonNode info = api.get("/actuator/info").json();
        assertEquals("segstore", info.get("build").get("artifact").asText());
        assertNotNull(info.get("build").get("version"));
        assertNotNull(info.get("java").get("version"));
    }

    @Test
    void scheduledChecksAndCompactionsRunWhenDue() {
        String repo = createRepository("{\"maxSegmentSize\": 16384}");
        for (int i = 0; i < 20; i++) {
            api.put("/repos/" + repo + "/objects/" + id(i), new byte[3000]);
        }
        for (int i = 0; i < 20; i += 2) {
            api.delete("/repos/" + repo + "/objects/" + id(i));
        }
        long sparse = api.get("/repos/" + repo).json().get("sparseBytes").asLong();
        assertTrue(sparse > 0);
        JsonNode patched = api.patch("/repos/" + repo, "{\"maintenance\": {\"checkIntervalSeconds\": 3600, \"checkMaxDurationSeconds\": 30, "
                + "\"compactionIntervalSeconds\": 3600, \"compactionThreshold\": 0.0}}").json();
        assertEquals(3600, patched.get("maintenance").get("checkIntervalSeconds").asLong());
        eventually("a scheduled partial check ran", () -> !api.get("/repos/" + repo).json().get("lastCheck").isNull());
        assertEquals("partial", api.get("/repos/" + repo).json().get("lastCheck").get("mode").asText());
        eventually("a scheduled compaction ran", () -> !api.get("/repos/" + repo).json().get("lastCompaction").isNull());
        assertTrue(api.get("/repos/" + repo).json().get("sparseBytes").asLong() < sparse);
        for (int i = 1; i < 20; i += 2) {
            assertEquals(200, api.get("/repos/" + repo + "/objects/" + id(i)).status());
        }
        assertEquals("bad-parameter", api.patch("/repos/" + repo, "{\"maintenance\": {\"compactionThreshold\": 3}}").problem());
        api.patch("/repos/" + repo, "{\"maintenance\": {\"checkIntervalSeconds\": 0, \"compactionIntervalSeconds\": 0}}");
    }

    @Test
    void anEarlierTransactionOfAnAppendOnlyRepositoryIsRestoredIntoANewOne() {
        String repo = createRepository("{\"appendOnly\": true}");
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(1), "one".getBytes()).status());
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(2), "two".getBytes()).status());
        assertEquals(204, api.delete("/repos/" + repo + "/objects/" + id(1)).status()); // e.g. a prune by an intruder
        assertEquals(204, api.put("/repos/" + repo + "/objects/" + id(2), "changed".getBytes()).status());
        JsonNode history = api.get("/repos/" + repo + "/history").json().get("transactions");
        assertEquals(4, history.size());
        long second = history.get(1).get("id").asLong();
        String into = repo + "-restored";

        ApiClient.Response started = api.post("/repos/" + repo + "/restore", "{\"transactionId\": " + second + ", \"into\": \"" + into + "\"}");
        assertEquals(202, started.status(), started.text());
        String job = started.header("Location");
        eventually("the restore finished", () -> api.get(job).json().get("state").asText().matches("succeeded|failed"));
        JsonNode result = api.get(job).json();
        assertEquals("succeeded", result.get("state").asText(), result.toString());
        assertTrue(result.get("result").get("ok").asBoolean());
        assertEquals(2, result.get("result").get("objects").asLong());

        assertArrayEquals("one".getBytes(), api.get("/repos/" + into + "/objects/" + id(1)).body());
        assertArrayEquals("two".getBytes(), api.get("/repos/" + into + "/objects/" + id(2)).body());
        assertEquals(second, api.get("/repos/" + into).json().get("transactionId").asLong());
        assertEquals(api.get("/repos/" + repo).json().get("id").asText(), api.get("/repos/" + into).json().get("id").asText());
        assertEquals(404, api.get("/repos/" + repo + "/objects/" + id(1)).status(), "the original is untouched");

        assertEquals("repository-exists", api.post("/repos/" + repo + "/restore",
                "{\"transactionId\": " + second + ", \"into\": \"" + into + "\"}").problem());
        assertEquals("bad-parameter", api.post("/repos/" + repo + "/restore",
                "{\"transactionId\": " + (second - 1) + ", \"into\": \"" + repo + "-x\"}").problem(), "not a transaction of the log");
        String plain = createRepository();
        assertEquals("bad-parameter", api.post("/repos/" + plain + "/restore", "{\"transactionId\": 1, \"into\": \"" + plain + "-x\"}").problem());
    }
}
