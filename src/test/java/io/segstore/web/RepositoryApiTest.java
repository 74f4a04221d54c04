package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Creating, describing, changing and destroying repositories over HTTP, and their errors. */
class RepositoryApiTest extends ServiceTestBase {

    @Test
    void createdRepositoryIsListedAndDescribed() {
        String name = repoName();
        ApiClient.Response created = api.putJson("/repos/" + name, "{\"storageQuota\": 1000000, \"maxSegmentSize\": 65536}");
        assertEquals(201, created.status(), created.text());
        assertEquals("/repos/" + name, created.header("Location"));
        JsonNode body = created.json();
        assertEquals(name, body.get("name").asText());
        assertEquals(64, body.get("id").asText().length());
        assertTrue(body.get("transactionId").isNull(), "a new repository has no transaction");
        assertEquals(1000000, body.get("quotaLimit").asLong());
        assertEquals(65536, body.get("maxSegmentSize").asLong());
        assertEquals("none", body.get("verify").asText());

        List<String> names = new ArrayList<>();
        api.get("/repos").json().get("repositories").forEach(r -> names.add(r.get("name").asText()));
        assertTrue(names.contains(name));
        assertEquals(name, api.get("/repos/" + name).json().get("name").asText());
    }

    @Test
    void createWithoutABodyTakesBorgsDefaults() {
        String name = repoName();
        ApiClient.Response r = api.send("PUT", "/repos/" + name, null, java.util.Map.of());
        assertEquals(201, r.status(), r.text());
        assertEquals(524288000, r.json().get("maxSegmentSize").asLong());
        assertFalse(r.json().get("appendOnly").asBoolean());
    }

    @Test
    void settingsChangeAndStay() {
        String name = createRepository();
        ApiClient.Response r = api.patch("/repos/" + name, "{\"storageQuota\": 5000, \"additionalFreeSpace\": 7, \"verify\": \"sha256\"}");
        assertEquals(200, r.status(), r.text());
        JsonNode now = api.get("/repos/" + name).json();
        assertEquals(5000, now.get("quotaLimit").asLong());
        assertEquals(7, now.get("additionalFreeSpace").asLong());
        assertEquals("sha256", now.get("verify").asText());
    }

    @Test
    void destroyRemovesTheRepositoryButNotAnAppendOnlyOne() {
        String name = createRepository();
        assertEquals(201, api.put("/repos/" + name + "/objects/" + id(1), new byte[] {1}).status());
        assertEquals(204, api.delete("/repos/" + name).status());
        assertEquals("repository-not-found", api.get("/repos/" + name).problem());
        assertFalse(java.nio.file.Files.exists(DATA_DIR.resolve(name)));

        String kept = createRepository("{\"appendOnly\": true}");
        ApiClient.Response refused = api.delete("/repos/" + kept);
        assertEquals(403, refused.status());
        assertEquals("append-only", refused.problem());
        assertEquals(200, api.get("/repos/" + kept).status());
    }

    @Test
    void errorsAreProblemsWithTheirOwnTypes() {
        String name = createRepository();
        ApiClient.Response exists = api.putJson("/repos/" + name, "{}");
        assertEquals(409, exists.status());
        assertEquals("repository-exists", exists.problem());

        assertEquals("repository-not-found", api.get("/repos/no-such-repo").problem());
        assertEquals(404, api.get("/repos/no-such-repo").status());

        for (String bad : new String[] {".hidden", "-dash", "a%2Fb", "x".repeat(65), "%2E%2E", "a%5Cb", "..%2F..%2Fetc"}) {
            ApiClient.Response r = api.putJson("/repos/" + bad, "{}");
            assertEquals(400, r.status(), bad + ": " + r.text());
            assertEquals("bad-repository-name", r.problem(), bad);
        }
        // Tomcat itself refuses a NUL byte in a path; the answer is still a problem document
        ApiClient.Response nul = api.putJson("/repos/a%00b", "{}");
        assertEquals(400, nul.status());
        assertEquals("bad-request", nul.problem());

        ApiClient.Response badQuota = api.putJson("/repos/" + repoName(), "{\"storageQuota\": -1}");
        assertEquals("bad-parameter", badQuota.problem());
        ApiClient.Response badSegment = api.putJson("/repos/" + repoName(), "{\"maxSegmentSize\": 10}");
        assertEquals("bad-parameter", badSegment.problem());
        ApiClient.Response badVerify = api.putJson("/repos/" + repoName(), "{\"verify\": \"md5\"}");
        assertEquals("bad-parameter", badVerify.problem());
        ApiClient.Response badJson = api.putJson("/repos/" + repoName(), "{not json");
        assertEquals(400, badJson.status());
        assertEquals("bad-request", badJson.problem());

        ApiClient.Response unknownPath = api.get("/nothing/here");
        assertEquals(404, unknownPath.status());
        assertEquals("not-found", unknownPath.problem());
        ApiClient.Response wrongMethod = api.send("POST", "/repos/" + name, null, java.util.Map.of());
        assertEquals(405, wrongMethod.status());
        assertEquals("method-not-allowed", wrongMethod.problem());
    }
}
