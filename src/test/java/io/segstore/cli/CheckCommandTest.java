package io.segstore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code segstore.jar check}: what an operator runs on a repository while the service is stopped. */
class CheckCommandTest {

    @TempDir
    Path tmp;

    private record Run(int status, String out) {
    }

    private static Run check(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new CheckCommand().run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void findsDamageRepairsItAndThenFindsNone() throws Exception {
        Path dir = tmp.resolve("repo");
        try (Repository r = Repository.create(dir, CreateOptions.defaults().withMaxSegmentSize(8192), OpenOptions.defaults())) {
            try (Transaction t = r.begin()) {
                for (int i = 0; i < 40; i++) {
                    t.put(ObjectId.parse(String.format("%064x", i)), new byte[700 + i]);
                }
                t.commit();
            }
        }
        Run clean = check(dir.toString());
        assertEquals(0, clean.status(), clean.out());
        assertTrue(clean.out().contains("full check") && clean.out().contains("no problems found"), clean.out());

        Path victim;
        try (Stream<Path> files = Files.walk(dir.resolve("data"))) {
            victim = files.filter(Files::isRegularFile).max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
            f.seek(f.length() / 2);
            f.write(0x5a ^ f.readByte());
        }
        Run damaged = check(dir.toString());
        assertEquals(1, damaged.status(), damaged.out());
        assertTrue(damaged.out().contains("error: "), damaged.out());

        Run repaired = check("--repair", dir.toString());
        assertEquals(0, repaired.status(), repaired.out());
        assertTrue(repaired.out().contains("entries salvaged"), repaired.out());
        assertEquals(0, check(dir.toString()).status());
    }

    @Test
    void refusesWrongUsageAndARepositoryInUse() throws Exception {
        assertThrows(CommandLine.UsageException.class, () -> check());
        assertThrows(CommandLine.UsageException.class, () -> check("--repair", "--max-duration", "5", "x"));
        Path dir = tmp.resolve("busy");
        try (Repository ignored = Repository.create(dir, CreateOptions.defaults(), OpenOptions.defaults().withHostId("the-service"))) {
            Exception e = assertThrows(Exception.class, () -> check(dir.toString()));
            assertNotEquals(null, e.getMessage());
        }
    }
}
