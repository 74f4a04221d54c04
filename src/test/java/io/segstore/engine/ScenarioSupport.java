package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Helpers shared by the ports of Borg's repository scenarios: a look at the engine's ledgers
 * (Borg's {@code segments}, {@code compact}, {@code shadow_index} and quota use, including what
 * an open transaction has not committed yet), and file-level tools to damage a repository or to
 * take the image a crash would leave behind.
 */
final class ScenarioSupport {

    /** Names of the checkpoint files a transaction T owns. */
    static final List<String> CHECKPOINT_PREFIXES = List.of("index.", "hints.", "integrity.", "segstore-index.");

    private ScenarioSupport() {
    }

    static ObjectId h(long x) {
        return Ids.h(x);
    }

    static byte[] b(String s) {
        return Ids.bytes(s);
    }

    // ---- Borg's add_keys ------------------------------------------------------------------

    /**
     * Borg's add_keys: commits H(0)=foo, H(1)=bar, H(3)=bar, then leaves a second transaction
     * open that overwrites H(1), adds H(2) and deletes H(3).
     */
    static Transaction addKeys(Repository repo) {
        Transaction t = repo.begin();
        t.put(h(0), b("foo"));
        t.put(h(1), b("bar"));
        t.put(h(3), b("bar"));
        t.commit();
        Transaction second = repo.begin();
        second.put(h(1), b("bar2"));
        second.put(h(2), b("boo"));
        second.delete(h(3));
        return second;
    }

    // ---- ledgers --------------------------------------------------------------------------

    private static long[] words(ObjectId id) {
        byte[] k = id.toBytes();
        return new long[] {KeyIndex.word(k, 0), KeyIndex.word(k, 1), KeyIndex.word(k, 2), KeyIndex.word(k, 3)};
    }

    /** Committed shadow-index list of an id (null: no entry). */
    static long[] shadow(Repository repo, ObjectId id) {
        long[] k = words(id);
        synchronized (repo.state) {
            return repo.state.shadow.get(k[0], k[1], k[2], k[3]);
        }
    }

    /** What the open transaction adds to the shadow index for an id (null: nothing). */
    static long[] pendingShadow(Transaction t, ObjectId id) {
        ShadowIndex s = t.delta.shadow();
        if (s == null) {
            return null;
        }
        long[] k = words(id);
        return s.get(k[0], k[1], k[2], k[3]);
    }

    /** Borg's compact[segment]: committed freeable bytes plus those of the open transaction. */
    static long freeable(Repository repo, Transaction t, long segment) {
        long n;
        synchronized (repo.state) {
            n = repo.state.usage.freeable(segment);
        }
        return n + (t == null ? 0 : t.delta.usage.freeable(segment));
    }

    static long freeable(Repository repo, long segment) {
        return freeable(repo, null, segment);
    }

    /** Borg's storage_quota_use as the open transaction sees it. */
    static long quotaUse(Repository repo, Transaction t) {
        long n;
        synchronized (repo.state) {
            n = repo.state.quotaUse;
        }
        return n + (t == null ? 0 : t.delta.quota);
    }

    static Set<Long> liveLedgerSegments(Repository repo) {
        synchronized (repo.state) {
            return new TreeSet<>(repo.state.usage.liveView().keySet());
        }
    }

    static Set<Long> freeableLedgerSegments(Repository repo) {
        synchronized (repo.state) {
            return new TreeSet<>(repo.state.usage.freeableView().keySet());
        }
    }

    /** The committed transaction id as a number (-1 before the first commit). */
    static long tid(Repository repo) {
        Long t = repo.transactionId();
        return t == null ? -1 : t;
    }

    // ---- files ----------------------------------------------------------------------------

    static Path segmentFile(Path repoDir, long segment) {
        return repoDir.resolve("data").resolve(Long.toString(segment / 1000)).resolve(Long.toString(segment));
    }

