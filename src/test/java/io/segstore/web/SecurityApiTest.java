package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.testing.Poll;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A service with tokens: who may do what in which repository, what a refusal looks like, and
 * that a refusal changes nothing. Tokens: a reader, an appender, a writer and an administrator of
 * the repositories named team-*, a global administrator, and a metrics-only token.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class SecurityApiTest {

    static final Path DATA_DIR;
    static final Path TOKENS_FILE;

    static {
        try {
            DATA_DIR = Files.createTempDirectory("segstore-security-test");
            TOKENS_FILE = Files.createTempFile("segstore-tokens", ".yaml");
            writeTokensFile("filed", "filed-secret-1");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final String READER = "reader-secret-0123456789";
    static final String APPENDER = "appender-secret-0123456789";
    static final String WRITER = "writer-secret-0123456789";
    static final String TEAM_ADMIN = "team-admin-secret-0123456789";
    static final String ADMIN = "admin-secret-0123456789";
    static final String METRICS = "metrics-secret-0123456789";

    /** The roles of the matrix, weakest first, with their tokens. */
    enum As {
        READ(READER), APPEND(APPENDER), WRITE(WRITER), ADMIN(TEAM_ADMIN);

        final String token;

        As(String token) {
            this.token = token;
        }
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void writeTokensFile(String name, String secret) throws IOException {
        Path tmp = Files.createTempFile(TOKENS_FILE.getParent(), "tokens", ".tmp");
        Files.writeString(tmp, "tokens:\n  - name: " + name + "\n    sha256: " + sha256(secret)
                + "\n    grants:\n      - repos: \"team-*\"\n        role: read\n");
        Files.move(tmp, TOKENS_FILE, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("segstore.data-dir", DATA_DIR::toString);
        registry.add("segstore.max-lock-wait", () -> "20s");
        registry.add("segstore.max-json-body", () -> "65536");
        registry.add("segstore.security.tokens-file", TOKENS_FILE::toString);
        Object[][] tokens = {
                {"reader", READER, "team-*", "read"},
                {"appender", APPENDER, "team-*", "append"},
                {"writer", WRITER, "team-*", "write"},
                {"team-admin", TEAM_ADMIN, "team-*", "admin"},
                {"admin", ADMIN, "*", "admin"},
                {"metrics", METRICS, "*", "metrics"}};
        for (int i = 0; i < tokens.length; i++) {
            Object[] t = tokens[i];
            String p = "segstore.security.tokens[" + i + "].";
            registry.add(p + "name", () -> t[0]);
            registry.add(p + "sha256", () -> sha256((String) t[1]));
            registry.add(p + "grants[0].repos", () -> t[2]);
            registry.add(p + "grants[0].role", () -> t[3]);
        }
    }

    @LocalServerPort
    int port;

    ApiClient anonymous;
    ApiClient admin;

    @BeforeEach
    void clients() {
        anonymous = new ApiClient(port);
        admin = new ApiClient(port, ADMIN);
    }

    private String teamRepository(String json) {
        String name = "team-" + UUID.randomUUID().toString().substring(0, 8);
        ApiClient.Response r = admin.putJson("/repos/" + name, json);
        assertEquals(201, r.status(), r.text());
        return name;
    }

    private static String id(int n) {
        return String.format("%064x", n);
    }

    private static void assertProblem(ApiClient.Response r, int status, String type) {
        assertEquals(status, r.status(), r.text());
        assertEquals(type, r.problem(), r.text());
    }

    // ---- authentication --------------------------------------------------------------------

    @Test
    void requestsWithoutATokenAreUnauthorizedWithAChallenge() {
        String repo = teamRepository("{}");
        for (ApiClient.Response r : List.of(anonymous.get("/repos"), anonymous.get("/repos/" + repo),
                anonymous.get("/repos/" + repo + "/objects/" + id(1)), anonymous.put("/repos/" + repo + "/objects/" + id(1), new byte[1]),
                anonymous.putJson("/repos/team-new-one", "{}"))) {
            assertProblem(r, 401, "unauthorized");
            assertTrue(r.header("WWW-Authenticate").startsWith("Bearer realm=\"segstore\""), r.header("WWW-Authenticate"));
        }
        assertEquals(404, admin.head("/repos/" + repo + "/objects/" + id(1), Map.of()).status(), "nothing was stored");
        assertEquals(404, admin.get("/repos/team-new-one").status(), "nothing was created");
    }

    @Test
    void malformedOrUnknownTokensAreUnauthorized() {
        String repo = teamRepository("{}");
        String path = "/repos/" + repo;
        for (String header : new String[] {"Bearer", "Bearer ", "Bearer  " + ADMIN, "Bearer " + ADMIN + " extra", "Token " + ADMIN,
                ADMIN, "Basic !!!notbase64", "Basic " + Base64.getEncoder().encodeToString("no-colon".getBytes()),
                "Bearer " + ADMIN + "x", "Bearer " + ADMIN.substring(1), "Bearer " + "é" + ADMIN, "Bearer " + "x".repeat(5000)}) {
            ApiClient.Response r = anonymous.get(path, Map.of("Authorization", header));
            assertProblem(r, 401, "unauthorized");
            assertTrue(r.header("WWW-Authenticate").contains("error="), header + ": " + r.header("WWW-Authenticate"));
        }
        assertEquals(200, anonymous.get(path, Map.of("Authorization", "bearer " + ADMIN)).status(), "the scheme is case-insensitive");
        String basic = Base64.getEncoder().encodeToString(("anyone:" + ADMIN).getBytes(StandardCharsets.UTF_8));
        assertEquals(200, anonymous.get(path, Map.of("Authorization", "Basic " + basic)).status(), "HTTP Basic with the token as password");
    }

    @Test
    void tokensFromTheMountedFileWorkAndARotatedFileTakesEffect() throws Exception {
        String repo = teamRepository("{}");
        assertEquals(200, anonymous.as("filed-secret-1").get("/repos/" + repo).status());
        writeTokensFile("filed", "filed-secret-2");
        Poll.until("the rotated tokens file is read again", java.time.Duration.ofSeconds(30),
                () -> anonymous.as("filed-secret-2").get("/repos/" + repo).status() == 200);
        assertProblem(anonymous.as("filed-secret-1").get("/repos/" + repo), 401, "unauthorized");
        writeTokensFile("filed", "filed-secret-1");
    }

    // ---- the role matrix -------------------------------------------------------------------

    /** One operation of the API and the weakest role that may do it. */
    record Case(String name, As needs, String method, String path, String body, Map<String, String> headers) {
        @Override
        public String toString() {
            return name + " needs " + needs;
        }
    }

    static List<Case> cases() {
        String o = "/objects/" + id(1);
        String json = "application/json";
        List<Case> c = new ArrayList<>();
        c.add(new Case("describe", As.READ, "GET", "", null, Map.of()));
        c.add(new Case("get object", As.READ, "GET", o, null, Map.of()));
        c.add(new Case("head object", As.READ, "HEAD", o, null, Map.of()));
        c.add(new Case("list objects", As.READ, "GET", "/objects", null, Map.of()));
        c.add(new Case("exists", As.READ, "POST", "/objects/exists", "{\"ids\": [\"" + id(1) + "\"]}", Map.of("Content-Type", json)));
        c.add(new Case("index", As.READ, "GET", "/index", null, Map.of()));
        c.add(new Case("history", As.READ, "GET", "/history", null, Map.of()));
        c.add(new Case("key", As.READ, "GET", "/key", null, Map.of()));
        c.add(new Case("nonce", As.READ, "GET", "/nonce", null, Map.of()));
        c.add(new Case("put new object", As.APPEND, "PUT", "/objects/@NEW@", "new", Map.of("Content-Type", "application/octet-stream")));
        c.add(new Case("overwrite object", As.WRITE, "PUT", o, "again", Map.of("Content-Type", "application/octet-stream")));
        c.add(new Case("delete object", As.WRITE, "DELETE", o, null, Map.of()));
        c.add(new Case("compact", As.WRITE, "POST", "/compaction", "{}", Map.of("Content-Type", json)));
        c.add(new Case("check", As.WRITE, "POST", "/checks", "{}", Map.of("Content-Type", json)));
        c.add(new Case("replace key", As.WRITE, "PUT", "/key", "another key", Map.of("Content-Type", "application/octet-stream")));
        c.add(new Case("repair", As.ADMIN, "POST", "/checks", "{\"repair\": true}", Map.of("Content-Type", json)));
        c.add(new Case("change settings", As.ADMIN, "PATCH", "", "{\"storageQuota\": 0}", Map.of("Content-Type", json)));
        c.add(new Case("break lock", As.ADMIN, "POST", "/lock/break", null, Map.of()));
        c.add(new Case("destroy", As.ADMIN, "DELETE", "", null, Map.of()));
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachOperationIsAllowedFromItsRoleUpAndRefusedBelowIt(Case c) {
        for (As role : As.values()) {
            // a fresh repository with one committed object and a key, for each attempt
            String repo = teamRepository("{}");
            assertEquals(201, admin.put("/repos/" + repo + "/objects/" + id(1), "first".getBytes()).status());
            assertEquals(204, admin.send("PUT", "/repos/" + repo + "/key", "the key".getBytes(), Map.of("Content-Type", "application/octet-stream")).status());
            String path = "/repos/" + repo + c.path().replace("@NEW@", id(2));
            ApiClient.Response r = anonymous.as(role.token).send(c.method(), path, c.body() == null ? null : c.body().getBytes(), c.headers());
            if (role.compareTo(c.needs()) >= 0) {
                assertFalse(r.status() == 401 || r.status() == 403, role + " may " + c.name() + ": " + r.status() + " " + r.text());
                assertTrue(r.status() < 400, role + " " + c.name() + ": " + r.status() + " " + r.text());
            } else {
                if (!c.method().equals("HEAD")) {
                    assertProblem(r, 403, "forbidden");
                } else {
                    assertEquals(403, r.status());
                }
                // and nothing changed
                ApiClient.Response info = admin.get("/repos/" + repo);
                assertEquals(200, info.status(), role + " " + c.name() + " must not have destroyed the repository");
                assertEquals(1, info.json().get("objects").asLong(), role + " " + c.name() + " must not change objects");
                assertEquals("first", new String(admin.get("/repos/" + repo + "/objects/" + id(1)).body()));
                assertEquals("the key", new String(admin.get("/repos/" + repo + "/key").body()));
                assertEquals(0, info.json().get("quotaLimit").asLong(), "settings unchanged");
            }
        }
    }

    @Test
    void repositoryCreationNeedsAdministrationOfTheName() {
        assertProblem(anonymous.as(WRITER).putJson("/repos/team-by-writer", "{}"), 403, "forbidden");
        assertEquals(201, anonymous.as(TEAM_ADMIN).putJson("/repos/team-by-team-admin", "{}").status());
        assertProblem(anonymous.as(TEAM_ADMIN).putJson("/repos/other-by-team-admin", "{}"), 403, "forbidden");
        assertEquals(201, admin.putJson("/repos/other-by-admin", "{}").status());
    }

    @Test
    void aTokenCannotTellUnknownRepositoriesFromOnesItHasNoGrantOn() {
        assertEquals(201, admin.putJson("/repos/private-stuff", "{}").status());
        ApiClient writer = anonymous.as(WRITER);
        ApiClient.Response existing = writer.get("/repos/private-stuff/objects/" + id(1));
        ApiClient.Response missing = writer.get("/repos/private-nothing/objects/" + id(1));
        assertProblem(existing, 403, "forbidden");
        assertProblem(missing, 403, "forbidden");
        assertEquals(existing.json().get("detail").asText().replace("private-stuff", "X"),
                missing.json().get("detail").asText().replace("private-nothing", "X"));
        assertProblem(writer.get("/repos/team-never-created"), 404, "repository-not-found");

        List<String> listed = new ArrayList<>();
        writer.get("/repos").json().get("repositories").forEach(r -> listed.add(r.get("name").asText()));
        assertFalse(listed.contains("private-stuff"), "the list shows only repositories the token has a grant on");
        assertTrue(listed.stream().allMatch(n -> n.startsWith("team-")), listed.toString());
    }

    // ---- the append role -------------------------------------------------------------------

    @Test
    void anAppendClientAddsButNeverOverwritesOrDeletes() {
        String repo = teamRepository("{}");
        ApiClient appender = anonymous.as(APPENDER);
        assertEquals(201, appender.put("/repos/" + repo + "/objects/" + id(1), "mine".getBytes()).status());
        assertProblem(appender.put("/repos/" + repo + "/objects/" + id(1), "changed".getBytes()), 403, "forbidden");
        assertProblem(appender.delete("/repos/" + repo + "/objects/" + id(1)), 403, "forbidden");
        assertEquals("mine", new String(admin.get("/repos/" + repo + "/objects/" + id(1)).body()));
        // Borg's manifest (id 0) is rewritten by every borg create: that overwrite is allowed
        assertEquals(201, appender.put("/repos/" + repo + "/objects/" + id(0), "manifest 1".getBytes()).status());
        assertEquals(204, appender.put("/repos/" + repo + "/objects/" + id(0), "manifest 2".getBytes()).status());

        // inside a transaction: the refused overwrite does not doom it
        String txn = appender.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        Map<String, String> in = Map.of(SegstoreHeaders.TRANSACTION, txn);
        assertProblem(appender.put("/repos/" + repo + "/objects/" + id(1), "changed".getBytes(), in), 403, "forbidden");
        assertEquals(201, appender.put("/repos/" + repo + "/objects/" + id(3), "new".getBytes(), in).status());
        assertEquals(200, appender.post("/repos/" + repo + "/transactions/" + txn + "/commit", null).status());
        assertEquals("mine", new String(admin.get("/repos/" + repo + "/objects/" + id(1)).body()));
        assertEquals("new", new String(admin.get("/repos/" + repo + "/objects/" + id(3)).body()));
        assertProblem(appender.post("/repos/" + repo + "/compaction", "{}"), 403, "forbidden");
    }

    @Test
    void inAnAppendOnlyRepositoryAnAppendClientWorksLikeBorgServeAppendOnly() {
        String repo = teamRepository("{\"appendOnly\": true}");
        ApiClient appender = anonymous.as(APPENDER);
        assertEquals(201, appender.put("/repos/" + repo + "/objects/" + id(1), "one".getBytes()).status());
        assertEquals(204, appender.put("/repos/" + repo + "/objects/" + id(1), "two".getBytes()).status(), "an overwrite is only logged");
        assertEquals(204, appender.delete("/repos/" + repo + "/objects/" + id(1)).status(), "a delete is only logged");
        assertEquals(202, appender.post("/repos/" + repo + "/compaction", "{}").status(), "compaction frees nothing here");
        assertProblem(appender.delete("/repos/" + repo), 403, "forbidden");
        // the history still holds every transaction: the first one can be brought back
        assertTrue(admin.get("/repos/" + repo + "/history").json().get("transactions").size() >= 3);
    }

    @Test
    void aTransactionIsUsedOnlyByTheTokenThatBeganItOrAnAdministrator() {
        String repo = teamRepository("{}");
        ApiClient appender = anonymous.as(APPENDER);
        ApiClient writer = anonymous.as(WRITER);
        String txn = appender.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        Map<String, String> in = Map.of(SegstoreHeaders.TRANSACTION, txn);
        assertEquals(201, appender.put("/repos/" + repo + "/objects/" + id(1), "x".getBytes(), in).status());
        assertProblem(writer.put("/repos/" + repo + "/objects/" + id(2), "y".getBytes(), in), 403, "forbidden");
        assertProblem(writer.post("/repos/" + repo + "/transactions/" + txn + "/rollback", null), 403, "forbidden");
        assertProblem(writer.post("/repos/" + repo + "/transactions/" + txn + "/commit", null), 403, "forbidden");
        assertProblem(anonymous.as(READER).get("/repos/" + repo + "/objects/" + id(1), in), 403, "forbidden");
        assertEquals(200, appender.get("/repos/" + repo + "/objects/" + id(1), in).status(), "its own transaction it reads");
        assertEquals(204, anonymous.as(TEAM_ADMIN).post("/repos/" + repo + "/transactions/" + txn + "/rollback", null).status(),
                "an administrator may end a stuck transaction");
        assertEquals(404, admin.get("/repos/" + repo + "/objects/" + id(1)).status());
    }

    // ---- actuator, documentation -------------------------------------------------------------

    @Test
    void probesAndDocumentationAreOpenTheRestOfTheActuatorNeedsAnAdministrator() {
        assertEquals(200, anonymous.get("/actuator/health").status());
        assertEquals(200, anonymous.get("/actuator/health/liveness").status());
        assertEquals(200, anonymous.get("/actuator/health/readiness").status());
        assertEquals(200, anonymous.get("/v3/api-docs").status());
        assertProblem(anonymous.get("/actuator/info"), 401, "unauthorized");
        assertProblem(anonymous.as(WRITER).get("/actuator/info"), 403, "forbidden");
        assertProblem(anonymous.as(TEAM_ADMIN).get("/actuator/info"), 403, "forbidden");
        assertEquals(200, admin.get("/actuator/info").status());
        assertProblem(anonymous.as(METRICS).get("/repos/team-anything"), 403, "forbidden");
    }

    // ---- input hardening -------------------------------------------------------------------

    @Test
    void namesThatTryToEscapeTheDataDirectoryAreRefusedWithAToken() {
        for (String bad : new String[] {"..%2F..%2Fetc", "%2E%2E", "..", "a%00b", "x".repeat(65), "team-%2F..", "%2e%2e%2f"}) {
            ApiClient.Response r = admin.get("/repos/" + bad + "/objects/" + id(1));
            assertEquals(400, r.status(), bad + ": " + r.text());
            assertTrue(r.header("Content-Type").startsWith("application/problem+json"), bad);
        }
        for (String bad : new String[] {"..%2F..%2Fconfig", "%2E%2E%2F" + id(1).substring(9), "%2e%2e"}) {
            assertProblem(admin.get("/repos/team-x/objects/" + bad), 400, "bad-object-id");
        }
        // a literal dot segment is refused by the request firewall, also as a problem document
        assertProblem(admin.get("/repos/team-x/objects/.."), 400, "bad-request");
        // a NUL byte is refused by Tomcat itself, still as a problem document
        assertProblem(admin.get("/repos/team-x/objects/" + id(1) + "%00"), 400, "bad-request");
    }

    @Test
    void aSymbolicLinkInTheDataDirectoryIsNotARepository() throws IOException {
        Path outside = Files.createTempDirectory("segstore-outside");
        io.segstore.engine.Repository.create(outside.resolve("repo"), io.segstore.engine.CreateOptions.defaults(),
                io.segstore.engine.OpenOptions.defaults()).close();
        Files.createSymbolicLink(DATA_DIR.resolve("team-linked"), outside.resolve("repo"));
        assertProblem(admin.get("/repos/team-linked"), 404, "repository-not-found");
        assertProblem(admin.putJson("/repos/team-linked", "{}"), 409, "repository-exists");
    }

    @Test
    void oversizedJsonBodiesAndHeadersAreRefusedBeforeTheyAreRead() {
        String repo = teamRepository("{}");
        StringBuilder ids = new StringBuilder("{\"ids\": [");
        for (int i = 0; i < 1200; i++) {
            ids.append(i == 0 ? "" : ",").append('"').append(id(i)).append('"');
        }
        ids.append("]}");
        assertProblem(admin.post("/repos/" + repo + "/objects/exists", ids.toString()), 413, "payload-too-large");
        ApiClient.Response header = admin.get("/repos/" + repo, Map.of("X-Padding", "p".repeat(20_000)));
        assertEquals(400, header.status());
        assertTrue(header.header("Content-Type").startsWith("application/problem+json"), header.text());
    }

    // ---- audit -----------------------------------------------------------------------------

    @Test
    void everyStateChangeAndEveryRefusalLeavesAnAuditLine(CapturedOutput output) {
        String repo = teamRepository("{}");
        assertEquals(201, anonymous.as(APPENDER).put("/repos/" + repo + "/objects/" + id(7), "x".getBytes()).status());
        assertEquals(403, anonymous.as(READER).delete("/repos/" + repo + "/objects/" + id(7)).status());
        assertEquals(401, anonymous.delete("/repos/" + repo + "/objects/" + id(7)).status());
        String log = output.getOut();
        assertTrue(log.contains("caller=appender repo=" + repo + " op=\"PUT /repos/" + repo + "/objects/" + id(7) + "\" txn=- status=201 committed="),
                log);
        assertTrue(log.contains("caller=reader repo=" + repo + " op=\"DELETE /repos/" + repo + "/objects/" + id(7) + "\" txn=- status=403"), log);
        assertTrue(log.contains("caller=- repo=" + repo + " op=\"DELETE /repos/" + repo + "/objects/" + id(7) + "\" txn=- status=401"), log);
        assertFalse(log.contains(APPENDER), "a token never appears in the log");
        assertNotEquals(-1, log.indexOf("segstore.audit"));
    }
}
