package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Borg's NonceReservation tests (the exclusive-lock ones; we never hold a shared lock). */
class NonceReservationTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
    }

    private void writeNonceFile(String text) throws Exception {
        Files.writeString(dir.resolve("nonce"), text, StandardCharsets.US_ASCII);
    }

    private String readNonceFile() throws Exception {
        return Files.readString(dir.resolve("nonce"), StandardCharsets.US_ASCII);
    }

    @Test
    void freeNonceIsReadFromTheNonceFile() throws Exception {
        try (Repository repo = TestRepositories.create(dir)) {
            assertTrue(repo.freeNonce().isEmpty(), "no client reserved a nonce yet");
            writeNonceFile("0000000000000000");
            assertEquals(OptionalLong.of(0), repo.freeNonce());
            writeNonceFile("5000000000000000");
            assertEquals(OptionalLong.of(0x5000000000000000L), repo.freeNonce());
        }
    }

    @Test
    void nonceReservationMustStartWhereThePreviousOneEnded() throws Exception {
        try (Repository repo = TestRepositories.create(dir)) {
            assertThrows(NonceReservationException.class, () -> repo.commitNonceReservation(0x200, 15L));

            repo.commitNonceReservation(0x200, null);
            assertEquals("0000000000000200", readNonceFile());

            assertThrows(NonceReservationException.class, () -> repo.commitNonceReservation(0x200, 15L));
            assertEquals("0000000000000200", readNonceFile(), "a refused reservation changes nothing");

            repo.commitNonceReservation(0x400, 0x200L);
            assertEquals("0000000000000400", readNonceFile());
            assertEquals(OptionalLong.of(0x400), repo.freeNonce());
        }
    }
}
