package io.segstore.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK-backed object store against a real S3 server (s3proxy in process). */
class S3ObjectStoreTest {

    @TempDir
    static Path tmp;
    static S3TestServer server;
    static S3ObjectStore store;

    @BeforeAll
    static void start() throws Exception {
        server = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        server.createBucket("objects");
        store = new S3ObjectStore(server.settings("main", "objects", "/some/prefix/"));
    }

    @AfterAll
    static void stop() throws Exception {
        store.close();
        server.close();
    }

    @Test
    void conditionalCreateWritesOnceAndNeverOverwrites() throws Exception {
        assertTrue(store.create("once/a", "first".getBytes(StandardCharsets.UTF_8)));
        assertFalse(store.create("once/a", "second".getBytes(StandardCharsets.UTF_8)));
        assertEquals("first", new String(store.get("once/a").data(), StandardCharsets.UTF_8));
        Path f = Files.writeString(tmp.resolve("f"), "from a file");
        assertFalse(store.createFromFile("once/a", f));
        assertTrue(store.createFromFile("once/b", f));
        assertEquals("from a file", new String(store.get("once/b").data(), StandardCharsets.UTF_8));
    }

    @Test
    void conditionalReplaceNeedsTheCurrentEntityTag() throws Exception {
        String tag = store.put("lease-like", "v1".getBytes(StandardCharsets.UTF_8));
        assertNull(store.replace("lease-like", "v2".getBytes(StandardCharsets.UTF_8), "\"00000000000000000000000000000000\""));
        String tag2 = store.replace("lease-like", "v2".getBytes(StandardCharsets.UTF_8), tag);
        assertNotNull(tag2);
        assertNull(store.replace("lease-like", "v3".getBytes(StandardCharsets.UTF_8), tag), "the old tag no longer matches");
        ObjectStore.Fetched now = store.get("lease-like");
        assertEquals("v2", new String(now.data(), StandardCharsets.UTF_8));
        assertEquals(tag2, now.etag());
    }

    @Test
    void rangedGetsListingsAndDeletesUseKeysBelowThePrefix() throws Exception {
        byte[] data = new byte[10_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        assertTrue(store.create("r/data/0/1", data));
        assertTrue(store.create("r/data/0/2", new byte[] {1}));
        assertTrue(store.create("r/config", new byte[] {1}));
        byte[] part = store.getRange("r/data/0/1", 4000, 100);
        byte[] expected = new byte[100];
        System.arraycopy(data, 4000, expected, 0, 100);
        assertArrayEquals(expected, part);
        assertEquals(10, store.getRange("r/data/0/1", 9990, 100).length, "a range past the end is cut short");
        assertEquals(List.of("r/data/0/1", "r/data/0/2"), store.list("r/data/").stream().map(ObjectStore.Listed::key).toList());
        assertEquals(List.of("r/config"), store.listFiles("r/").stream().map(ObjectStore.Listed::key).toList());
        assertTrue(store.listNames("").contains("r"));
        assertEquals(10_000, store.head("r/data/0/1").size());
        try (var c = server.client()) {
            assertEquals(1, c.listObjectsV2(b -> b.bucket("objects").prefix("some/prefix/r/config")).keyCount(),
                    "keys live below the configured prefix");
        }
        store.delete("r/data/0/2");
        store.delete("r/data/0/2");
        assertNull(store.head("r/data/0/2"));
        assertNull(store.get("r/data/0/2"));
    }

    @Test
    void startRefusesNothingOnAStoreWithConditionalWrites() throws Exception {
        ObjectStores.verifyConditionalWrites(store);
    }

    @Test
    void settingsNeverShowTheCredentials() {
        String shown = server.settings("main", "objects", "p").toString();
        assertFalse(shown.contains(S3TestServer.SECRET_KEY) || shown.contains(S3TestServer.ACCESS_KEY), shown);
    }
}
