package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Objects whose data comes from a file in chunks are stored exactly like those from memory. */
class StreamingPutTest {

    @TempDir
    Path tmp;

    @Test
    void dataReadFromAFileInChunksIsStoredIntact() throws IOException {
        byte[] big = new byte[5 * 1024 * 1024 + 17];
        new Random(3).nextBytes(big);
        Path staged = Files.write(tmp.resolve("upload"), big);
        try (Repository repo = TestRepositories.create(tmp.resolve("r"), CreateOptions.defaults().withMaxSegmentSize(1 << 20))) {
            try (Transaction t = repo.begin(); FileChannel ch = FileChannel.open(staged, StandardOpenOption.READ)) {
                t.put(Ids.h(1), ObjectSource.of(ch, big.length));
                t.put(Ids.h(2), ObjectSource.of(ByteBuffer.wrap(big, 100, 1000)));
                t.put(Ids.h(3), ObjectSource.of(ByteBuffer.allocate(0)));
                assertArrayEquals(big, t.get(Ids.h(1)));
                t.commit();
            }
            assertArrayEquals(big, repo.get(Ids.h(1)));
            assertArrayEquals(java.util.Arrays.copyOfRange(big, 100, 1100), repo.get(Ids.h(2)));
            assertArrayEquals(new byte[0], repo.get(Ids.h(3)));
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void aSourceThatEndsEarlyFailsThePutAndDoomsTheTransaction() throws IOException {
        Path staged = Files.write(tmp.resolve("short"), new byte[1000]);
        try (Repository repo = TestRepositories.create(tmp.resolve("r"))) {
            try (Transaction t = repo.begin(); FileChannel ch = FileChannel.open(staged, StandardOpenOption.READ)) {
                // claims more than the file holds
                assertThrows(RepositoryIOException.class, () -> t.put(Ids.h(1), ObjectSource.of(ch, 5000)));
            }
            assertTrue(!repo.contains(Ids.h(1)));
        }
    }
}
