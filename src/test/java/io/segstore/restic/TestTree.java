package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** A generated directory tree with what backups trip over, and a byte-exact comparison of two trees. */
final class TestTree {

    private TestTree() {
    }

    /**
     * Small files in nested directories (empty ones too, and an empty file), unicode names,
     * relative, absolute and dangling symbolic links, hard links, a few medium files and one
     * large file of {@code largeBytes} incompressible bytes.
     */
    static void generate(Path root, long seed, int largeBytes) throws IOException {
        Random random = new Random(seed);
        Files.createDirectories(root);
        for (int d = 0; d < 8; d++) {
            Path dir = root.resolve("dir-" + d).resolve("nested " + d);
            Files.createDirectories(dir);
            for (int f = 0; f < 20; f++) {
                Files.write(dir.resolve("file-" + f + ".txt"), bytes(random, random.nextInt(20_000)));
            }
        }
        Files.createDirectories(root.resolve("empty"));
        Files.createDirectories(root.resolve("dir-0").resolve("empty inside"));
        Files.write(root.resolve("empty-file"), new byte[0]);
        Path unicode = Files.createDirectories(root.resolve("ünïcødé ✓").resolve("日本語のディレクトリ"));
        Files.write(unicode.resolve("файл 🎉.bin"), bytes(random, 5000));
        Files.write(root.resolve("ünïcødé ✓").resolve("Ελληνικά.txt"), bytes(random, 300));
        for (int m = 0; m < 3; m++) {
            Files.write(root.resolve("medium-" + m + ".bin"), bytes(random, 1_000_000 + random.nextInt(2_000_000)));
        }
        Files.write(root.resolve("large.bin"), bytes(random, largeBytes));
        Files.createSymbolicLink(root.resolve("link-relative"), Path.of("dir-1/nested 1/file-3.txt"));
        Files.createSymbolicLink(root.resolve("link-dir"), Path.of("ünïcødé ✓"));
        Files.createSymbolicLink(root.resolve("link-absolute"), Path.of("/etc/hostname"));
        Files.createSymbolicLink(root.resolve("link-dangling"), Path.of("does/not/exist"));
        Files.createLink(root.resolve("hardlink-a"), root.resolve("dir-2/nested 2/file-7.txt"));
        Files.createLink(root.resolve("ünïcødé ✓").resolve("hardlink-b"), root.resolve("dir-2/nested 2/file-7.txt"));
    }

    static byte[] bytes(Random random, int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    /** Everything under {@code root} by relative path: "dir", "link -> target" or the file's bytes. */
    private static Map<String, Object> describe(Path root) throws IOException {
        Map<String, Object> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link -> " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(rel, "dir");
                } else {
                    out.put(rel, Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    /** Fails unless the trees hold the same names, types, link targets, bytes and hard links. */
    static void assertSame(Path expected, Path actual) {
        try {
            Map<String, Object> e = describe(expected);
            Map<String, Object> a = describe(actual);
            assertEquals(e.keySet(), a.keySet(), "the same names");
            for (String name : e.keySet()) {
                if (e.get(name) instanceof byte[] bytes) {
                    assertArrayEquals(bytes, (byte[]) a.get(name), name);
                } else {
                    assertEquals(e.get(name), a.get(name), name);
                }
            }
            assertEquals(hardLinks(expected), hardLinks(actual), "the same hard links");
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** Groups of names that share an inode (files with more than one link). */
    private static List<List<String>> hardLinks(Path root) throws IOException {
        Map<Object, List<String>> byInode = new HashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && (int) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) {
                    byInode.computeIfAbsent(Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS), k -> new java.util.ArrayList<>())
                            .add(root.relativize(p).toString());
                }
            }
        }
        return byInode.values().stream().map(l -> l.stream().sorted().toList()).sorted(java.util.Comparator.comparing(l -> l.get(0))).toList();
    }
}
