package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.segstore.engine.ObjectSource;
import io.segstore.service.ServiceException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Receiving restic uploads into pooled memory or a staging file, and reading parts back. */
class UploadTest {

    static final long MAX = Upload.MAX_FILE_SIZE;

    @TempDir
    Path staging;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Reads a slice the way the engine does: in pieces, by position. */
    static byte[] readAll(ObjectSource source, int piece) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) source.length());
        long at = 0;
        while (at < source.length()) {
            ByteBuffer dst = ByteBuffer.allocate(piece);
            int n = source.read(dst, at);
            all.put(dst.flip());
            at += n;
        }
        return all.array();
    }

    long stagedFiles() throws IOException {
        try (Stream<Path> s = Files.list(staging)) {
            return s.count();
        }
    }

    @Test
    void bodyInPooledChunksIsReadBackAcrossChunkBoundariesAndTheChunksAreReused() throws Exception {
        StagingMemory pool = new StagingMemory(8L * StagingMemory.CHUNK);
        byte[] body = random(3 * StagingMemory.CHUNK + 12345, 1);
        try (Upload u = Upload.receive(new ByteArrayInputStream(body), body.length, 1024, pool, MAX, staging)) {
            assertEquals(sha256(body), u.sha256Hex());
            assertEquals(0, Files.exists(staging) ? stagedFiles() : 0, "no staging file while memory lasts");
            int from = StagingMemory.CHUNK - 100;
            int count = StagingMemory.CHUNK + 300;
            assertArrayEquals(Arrays.copyOfRange(body, from, from + count), readAll(u.slice(from, count), 65536));
            assertArrayEquals(body, readAll(u.slice(0, body.length), 700_001));
            assertNull(pool.take(5L * StagingMemory.CHUNK), "four chunks are in use");
        }
        List<byte[]> again = pool.take(8L * StagingMemory.CHUNK);
        assertNotNull(again, "closing gave every chunk back");
        pool.give(again);
    }

    @Test
    void bodyLargerThanTheFreeBudgetGoesToAFileAndIsTheSame() throws Exception {
        StagingMemory pool = new StagingMemory(2L * StagingMemory.CHUNK);
        byte[] body = random(2 * StagingMemory.CHUNK + 1, 2);
        try (Upload u = Upload.receive(new ByteArrayInputStream(body), body.length, 1024, pool, MAX, staging)) {
            assertEquals(1, stagedFiles());
            assertArrayEquals(body, readAll(u.slice(0, body.length), 65536));
            assertEquals(sha256(body), u.sha256Hex());
        }
        assertEquals(0, stagedFiles(), "the staging file is removed when the upload is done");
    }

    @Test
    void cutOffUploadGivesItsChunksBackAndStoresNothing() {
        StagingMemory pool = new StagingMemory(4L * StagingMemory.CHUNK);
        byte[] sent = random(StagingMemory.CHUNK + 10, 3);
        ServiceException e = assertThrows(ServiceException.class, () ->
                Upload.receive(new ByteArrayInputStream(sent), 3L * StagingMemory.CHUNK, 1024, pool, MAX, staging));
        assertEquals(ServiceException.Kind.UPLOAD_INCOMPLETE, e.kind());
        assertNotNull(pool.take(4L * StagingMemory.CHUNK), "the budget is whole again");
    }

    @Test
    void partReadAfterTheUploadWasClosedFailsInsteadOfReadingReusedMemory() throws Exception {
        StagingMemory pool = new StagingMemory(2L * StagingMemory.CHUNK);
        byte[] body = random(StagingMemory.CHUNK + 5, 4);
        Upload u = Upload.receive(new ByteArrayInputStream(body), body.length, 1024, pool, MAX, staging);
        ObjectSource part = u.slice(0, body.length);
        u.close();
        assertThrows(IOException.class, () -> part.read(ByteBuffer.allocate(10), 0));
    }
}
