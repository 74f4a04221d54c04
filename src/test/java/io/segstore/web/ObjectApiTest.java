package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Objects over HTTP: put, get, head, delete, verification, sizes, the index download, and bad input. */
class ObjectApiTest extends ServiceTestBase {

    @Test
    void putGetHeadDeleteWithTheirStatusCodes() {
        String repo = createRepository();
        String path = "/repos/" + repo + "/objects/" + id(7);
        ApiClient.Response created = api.put(path, "first".getBytes(StandardCharsets.UTF_8));
        assertEquals(201, created.status());
        assertNotNull(created.header(ObjectController.COMMITTED), "an autocommit names its transaction");
        assertEquals(204, api.put(path, "second!".getBytes(StandardCharsets.UTF_8)).status(), "replacing answers 204");
        ApiClient.Response got = api.get(path);
        assertEquals(200, got.status());
        assertEquals("second!", got.text());
        assertEquals("application/octet-stream", got.header("Content-Type"));
        ApiClient.Response head = api.head(path, Map.of());
        assertEquals(200, head.status());
        assertEquals("7", head.header("Content-Length"));
        assertEquals(0, head.body().length);
        assertEquals(204, api.delete(path).status());
        assertEquals("object-not-found", api.get(path).problem());
        assertEquals(404, api.head(path, Map.of()).status());
        assertEquals("object-not-found", api.delete(path).problem());
    }

    @Test
    void largeObjectsRoundTripByteForByte() {
        String repo = createRepository();
        byte[] big = new byte[io.segstore.engine.format.SegmentFile.MAX_DATA_SIZE];
        new Random(5).nextBytes(big);
        String path = "/repos/" + repo + "/objects/" + id(1);
        assertEquals(201, api.put(path, big).status());
        assertArrayEquals(big, api.get(path).body());
        ApiClient.Response tooBig = api.put("/repos/" + repo + "/objects/" + id(2), new byte[big.length + 1]);
        assertEquals(413, tooBig.status());
        assertEquals("object-too-large", tooBig.problem());
        assertEquals(404, api.head("/repos/" + repo + "/objects/" + id(2), Map.of()).status());
    }

