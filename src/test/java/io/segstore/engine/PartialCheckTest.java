package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.format.RepositoryConfig;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A partial check verifies for a bounded time and the next one resumes where it stopped. */
class PartialCheckTest {

    @TempDir
    Path tmp;

    private Repository repositoryWithManySegments(Path dir) {
        Repository repo = TestRepositories.create(dir, CreateOptions.defaults().withMaxSegmentSize(4096));
        try (Transaction t = repo.begin()) {
            for (int i = 0; i < 200; i++) {
                t.put(Ids.h2(i), new byte[500]);
            }
            t.commit();
        }
        return repo;
    }

    @Test
    void partialChecksResumeUntilTheWholeLogWasVerified() throws Exception {
        Path dir = tmp.resolve("r");
        try (Repository repo = repositoryWithManySegments(dir)) {
            long segments = repo.store().list().length;
            long covered = 0;
            long last = -1;
            int runs = 0;
            while (true) {
                // a 1 ns budget: every run stops after its first segment
                CheckResult r = repo.check(CheckOptions.partial(Duration.ofNanos(1)), ProgressListener.NONE);
                runs++;
                assertTrue(r.errors().isEmpty(), r.errors().toString());
                assertEquals("partial", r.mode());
                covered += r.segmentsChecked();
                if (r.finished()) {
                    break;
                }
                assertTrue(r.lastSegmentChecked() > last, "each run continues after the previous one");
                last = r.lastSegmentChecked();
                assertEquals(Long.toString(last), repo.config().get(RepositoryConfig.REPOSITORY, "last_segment_checked"));
            }
            assertEquals(segments, covered, "every segment checked exactly once across the runs");
            assertTrue(runs > 5);
            assertNull(repo.config().get(RepositoryConfig.REPOSITORY, "last_segment_checked"), "the resume point is forgotten at the end");
        }
    }

    @Test
    void partialCheckFindsDamageInTheSegmentsItCovers() throws Exception {
        Path dir = tmp.resolve("r");
        try (Repository repo = repositoryWithManySegments(dir)) {
            long[] segs = repo.store().list();
            Path victim = ((LocalSegmentStore) repo.store()).path(segs[segs.length / 2]);
            try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
                f.seek(100);
                f.write(f.read() ^ 1);
            }
            List<String> errors = new ArrayList<>();
            CheckResult r;
            do {
                r = repo.check(CheckOptions.partial(Duration.ofMillis(1)), ProgressListener.NONE);
                errors.addAll(r.errors());
            } while (!r.finished());
            assertEquals(1, errors.size(), errors.toString());
            assertTrue(errors.get(0).contains("checksum mismatch"), errors.get(0));
            assertFalse(repo.check(CheckOptions.full(), ProgressListener.NONE).ok());
        }
    }

    @Test
    void progressIsReportedUpToTheTotal() {
        Path dir = tmp.resolve("r");
        try (Repository repo = repositoryWithManySegments(dir)) {
            List<long[]> seen = new ArrayList<>();
            repo.check(CheckOptions.full(), (phase, done, total) -> seen.add(new long[] {done, total}));
            assertTrue(seen.size() > 10);
            long[] lastReport = seen.get(seen.size() - 1);
            assertEquals(lastReport[1], lastReport[0], "the last report says done");
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(seen.get(i)[0] >= seen.get(i - 1)[0], "progress never goes back");
            }
        }
    }
}