    /** Numbers of the segment files on disk, ascending. */
    static List<Long> segments(Path repoDir) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(repoDir.resolve("data"))) {
            walk.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.chars().allMatch(Character::isDigit))
                    .forEach(n -> out.add(Long.parseLong(n)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(null);
        return out;
    }

    /** Top-level file names starting with {@code prefix} and followed by digits only. */
    static List<String> filesWithPrefix(Path repoDir, String prefix) {
        try (Stream<Path> list = Files.list(repoDir)) {
            return list.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix) && n.length() > prefix.length()
                            && n.substring(prefix.length()).chars().allMatch(Character::isDigit))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Borg's list_indices: index.N files. */
    static List<String> borgIndexes(Path repoDir) {
        return filesWithPrefix(repoDir, "index.");
    }

    /** Removes Borg's index.N and Segstore's segstore-index.N files (hints and integrity stay). */
    static void deleteIndexes(Path repoDir) throws IOException {
        for (String prefix : List.of("index.", "segstore-index.")) {
            for (String name : filesWithPrefix(repoDir, prefix)) {
                Files.delete(repoDir.resolve(name));
            }
        }
    }

    /** Removes every checkpoint file (index, hints, integrity, segstore-index). */
    static void deleteCheckpoints(Path repoDir) throws IOException {
        for (String prefix : CHECKPOINT_PREFIXES) {
            for (String name : filesWithPrefix(repoDir, prefix)) {
                Files.delete(repoDir.resolve(name));
            }
        }
    }

    /** The checkpoint file names of transaction {@code t} that exist. */
    static List<String> checkpointFiles(Path repoDir, long t) {
        List<String> out = new ArrayList<>();
        for (String prefix : CHECKPOINT_PREFIXES) {
            if (Files.isRegularFile(repoDir.resolve(prefix + t))) {
                out.add(prefix + t);
            }
        }
        return out;
    }

    /**
     * What a power cut would leave: a copy of every file of the repository as it is on disk now,
     * Borg's lock files included (the lock of a process that is gone is stale).
     */
    static Path crashImage(Path repoDir, Path target) throws IOException {
        try (Stream<Path> walk = Files.walk(repoDir)) {
            for (Path p : walk.toList()) {
                Path rel = repoDir.relativize(p);
                Path dst = target.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(p, dst, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return target;
    }

    static void copyFile(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    }

    /** Replaces every occurrence of {@code from} by {@code to} (same length) in a file; returns how many. */
    static int replaceInFile(Path file, byte[] from, byte[] to) throws IOException {
        if (from.length != to.length) {
            throw new IllegalArgumentException("replacement must keep the length");
        }
        byte[] data = Files.readAllBytes(file);
        int n = 0;
        for (int i = 0; i + from.length <= data.length; i++) {
            if (Arrays.equals(data, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, data, i, to.length);
                n++;
                i += from.length - 1;
            }
        }
        Files.write(file, data);
        return n;
    }

    /** Overwrites the last byte of a file (Borg's way of breaking a COMMIT). */
    static void overwriteLastByte(Path file, byte value) throws IOException {
        byte[] data = Files.readAllBytes(file);
        data[data.length - 1] = value;
        Files.write(file, data);
    }

    /** Writes {@code bytes} into a file at {@code offset}, in place. */
    static void overwriteAt(Path file, long offset, byte[] bytes) throws IOException {
        byte[] data = Files.readAllBytes(file);
        System.arraycopy(bytes, 0, data, (int) offset, bytes.length);
        Files.write(file, data);
    }

    // ---- reading segments the way a repo dump does ----------------------------------------

    /** One log entry as found in a segment file. */
    record Entry(long segment, long offset, int tag, ObjectId id, long size) {
    }

    /** Every entry of every segment file, parsed independently of the engine (headers only). */
    static List<Entry> entries(Path repoDir) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (long segment : segments(repoDir)) {
            byte[] data = Files.readAllBytes(segmentFile(repoDir, segment));
            ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            int pos = SegmentFile.MAGIC_LENGTH;
            while (pos + SegmentFile.HEADER_SIZE <= data.length) {
                long size = Integer.toUnsignedLong(buf.getInt(pos + 4));
                int tag = buf.get(pos + 8);
                ObjectId id = null;
                if (tag != SegmentFile.TAG_COMMIT) {
                    id = ObjectId.of(Arrays.copyOfRange(data, pos + SegmentFile.HEADER_SIZE, pos + SegmentFile.PUT_HEADER_SIZE));
                }
                out.add(new Entry(segment, pos, tag, id, size));
                pos += (int) size;
            }
        }
        return out;
    }

    // ---- check ----------------------------------------------------------------------------

    /** Borg's check helper: runs a check, compares its verdict, and makes sure no temporary file is left. */
    static CheckResult check(Repository repo, boolean repair, boolean expectedOk) {
        CheckResult r = repo.check(repair ? CheckOptions.repairing() : CheckOptions.full(), ProgressListener.NONE);
        assertEquals(expectedOk, r.ok(), () -> "check verdict; errors: " + r.errors());
        assertNoTemporaryFiles(repo.path());
        return r;
    }

    static void assertNoTemporaryFiles(Path repoDir) {
        try (Stream<Path> walk = Files.walk(repoDir)) {
            List<String> tmp = walk.map(p -> repoDir.relativize(p).toString()).filter(n -> n.contains("tmp")).toList();
            assertTrue(tmp.isEmpty(), () -> "temporary files left behind: " + tmp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Borg's list_objects: the numbers x of the H(x) ids present. */
    static Set<Long> listNumbers(Repository repo) {
        Set<Long> out = new TreeSet<>();
        for (ObjectId id : repo.list(Integer.MAX_VALUE, null)) {
            out.add(Long.parseLong(new String(id.toBytes(), StandardCharsets.US_ASCII)));
        }
        return out;
    }
}
