package io.segstore.engine;

import static io.segstore.engine.ScenarioSupport.b;
import static io.segstore.engine.ScenarioSupport.check;
import static io.segstore.engine.ScenarioSupport.h;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.HintsFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Borg's RepositoryAuxiliaryCorruptionTestCase: damaged, missing or unreadable hints, index and
 * integrity files of transaction 1 (H(0)=foo committed). Where Borg damages index.1, Segstore's
 * own copy segstore-index.1 is damaged the same way, or the engine would simply use it.
 */
class AuxiliaryFileCorruptionTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void setUp() {
        dir = tmp.resolve("repository");
        try (Repository repo = TestRepositories.create(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("foo"));
            assertEquals(1, t.commit());
        }
        assertEquals(List.of("hints.1", "index.1", "integrity.1", "segstore-index.1"),
                ScenarioSupport.checkpointFiles(dir, 1).stream().sorted().toList());
    }

    private Path file(String name) {
        return dir.resolve(name);
    }

    /** Borg's do_commit: overwrite H(0) and commit; then the repository must hold the new value. */
    private void doCommit() {
        try (Repository repo = TestRepositories.open(dir)) {
            Transaction t = repo.begin();
            t.put(h(0), b("fox"));
            t.commit();
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertArrayEquals(b("fox"), repo.get(h(0)));
            assertEquals(1, repo.objectCount());
            check(repo, false, true);
        }
    }

    @Test
    void hintsWithTrailingGarbageAreRebuiltAndCommitsWork() throws Exception {
        Files.write(file("hints.1"), b("123456789"), StandardOpenOption.APPEND);
        doCommit();
    }

    @Test
    void deletedHintsAreRebuiltAndCommitsWork() throws Exception {
        Files.delete(file("hints.1"));
        doCommit();
    }

    @Test
    void deletedIndexIsRebuiltAndCommitsWork() throws Exception {
        Files.delete(file("index.1"));
        Files.delete(file("segstore-index.1"));
        doCommit();
    }

    /** Borg lets an OS error on the hints file surface instead of silently rebuilding. */
    @Test
    void unreadableHintsFileIsReportedAsAnIoError() throws Exception {
        Files.delete(file("hints.1"));
        Files.createDirectory(file("hints.1"));
        assertThrows(RepositoryIOException.class, this::doCommit);
    }

    @Test
    void garbageIndexIsRebuiltAndCommitsWork() throws Exception {
        Files.write(file("index.1"), b("123456789"));
        Files.write(file("segstore-index.1"), b("123456789"));
        doCommit();
    }

    @Test
    void garbageIndexIsRebuiltForReadingAlone() throws Exception {
        Files.write(file("index.1"), b("123456789"));
        Files.write(file("segstore-index.1"), b("123456789"));
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(1, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
        }
    }

    /** Flips the lowest bit of H(0) wherever its 32 bytes are stored in the file. */
    private static void flipKeyBit(Path file) throws IOException {
        byte[] key = h(0).toBytes();
        byte[] corrupted = key.clone();
        corrupted[0] ^= 1;
        byte[] before = Files.readAllBytes(file);
        int n = ScenarioSupport.replaceInFile(file, key, corrupted);
        assertEquals(1, n, "H(0) is stored once in " + file.getFileName());
        assertEquals(before.length, Files.size(file));
    }

    @Test
    void indexWithAFlippedKeyBitIsCaughtByItsIntegrityDigestAndRebuilt() throws Exception {
        flipKeyBit(file("index.1"));
        flipKeyBit(file("segstore-index.1"));
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(1, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            check(repo, false, true);
        }
    }

    /** Borg's documented limit: without integrity data a plausible index is trusted as it is. */
    @Test
    void indexWithAFlippedKeyBitGoesUnnoticedWithoutIntegrityFile() throws Exception {
        flipKeyBit(file("index.1"));
        flipKeyBit(file("segstore-index.1"));
        Files.delete(file("integrity.1"));
        try (Repository repo = TestRepositories.open(dir)) {
            // the index still holds one key ...
            assertEquals(1, repo.objectCount());
            // ... but not the real one
            assertThrows(ObjectNotFoundException.class, () -> repo.get(h(0)));
        }
    }

    @Test
    void unreadableIndexFileIsReportedAsAnIoError() throws Exception {
        for (String name : List.of("index.1", "segstore-index.1")) {
            Files.delete(file(name));
            Files.createDirectory(file(name));
        }
        assertThrows(RepositoryIOException.class, this::doCommit);
    }

    @Test
    void integrityFileOfAnUnknownVersionIsIgnored() throws Exception {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packMapHeader(1);
            p.packString("version");
            p.packDouble(4.7);
            Files.write(file("integrity.1"), p.toByteArray());
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(1, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
        }
    }

    /**
     * Borg's _subtly_corrupted_hints_setup: in append-only mode H(1)=bar and H(2)=baz go to segment
     * 2 and H(2) is overwritten in segment 4; then hints.5 claims segment 2 holds no live object
     * although H(1) lives there.
     */
    private void subtlyCorruptHints() throws Exception {
        try (Repository repo = TestRepositories.open(dir)) {
            repo.setAppendOnly(true);
            assertEquals(1, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            Transaction t = repo.begin();
            t.put(h(1), b("bar"));
            t.put(h(2), b("baz"));
            assertEquals(3, t.commit());
            Transaction t2 = repo.begin();
            t2.put(h(2), b("bazz"));
            assertEquals(5, t2.commit());
        }
        Path hints = file("hints.5");
        List<byte[]> shadowIds = new ArrayList<>();
        List<long[]> shadowSegments = new ArrayList<>();
        HintsFile.Contents contents;
        try (InputStream in = Files.newInputStream(hints)) {
            contents = HintsFile.read(in, (id, segments) -> {
                shadowIds.add(id);
                shadowSegments.add(segments);
            });
        }
        assertEquals(1L, contents.segments().get(2L), "precondition: segment 2 holds one live object");
        TreeMap<Long, Long> corrupted = new TreeMap<>(contents.segments());
        corrupted.put(2L, 0L);
        byte[] original = Files.readAllBytes(hints);
        try (OutputStream out = Files.newOutputStream(hints, StandardOpenOption.TRUNCATE_EXISTING)) {
            HintsFile.write(out, new HintsFile.Contents(corrupted, contents.compact(), contents.storageQuotaUse()),
                    new HintsFile.ShadowSource() {
                        @Override
                        public int size() {
                            return shadowIds.size();
                        }

                        @Override
                        public void forEach(HintsFile.ShadowEntryConsumer consumer) throws IOException {
                            for (int i = 0; i < shadowIds.size(); i++) {
                                consumer.accept(shadowIds.get(i), shadowSegments.get(i));
                            }
                        }
                    });
        }
        assertNotEquals(new String(original, java.nio.charset.StandardCharsets.ISO_8859_1),
                new String(Files.readAllBytes(hints), java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @Test
    void subtlyCorruptedHintsAreCaughtByTheirIntegrityDigestAndRebuilt() throws Exception {
        subtlyCorruptHints();
        try (Repository repo = TestRepositories.open(dir)) {
            repo.setAppendOnly(false);
            Transaction t = repo.begin();
            t.put(h(3), b("1234"));
            t.commit();
            repo.compact(0.1, ProgressListener.NONE);
            assertEquals(4, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            assertArrayEquals(b("bar"), repo.get(h(1)));
            assertArrayEquals(b("bazz"), repo.get(h(2)));
            assertArrayEquals(b("1234"), repo.get(h(3)));
            check(repo, false, true);
        }
    }

    @Test
    void subtlyCorruptedHintsWithoutIntegrityFileStopCompactionWithAReferenceCountError() throws Exception {
        subtlyCorruptHints();
        Files.delete(file("integrity.5"));
        try (Repository repo = TestRepositories.open(dir)) {
            repo.setAppendOnly(false);
            Transaction t = repo.begin();
            t.put(h(3), b("1234"));
            t.commit();
            CheckNeededException e = assertThrows(CheckNeededException.class, () -> repo.compact(0.1, ProgressListener.NONE));
            assertTrue(e.getMessage().contains("Corrupted segment reference count"), e.getMessage());
        }
    }

    /** Only Borg's index.1 is damaged: the engine serves from its own segstore-index.1. */
    @Test
    void damagedBorgIndexAloneIsServedFromSegstoreIndex() throws Exception {
        flipKeyBit(file("index.1"));
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(1, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            check(repo, false, true);
            Transaction t = repo.begin();
            t.put(h(1), b("bar"));
            t.commit();
        }
        // the next checkpoint wrote a Borg index that Borg (and the engine without its own copy) can use
        for (String name : ScenarioSupport.filesWithPrefix(dir, "segstore-index.")) {
            Files.delete(file(name));
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(2, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            assertArrayEquals(b("bar"), repo.get(h(1)));
            check(repo, false, true);
        }
    }

    /** Only segstore-index.1 is damaged: the engine falls back to Borg's index.1. */
    @Test
    void damagedSegstoreIndexAloneFallsBackToBorgIndex() throws Exception {
        Files.write(file("segstore-index.1"), b("123456789"));
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(1, repo.objectCount());
            assertArrayEquals(b("foo"), repo.get(h(0)));
            check(repo, false, true);
        }
        doCommit();
    }
}
