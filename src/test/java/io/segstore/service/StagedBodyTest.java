package io.segstore.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StagedBodyTest {

    @TempDir
    Path staging;

    @Test
    void digestAndBytesOfBodiesInMemoryAndInAFile() throws Exception {
        for (int size : new int[] {0, 1, 4096, 64 * 1024 + 3, 300_000}) {
            byte[] data = new byte[size];
            new Random(size).nextBytes(data);
            byte[] expected = MessageDigest.getInstance("SHA-256").digest(data);
            for (long memoryLimit : new long[] {1 << 20, 1000}) {
                try (StagedBody body = StagedBody.receive(new ByteArrayInputStream(data), size, memoryLimit, staging)) {
                    assertEquals(size, body.length());
                    assertArrayEquals(expected, body.sha256Digest(), size + " bytes, limit " + memoryLimit);
                    assertArrayEquals(expected, body.sha256Digest(), "asked twice");
                    ByteBuffer all = ByteBuffer.allocate(size);
                    for (long position = 0; all.hasRemaining(); ) {
                        position += body.read(all, position);
                    }
                    assertArrayEquals(data, all.array(), "the bytes are intact after the digest read them");
                }
            }
        }
        try (var left = Files.list(staging)) {
            assertEquals(0, left.count(), "closing removes the staged files");
        }
    }

    /** Hands out at most {@code step} bytes per read, as a socket does. */
    private static java.io.InputStream trickle(byte[] data, int length, int step) {
        return new java.io.InputStream() {
            private int at;

            @Override
            public int read() {
                return at < length ? data[at++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (at >= length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, step), length - at);
                System.arraycopy(data, at, b, off, n);
                at += n;
                return n;
            }
        };
    }

    @Test
    void smallReadsAreGatheredIntoTheStagedFile() throws Exception {
        byte[] data = new byte[2 * 1024 * 1024 + 77];
        new Random(7).nextBytes(data);
        try (StagedBody body = StagedBody.receive(trickle(data, data.length, 8192 + 5), data.length, 1 << 20, staging)) {
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), body.sha256Digest());
            ByteBuffer all = ByteBuffer.allocate(data.length);
            for (long position = 0; all.hasRemaining(); ) {
                position += body.read(all, position);
            }
            assertArrayEquals(data, all.array());
        }
    }

    @Test
    void anUploadThatEndsEarlyLeavesNothing() throws Exception {
        byte[] data = new byte[300_000];
        for (long memoryLimit : new long[] {1 << 20, 1000}) {
            ServiceException e = org.junit.jupiter.api.Assertions.assertThrows(ServiceException.class,
                    () -> StagedBody.receive(trickle(data, 200_000, 8192), data.length, memoryLimit, staging));
            assertEquals(ServiceException.Kind.UPLOAD_INCOMPLETE, e.kind());
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("after 200000 of 300000 bytes"), e.getMessage());
        }
        try (var left = Files.list(staging)) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void bodyOfBytesHasTheirDigest() throws Exception {
        byte[] data = "content".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (StagedBody body = StagedBody.of(data)) {
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), body.sha256Digest());
        }
    }
}
