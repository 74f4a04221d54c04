package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import io.segstore.testing.Poll;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service listens (liveness UP) before its repositories are open, and is not ready until
 * they are: here one repository's Borg lock is held by another process (this test), so opening it
 * waits; readiness turns UP once the lock is let go and the repository opened.
 */
class StartupReadinessTest {

    @TempDir
    Path tmp;

    @Test
    void readinessWaitsForTheRepositoriesFoundAtStartUp() throws Exception {
        Path data = tmp.resolve("data");
        java.nio.file.Files.createDirectories(data);
        ObjectId id = ObjectId.parse(String.format("%064x", 7));
        Repository held = Repository.create(data.resolve("busy"), CreateOptions.defaults(), OpenOptions.defaults().withHostId("elsewhere"));
        try (Transaction t = held.begin()) {
            t.put(id, "stored before the start".getBytes());
            t.commit();
        }
        ServiceProcess service = ServiceProcess.start(data, tmp.resolve("service.log"), "/actuator/health/liveness",
                "--segstore.lock.open-wait=120s");
        try {
            ApiClient api = new ApiClient(service.port);
            ApiClient.Response notReady = api.get("/actuator/health/readiness");
            assertEquals(503, notReady.status(), notReady.text());
            assertEquals("OUT_OF_SERVICE", notReady.json().get("components").get("repositoriesOpened").get("status").asText());

            held.close(); // the other process lets go of Borg's lock
            Poll.until("readiness turns UP", java.time.Duration.ofMinutes(2), () -> api.get("/actuator/health/readiness").status() == 200);
            assertArrayEquals("stored before the start".getBytes(), api.get("/repos/busy/objects/" + id.hex()).body());
        } finally {
            held.close();
            service.stop();
        }
    }
}
