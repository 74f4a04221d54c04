package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged segments: flipped bytes anywhere, truncated files. Reads never return wrong bytes,
 * check reports the damage, repair keeps every intact entry and leaves a repository that checks
 * clean.
 */
class CorruptionTest {

    @TempDir
    Path tmp;

    private static byte[] data(int i) {
        byte[] b = new byte[50 + (i * 131) % 5000];
        new Random(i).nextBytes(b);
        return b;
    }

    private Map<ObjectId, byte[]> fill(Path dir, int n) {
        Map<ObjectId, byte[]> all = new HashMap<>();
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(32 * 1024))) {
            for (int round = 0; round < 4; round++) {
                try (Transaction t = repo.begin()) {
                    for (int i = round * n / 4; i < (round + 1) * n / 4; i++) {
                        t.put(Ids.h2(i), data(i));
                        all.put(Ids.h2(i), data(i));
                    }
                    t.commit();
                }
            }
        }
        return all;
    }

    private static List<Path> dataSegments(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir.resolve("data"))) {
            return walk.filter(Files::isRegularFile).filter(p -> {
                try {
                    return Files.size(p) > 17;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().toList();
        }
    }

    @Test
    void flippedBytesAreNeverServedAndRepairKeepsEveryIntactObject() throws IOException {
        Path dir = tmp.resolve("r");
        Map<ObjectId, byte[]> all = fill(dir, 400);
        Random r = new Random(4);
        List<Path> segments = dataSegments(dir);
        for (int k = 0; k < 12; k++) {
            Path seg = segments.get(r.nextInt(segments.size()));
            try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
                long at = 8 + (long) (r.nextDouble() * (f.length() - 8));
                f.seek(at);
                int b = f.read();
                f.seek(at);
                f.write(b ^ (1 << r.nextInt(8)));
            }
        }
        try (Repository repo = TestRepositories.open(dir)) {
            int damaged = 0;
            for (Map.Entry<ObjectId, byte[]> e : all.entrySet()) {
                try {
                    assertArrayEquals(e.getValue(), repo.get(e.getKey()), "a read returns the stored bytes or fails");
                } catch (IntegrityException ex) {
                    damaged++;
                }
            }
            assertTrue(damaged > 0, "some flips hit object data");
            CheckResult check = repo.check(CheckOptions.full(), ProgressListener.NONE);
            assertFalse(check.ok(), "check reports the damage");
            assertTrue(check.errors().stream().anyMatch(m -> m.contains("checksum mismatch") || m.contains("Invalid segment")),
                    check.errors().toString());

            CheckResult repair = repo.check(CheckOptions.repairing(), ProgressListener.NONE);
            assertTrue(repair.ok());
            int kept = 0;
            for (Map.Entry<ObjectId, byte[]> e : all.entrySet()) {
                if (repo.contains(e.getKey())) {
                    assertArrayEquals(e.getValue(), repo.get(e.getKey()), "repair keeps intact objects intact");
                    kept++;
                }
            }
            assertTrue(kept >= all.size() - 12 - damaged, "repair salvaged around the damage: kept " + kept);
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok(), "clean after repair");
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok(), "and still clean after reopening");
        }
    }

    @Test
    void truncatedMiddleSegmentIsReportedAndRepairedWithoutLosingTheRest() throws IOException {
        Path dir = tmp.resolve("r");
        Map<ObjectId, byte[]> all = fill(dir, 200);
        List<Path> segments = dataSegments(dir);
        Path victim = segments.get(segments.size() / 2);
        long length = Files.size(victim);
        try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
            f.setLength(length / 2);
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertFalse(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
            long reads = all.keySet().stream().filter(id -> {
                try {
                    return java.util.Arrays.equals(all.get(id), repo.get(id));
                } catch (IntegrityException e) {
                    return false;
                }
            }).count();
            assertTrue(reads < all.size(), "objects of the truncated half are not readable");
            assertTrue(repo.check(CheckOptions.repairing(), ProgressListener.NONE).ok());
            List<ObjectId> lost = new ArrayList<>();
            for (Map.Entry<ObjectId, byte[]> e : all.entrySet()) {
                if (repo.contains(e.getKey())) {
                    assertArrayEquals(e.getValue(), repo.get(e.getKey()));
                } else {
                    lost.add(e.getKey());
                }
            }
            assertEquals(all.size() - reads, lost.size(), "exactly the unreadable objects are gone");
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void objectWhoseBytesChangedUnderTheSameCrcIsStillCaughtByItsId() throws IOException {
        Path dir = tmp.resolve("r");
        try (Repository repo = TestRepositories.create(dir)) {
            try (Transaction t = repo.begin()) {
                t.put(Ids.h(1), Ids.bytes("one"));
                t.put(Ids.h(2), Ids.bytes("two"));
                t.commit();
            }
        }
        // swap the ids of the two entries in the segment: CRCs then fail (they cover the id)
        Path seg = dataSegments(dir).get(0);
        byte[] bytes = Files.readAllBytes(seg);
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int a = text.indexOf(String.format("%032d", 1));
        bytes[a + 31] = '2';
        Files.write(seg, bytes);
        try (Repository repo = TestRepositories.open(dir)) {
            assertThrows(IntegrityException.class, () -> repo.get(Ids.h(1)));
            assertArrayEquals(Ids.bytes("two"), repo.get(Ids.h(2)));
        }
    }

    @Test
    void commitSegmentWithDamagedBytesBeforeAnIntactCommitIsRepairedNotRolledBack() throws IOException {
        Path dir = tmp.resolve("r");
        Map<ObjectId, byte[]> all = fill(dir, 200);
        long committedAs;
        try (Repository repo = TestRepositories.open(dir)) {
            committedAs = repo.transactionId();
        }
        Path last;
        try (Stream<Path> walk = Files.walk(dir.resolve("data"))) {
            last = walk.filter(Files::isRegularFile)
                    .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString()))).orElseThrow();
        }
        assertEquals(committedAs, Long.parseLong(last.getFileName().toString()));
        try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
            f.seek(2);
            int b = f.read();
            f.seek(2);
            f.write(b ^ 0x10); // the magic, not the COMMIT at the end
        }
        try (Repository repo = TestRepositories.open(dir)) {
            assertTrue(Files.exists(last), "a segment that ends in a COMMIT was committed: it must not be deleted as uncommitted");
            assertTrue(repo.checkNeeded() != null, "the damage is reported");
            assertThrows(CheckNeededException.class, () -> repo.get(Ids.h2(0)));
            assertTrue(repo.check(CheckOptions.repairing(), ProgressListener.NONE).ok());
            assertEquals(committedAs, repo.transactionId(), "the last transaction is kept");
            all.forEach((id, data) -> assertArrayEquals(data, repo.get(id)));
            assertTrue(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void objectWrittenAfterARollbackIsReadFromTheNewSegmentNotAStaleHandle() throws IOException {
        Path dir = tmp.resolve("r");
        try (Repository repo = TestRepositories.create(dir, CreateOptions.defaults())) {
            try (Transaction t = repo.begin()) {
                t.put(Ids.h(1), Ids.bytes("kept"));
                t.commit();
            }
            try (Transaction t = repo.begin()) {
                t.put(Ids.h(2), Ids.bytes("rolled back"));
                // reading it opens a handle on the uncommitted segment
                assertArrayEquals(Ids.bytes("rolled back"), t.get(Ids.h(2)));
                t.rollback();
            }
            try (Transaction t = repo.begin()) {
                // the rolled-back segment number is used again, for a different file
                t.put(Ids.h(3), Ids.bytes("written after the rollback"));
                assertArrayEquals(Ids.bytes("written after the rollback"), t.get(Ids.h(3)));
                t.commit();
            }
            assertArrayEquals(Ids.bytes("written after the rollback"), repo.get(Ids.h(3)));
            assertFalse(repo.contains(Ids.h(2)));
            assertArrayEquals(Ids.bytes("kept"), repo.get(Ids.h(1)));
        }
    }
}
