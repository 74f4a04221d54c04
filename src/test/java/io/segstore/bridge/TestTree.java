package io.segstore.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A small file tree with what a backup must get right: large and small files (random data, so
 * nothing deduplicates by accident), an empty file, a sparse file with holes, hard links, a
 * symbolic link, unicode names and empty directories. About 8 MB of data.
 */
final class TestTree {

    static final String HARD_LINK_A = "links/original.bin";
    static final String HARD_LINK_B = "links/and-its-hard-link.bin";

    private TestTree() {
    }

    /** Writes the tree under {@code root} (which must not exist), seeded so each seed gives other data. */
    static Path create(Path root, long seed) {
        Random random = new Random(seed);
        try {
            Files.createDirectories(root);
            write(root.resolve("large-random.bin"), bytes(random, 3_000_000));
            byte[] half = bytes(random, 750_000);
            byte[] repeating = new byte[1_500_000];
            for (int i = 0; i < repeating.length; i++) {
                repeating[i] = i < half.length ? half[i] : (byte) (i % 251);
            }
            write(root.resolve("large-half-repeating.bin"), repeating);
            Path small = Files.createDirectories(root.resolve("small"));
            for (int i = 0; i < 24; i++) {
                write(small.resolve("file-" + i + ".txt"), bytes(random, random.nextInt(4096)));
            }
            write(small.resolve("empty"), new byte[0]);
            try (RandomAccessFile sparse = new RandomAccessFile(root.resolve("sparse-with-holes.img").toFile(), "rw")) {
                sparse.setLength(4 * 1024 * 1024);
                sparse.seek(1024 * 1024);
                sparse.write(bytes(random, 65536));
                sparse.seek(4 * 1024 * 1024 - 4096);
                sparse.write(bytes(random, 4096));
            }
            Path links = Files.createDirectories(root.resolve("links"));
            write(root.resolve(HARD_LINK_A), bytes(random, 200_000));
            Files.createLink(root.resolve(HARD_LINK_B), root.resolve(HARD_LINK_A));
            Files.createSymbolicLink(links.resolve("symlink-to-small"), Path.of("../small/file-1.txt"));
            Path unicode = Files.createDirectories(root.resolve("ünïcødé-каталог-日本"));
            write(unicode.resolve("Ωmega ✓ файл 名前.txt"), bytes(random, 10_000));
            write(unicode.resolve("emoji-🐢.dat"), bytes(random, 777));
            Files.createDirectories(root.resolve("empty-dir"));
            Files.createDirectories(root.resolve("nested/empty/deeper"));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    static void write(Path p, byte[] data) throws IOException {
        Files.write(p, data);
    }

    /**
     * Asserts that {@code copy} holds exactly what {@code original} holds: the same paths, types,
     * bytes and link targets, with the hard links still one file.
     */
    static void assertSameTree(Path original, Path copy) {
        TreeMap<String, String> expected = describe(original);
        TreeMap<String, String> actual = describe(copy);
        assertEquals(expected.keySet(), actual.keySet(), "the extracted tree has other paths");
        expected.forEach((path, what) -> assertEquals(what, actual.get(path), "different: " + path));
        try {
            Object a = Files.getAttribute(copy.resolve(HARD_LINK_A), "unix:ino");
            Object b = Files.getAttribute(copy.resolve(HARD_LINK_B), "unix:ino");
            assertEquals(a, b, "the hard links were extracted as two files");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(Files.isDirectory(copy.resolve("nested/empty/deeper")), "empty directory missing");
    }

    /** Path to a description of each entry: directory, link target, or file size and content digest. */
    private static TreeMap<String, String> describe(Path root) {
        TreeMap<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link -> " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(rel, "dir");
                } else {
                    byte[] data = Files.readAllBytes(p);
                    out.put(rel, "file " + data.length + " " + java.util.HexFormat.of().formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(data)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}
