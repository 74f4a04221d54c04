package io.segstore.engine.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.Ids;
import io.segstore.engine.ObjectId;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.TestRepositories;
import io.segstore.engine.Transaction;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a power loss can leave behind: the writes that were not yet synced cut off at any byte,
 * renames of checkpoint files not yet done. Each such state is built from the real files of a
 * second commit, and opening it must give exactly the first or the second committed state.
 */
class TornWriteTest {

    @TempDir
    Path tmp;

    private Path afterFirst;
    private Path afterSecond;
    /** Segments the second commit added (data segments, then the commit segment). */
    private List<Long> secondSegments;
    private Map<ObjectId, byte[]> first;
    private Map<ObjectId, byte[]> second;

    @BeforeEach
    void twoCommits() throws IOException {
        Path repo = tmp.resolve("repo");
        try (Repository r = TestRepositories.create(repo)) {
            try (Transaction t = r.begin()) {
                CrashWorkload.first().forEach(t::put);
                t.commit();
            }
        }
        afterFirst = copy(repo, tmp.resolve("after-first"));
        try (Repository r = TestRepositories.open(repo)) {
            try (Transaction t = r.begin()) {
                CrashWorkload.applySecondTransaction(t);
                t.commit();
            }
        }
        afterSecond = copy(repo, tmp.resolve("after-second"));
        TreeSet<Long> before = segments(afterFirst);
        secondSegments = new ArrayList<>(segments(afterSecond));
        secondSegments.removeAll(before);
        first = CrashWorkload.first();
        second = CrashWorkload.first();
        CrashWorkload.applySecond(second);
    }

    @Test
    void dataSegmentCutAnywhereLeavesTheFirstCommit() throws IOException {
        long data = secondSegments.get(0);
        long commit = secondSegments.get(secondSegments.size() - 1);
        long length = Files.size(segment(afterSecond, data));
        List<Long> cuts = new ArrayList<>(List.of(0L, 1L, 7L, 8L, 9L, 49L, 50L, length / 3, length / 2, length - 42, length - 1, length));
        for (long cut : cuts) {
            Path dir = variant("data-" + cut);
            truncate(segment(dir, data), cut);
            Files.deleteIfExists(segment(dir, commit));
            assertOpensAs(dir, first, "data segment cut at " + cut);
        }
    }

    @Test
    void commitSegmentCutShortLeavesTheFirstCommitAndWholeGivesTheSecond() throws IOException {
        long commit = secondSegments.get(secondSegments.size() - 1);
        for (long cut = 0; cut <= 17; cut++) {
            Path dir = variant("commit-" + cut);
            truncate(segment(dir, commit), cut);
            assertOpensAs(dir, cut == 17 ? second : first, "commit segment cut at " + cut);
        }
    }

    @Test
    void commitSegmentWithAFlippedByteDoesNotCount() throws IOException {
        long commit = secondSegments.get(secondSegments.size() - 1);
        for (long at = 8; at < 17; at++) {
            Path dir = variant("flip-" + at);
            flip(segment(dir, commit), at);
            assertOpensAs(dir, first, "commit entry damaged at byte " + at);
        }
    }

    @Test
    void checkpointRenamesCutShortStillGiveTheSecondCommit() throws IOException {
        long t = secondSegments.get(secondSegments.size() - 1);
        // temporaries written, nothing renamed yet
        Path a = variant("tmp-only");
        for (String name : List.of("hints.", "index.", "integrity.", "segstore-index.")) {
            Files.move(a.resolve(name + t), a.resolve(name + t + ".tmp"));
        }
        restoreOldCheckpoint(a);
        assertOpensAs(a, second, "checkpoint temporaries only");
        // integrity renamed, hints and index not
        Path b = variant("integrity-only");
        Files.move(b.resolve("hints." + t), b.resolve("hints." + t + ".tmp"));
        Files.move(b.resolve("index." + t), b.resolve("index." + t + ".tmp"));
        Files.move(b.resolve("segstore-index." + t), b.resolve("segstore-index." + t + ".tmp"));
        restoreOldCheckpoint(b);
        assertOpensAs(b, second, "only integrity renamed");
        // hints renamed, index not
        Path c = variant("hints-renamed");
        Files.move(c.resolve("index." + t), c.resolve("index." + t + ".tmp"));
        Files.move(c.resolve("segstore-index." + t), c.resolve("segstore-index." + t + ".tmp"));
        restoreOldCheckpoint(c);
        assertOpensAs(c, second, "hints renamed, index not");
    }

    @Test
    void eitherIndexCopyAloneIsEnoughAndDamagedOnesAreRebuilt() throws IOException {
        long t = secondSegments.get(secondSegments.size() - 1);
        Path a = variant("own-index-damaged");
        flip(a.resolve("segstore-index." + t), 100);
        assertOpensAs(a, second, "segstore-index damaged");
        Path b = variant("borg-index-damaged");
        flip(b.resolve("index." + t), 5000);
        assertOpensAs(b, second, "Borg's index damaged (ours is used)");
        Path c = variant("both-damaged");
        flip(c.resolve("segstore-index." + t), 100);
        flip(c.resolve("index." + t), 5000);
        assertOpensAs(c, second, "both index copies damaged");
        Path d = variant("hints-damaged");
        flip(d.resolve("hints." + t), 3);
        assertOpensAs(d, second, "hints damaged");
    }

    private void restoreOldCheckpoint(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(afterFirst)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith("index.") || n.startsWith("hints.") || n.startsWith("integrity.") || n.startsWith("segstore-index.")) {
                    Files.copy(f, dir.resolve(n), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void assertOpensAs(Path dir, Map<ObjectId, byte[]> expected, String what) {
        try (Repository repo = TestRepositories.open(dir)) {
            assertEquals(expected.size(), repo.objectCount(), what + ": object count");
            expected.forEach((id, data) -> assertArrayEquals(data, repo.get(id), what + ": object " + id));
            for (int i = 0; i < 300; i++) {
                assertEquals(expected.containsKey(Ids.h2(i)), repo.contains(Ids.h2(i)), what + ": presence of " + i);
            }
            CheckResult check = repo.check(CheckOptions.full(), ProgressListener.NONE);
            assertTrue(check.ok(), what + ": " + check.errors());
        }
    }

    private Path variant(String name) throws IOException {
        return copy(afterSecond, tmp.resolve("variant-" + name));
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                String rel = from.relativize(p).toString();
                if (rel.startsWith("lock")) {
                    continue;
                }
                Path target = to.resolve(rel);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    private static TreeSet<Long> segments(Path repo) throws IOException {
        TreeSet<Long> out = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(repo.resolve("data"))) {
            walk.filter(Files::isRegularFile).forEach(p -> out.add(Long.parseLong(p.getFileName().toString())));
        }
        return out;
    }

    private static Path segment(Path repo, long n) {
        return repo.resolve("data").resolve(Long.toString(n / 1000)).resolve(Long.toString(n));
    }

    private static void truncate(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }

    private static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
    }
}
