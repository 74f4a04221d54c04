package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Errors the framework or the connection produce, not the engine: they are problem documents with
 * Segstore's types too, and none of them stores anything.
 */
class ProblemResponsesTest extends ServiceTestBase {

    private void assertProblemDocument(ApiClient.Response r, int status, String type) {
        assertEquals(status, r.status(), r.text());
        assertTrue(r.header("Content-Type").startsWith("application/problem+json"), r.header("Content-Type"));
        JsonNode p = r.json();
        assertEquals("https://segstore.io/problems/" + type, p.get("type").asText());
        assertEquals(status, p.get("status").asInt());
        assertFalse(p.get("title").asText().isBlank());
        assertFalse(p.get("detail").asText().isBlank(), "a detail says what was wrong: " + p);
        assertTrue(p.get("instance").asText().startsWith("/"), p.toString());
    }

    @Test
    void anAcceptHeaderThatNothingSatisfiesIsNotAcceptable() {
        String repo = createRepository();
        ApiClient.Response r = api.get("/repos/" + repo, Map.of("Accept", "image/png"));
        assertEquals(406, r.status());
        // the client asked for no JSON, yet it gets the problem: the status alone would not say why
        assertEquals("not-acceptable", ApiClient.JSON.readTree(r.text()).get("type").asText().replaceAll(".*/", ""));
    }

    @Test
    void aJsonEndpointRefusesOtherMediaTypes() {
        String repo = createRepository();
        ApiClient.Response r = api.send("POST", "/repos/" + repo + "/objects/exists",
                "ids=1".getBytes(StandardCharsets.US_ASCII), Map.of("Content-Type", "application/x-www-form-urlencoded"));
        assertProblemDocument(r, 415, "unsupported-media-type");
    }

    @Test
    void aBatchTooLargeForOneRequestIsABadParameter() {
        String repo = createRepository();
        StringBuilder ids = new StringBuilder("{\"ids\": [");
        for (int i = 0; i < 10_001; i++) {
            ids.append(i == 0 ? "" : ",").append('"').append(id(i)).append('"');
        }
        ids.append("]}");
        ApiClient.Response r = api.post("/repos/" + repo + "/objects/exists", ids.toString());
        assertProblemDocument(r, 400, "bad-parameter");
    }

    @Test
    void anUploadThatStallsIsCutOffAndStoresNothing() throws IOException {
        String repo = createRepository();
        String head = "PUT /repos/" + repo + "/objects/" + id(1) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n";
        String answer;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[1200]);
            out.flush();
            // and then nothing: the test server's upload idle timeout is 3 s
            try (InputStream in = s.getInputStream()) {
                answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            }
        }
        // Tomcat closes a connection whose read failed without letting anything more be written:
        // the client learns of the failure from the closed connection, never from a success
        assertFalse(answer.startsWith("HTTP/1.1 2"), answer);
        assertEquals(404, api.head("/repos/" + repo + "/objects/" + id(1), Map.of()).status());
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(1), new byte[5000]).status(), "the writer was never held");
    }

    @Test
    void aContentLengthOverTheObjectLimitIsRefusedBeforeTheBodyIsRead() throws IOException {
        String repo = createRepository();
        long tooLarge = io.segstore.engine.format.SegmentFile.MAX_DATA_SIZE + 1L;
        String head = "PUT /repos/" + repo + "/objects/" + id(2) + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + tooLarge + "\r\n"
                + "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
        String answer;
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            // no body is sent at all: the answer must come from the header alone
            answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        assertTrue(answer.contains("object-too-large"), answer);
    }

    @Test
    void aDiskOrderListingLeftIdleExpires() {
        String repo = createRepository();
        for (int i = 0; i < 5; i++) {
            api.put("/repos/" + repo + "/objects/" + id(i), new byte[1]);
        }
        String marker = api.get("/repos/" + repo + "/objects?order=disk&limit=2").json().get("next").asText();
        // the test server's snapshot idle timeout is 2 s and its sweeper runs every second: the
        // listing must sit idle longer than that (time passing is what this test is about)
        long deadline = System.nanoTime() + 60_000_000_000L;
        ApiClient.Response r;
        do {
            java.util.concurrent.locks.LockSupport.parkNanos(3_500_000_000L);
            r = api.get("/repos/" + repo + "/objects?order=disk&limit=2&marker=" + marker);
            if (r.status() == 200 && !r.json().get("next").isNull()) {
                marker = r.json().get("next").asText(); // a slow machine: the page renewed the session
            }
        } while (r.status() == 200 && System.nanoTime() < deadline);
        assertProblemDocument(r, 410, "listing-expired");
    }

    @Test
    void engineAndServiceProblemsCarryEveryField() {
        String repo = createRepository();
        assertProblemDocument(api.get("/repos/" + repo + "/objects/" + id(7)), 404, "object-not-found");
        assertProblemDocument(api.get("/repos/nope-" + repo), 404, "repository-not-found");
        assertProblemDocument(api.get("/repos/" + repo + "/transactions/nope"), 404, "transaction-not-found");
        assertProblemDocument(api.get("/repos/" + repo + "/objects/xyz"), 400, "bad-object-id");
        assertProblemDocument(api.get("/nothing"), 404, "not-found");
    }
}
