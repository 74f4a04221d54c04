package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM, as Kubernetes stops a pod: the open transaction is rolled back, every repository gets
 * its final checkpoint and Borg's lock is released, so the next start has nothing to replay and
 * Borg itself can open the repository at once.
 */
class GracefulShutdownTest {

    @TempDir
    Path tmp;

    @Test
    void sigtermRollsBackOpenWorkCheckpointsAndReleasesTheLocks() throws Exception {
        Path data = tmp.resolve("data");
        ServiceProcess service = ServiceProcess.start(data, tmp.resolve("service.log"));
        ApiClient api = new ApiClient(service.port);
        assertEquals(201, api.putJson("/repos/kept", "{}").status());
        String committedId = String.format("%064x", 1);
        String openId = String.format("%064x", 2);
        assertEquals(201, api.put("/repos/kept/objects/" + committedId, "committed".getBytes()).status());
        long tid = api.get("/repos/kept").json().get("transactionId").asLong();
        String txn = api.post("/repos/kept/transactions", null).json().get("id").asText();
        assertEquals(201, api.put("/repos/kept/objects/" + openId, "never committed".getBytes(), Map.of(SegstoreHeaders.TRANSACTION, txn)).status());

        service.terminate();
        String log = Files.readString(tmp.resolve("service.log"));
        assertTrue(log.contains("closed repository kept (its open transaction was rolled back)"), log);

        Path repo = data.resolve("kept");
        assertFalse(Files.exists(repo.resolve("lock.exclusive")), "Borg's lock is released");
        assertFalse(Files.exists(repo.resolve("lock.roster")), "the lock roster is gone");
        assertTrue(Files.exists(repo.resolve("index." + tid)), "the final checkpoint names the last commit");
        assertTrue(Files.exists(repo.resolve("hints." + tid)));
        // a different holder (another host, as Borg elsewhere would be) opens it at once: nothing is locked
        try (Repository r = Repository.open(repo, OpenOptions.defaults().withHostId("another-host"))) {
            assertEquals(tid, r.transactionId());
            assertArrayEquals("committed".getBytes(), r.get(ObjectId.parse(committedId)));
            assertFalse(r.contains(ObjectId.parse(openId)), "the open transaction was rolled back");
        }
    }
}