    @Test
    void verifiedRepositoryRefusesABodyThatIsNotItsIdButTakesTheManifest() throws Exception {
        String repo = createRepository("{\"verify\": \"sha256\"}");
        byte[] data = "content addressed".getBytes(StandardCharsets.UTF_8);
        String good = hex(MessageDigest.getInstance("SHA-256").digest(data));
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + good, data).status());
        ApiClient.Response bad = api.put("/repos/" + repo + "/objects/" + id(3), data);
        assertEquals(422, bad.status());
        assertEquals("verification-failed", bad.problem());
        assertEquals(404, api.head("/repos/" + repo + "/objects/" + id(3), Map.of()).status(), "nothing was stored");
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(0), data).status(), "Borg's manifest id is exempt");
    }

    @Test
    void badIdsAndPathsAreProblemsBeforeAnythingIsTouched() {
        String repo = createRepository();
        for (String bad : new String[] {"zz", id(1) + "0", id(1).substring(1), "..%2F..%2Fconfig", "%2e%2e", "g".repeat(64)}) {
            ApiClient.Response r = api.get("/repos/" + repo + "/objects/" + bad);
            assertEquals(400, r.status(), bad);
            assertEquals("bad-object-id", r.problem(), bad);
        }
        assertEquals("repository-not-found", api.put("/repos/nothere/objects/" + id(1), new byte[1]).problem());
        ApiClient.Response badWait = api.put("/repos/" + repo + "/objects/" + id(1), new byte[1], Map.of(SegstoreHeaders.LOCK_WAIT, "soon"));
        assertEquals("bad-parameter", badWait.problem());
    }

    @Test
    void putWithoutContentLengthIsRefused() throws IOException {
        String repo = createRepository();
        // a chunked upload: no Content-Length
        String request = "PUT /repos/" + repo + "/objects/" + id(9) + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        String answer = raw(request);
        assertTrue(answer.startsWith("HTTP/1.1 411"), answer);
        assertTrue(answer.contains("length-required"), answer);
    }

    @Test
    void uploadCutOffMidwayStoresNothing() throws IOException {
        String repo = createRepository();
        String request = "PUT /repos/" + repo + "/objects/" + id(10) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n" + "x".repeat(1000);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            s.shutdownOutput(); // the client goes away after 1000 of 100000 bytes
            s.getInputStream().readAllBytes();
        }
        assertEquals(404, api.head("/repos/" + repo + "/objects/" + id(10), Map.of()).status());
        assertEquals(0, api.get("/repos/" + repo).json().get("objects").asLong());
        assertEquals(201, api.put("/repos/" + repo + "/objects/" + id(10), new byte[3]).status(), "the repository goes on working");
    }

    @Test
    void existsAnswersForABatch() {
        String repo = createRepository();
        for (int i = 0; i < 5; i++) {
            api.put("/repos/" + repo + "/objects/" + id(i), new byte[] {(byte) i});
        }
        ApiClient.Response r = api.post("/repos/" + repo + "/objects/exists",
                "{\"ids\": [\"" + id(1) + "\", \"" + id(99) + "\", \"" + id(3).toUpperCase() + "\"]}");
        assertEquals(200, r.status(), r.text());
        Set<String> present = new HashSet<>();
        r.json().get("present").forEach(n -> present.add(n.asText()));
        assertEquals(Set.of(id(1), id(3)), present);
        assertEquals("bad-object-id", api.post("/repos/" + repo + "/objects/exists", "{\"ids\": [\"nope\"]}").problem());
        assertEquals("bad-parameter", api.post("/repos/" + repo + "/objects/exists", "{}").problem());
    }

    @Test
    void indexDownloadListsEveryIdWithItsSizeAndAnswers304WhileUnchanged() {
        String repo = createRepository();
        for (int i = 0; i < 50; i++) {
            api.put("/repos/" + repo + "/objects/" + id(i), new byte[i * 3]);
        }
        ApiClient.Response first = api.get("/repos/" + repo + "/index");
        assertEquals(200, first.status());
        String etag = first.header("ETag");
        assertNotNull(etag);
        ByteBuffer b = ByteBuffer.wrap(first.body()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(50 * 36, b.remaining());
        Map<String, Integer> seen = new java.util.HashMap<>();
        while (b.hasRemaining()) {
            byte[] idBytes = new byte[32];
            b.get(idBytes);
            seen.put(hex(idBytes), b.getInt());
        }
        for (int i = 0; i < 50; i++) {
            assertEquals(i * 3, seen.get(id(i)));
        }
        ApiClient.Response same = api.get("/repos/" + repo + "/index", Map.of("If-None-Match", etag));
        assertEquals(304, same.status());
        assertEquals(0, same.body().length);
        api.put("/repos/" + repo + "/objects/" + id(99), new byte[1]);
        ApiClient.Response changed = api.get("/repos/" + repo + "/index", Map.of("If-None-Match", etag));
        assertEquals(200, changed.status());
        assertEquals(51 * 36, changed.body().length);
        assertTrue(!etag.equals(changed.header("ETag")));
    }

    @Test
    void keyAndNonceAsBorgKeepsThem() {
        String repo = createRepository();
        assertEquals(0, api.get("/repos/" + repo + "/key").body().length, "no key yet");
        byte[] key = "hqlhbGdvcml0aG2m\nc2hhMjU2pGRhdGHa".getBytes(StandardCharsets.UTF_8);
        assertEquals(204, api.put("/repos/" + repo + "/key", key).status());
        assertArrayEquals(key, api.get("/repos/" + repo + "/key").body());
        assertTrue(api.get("/repos/" + repo + "/nonce").json().get("nonce").isNull());
        String txn = api.post("/repos/" + repo + "/transactions", null).json().get("id").asText();
        Map<String, String> in = Map.of(SegstoreHeaders.TRANSACTION, txn);
        ApiClient.Response reserved = api.post("/repos/" + repo + "/nonce", "{\"next\": \"0000000000000200\"}", in);
        assertEquals(200, reserved.status(), reserved.text());
        assertEquals("0000000000000200", api.get("/repos/" + repo + "/nonce").json().get("nonce").asText());
        ApiClient.Response conflict = api.post("/repos/" + repo + "/nonce", "{\"next\": \"0000000000000400\", \"expected\": \"0000000000000100\"}", in);
        assertEquals(409, conflict.status());
        assertEquals("nonce-conflict", conflict.problem());
        assertEquals("bad-parameter", api.post("/repos/" + repo + "/nonce", "{\"next\": \"0000000000000400\"}").problem(),
                "reserving needs the writer");
        api.post("/repos/" + repo + "/transactions/" + txn + "/rollback", null);
        assertNull(null);
    }

    private String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
