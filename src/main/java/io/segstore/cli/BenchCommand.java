package io.segstore.cli;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import io.segstore.engine.format.BorgIndexFile;
import io.segstore.engine.format.HintsFile;
import io.segstore.engine.format.IntegrityFile;
import io.segstore.engine.format.KeyIndexFile;
import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The engine's workload benchmark, in process: put N objects of a given size and commit; get
 * them all in random order; delete every second one and commit; compact; check. Prints one JSON
 * line. tools/borg-engine-bench.py runs the same workload on Borg's own engine.
 */
final class BenchCommand implements CommandLine.Command {

    private static final double MB = 1e6;

    @Override
    public String usage() {
        return "bench --count N --size BYTES [--max-segment-size BYTES] [--index-only] DIR";
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Arguments a = new Arguments(args, Set.of("count", "size", "max-segment-size"), Set.of("index-only"));
        if (a.positional().size() != 1) {
            throw new CommandLine.UsageException("name one repository directory (it must not exist yet)");
        }
        int count = (int) a.longOption("count", 100_000, 1);
        int size = (int) a.longOption("size", 4096, 0);
        if (size > SegmentFile.MAX_DATA_SIZE) {
            throw new CommandLine.UsageException("--size must be at most " + SegmentFile.MAX_DATA_SIZE);
        }
        long maxSegment = a.longOption("max-segment-size", CreateOptions.defaults().maxSegmentSize(), 1024);
        Path dir = Path.of(a.positional().get(0));
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new CommandLine.UsageException(dir + " must not exist or be empty");
                }
            }
        }

        byte[] ids = ids(count);
        int[] order = permutation(count);
        byte[] data = new byte[size];
        new SplittableRandom(1).nextBytes(data);
        OpenOptions open = OpenOptions.defaults();
        StringBuilder json = new StringBuilder("{\"count\": ").append(count).append(", \"size\": ").append(size);
        double dataMb = (double) count * size / MB;

        Repository repo = Repository.create(dir, CreateOptions.defaults().withMaxSegmentSize(maxSegment), open);
        try {
            long t0 = System.nanoTime();
            try (Transaction txn = repo.begin()) {
                for (int i = 0; i < count; i++) {
                    stamp(data, i);
                    txn.put(id(ids, i), data);
                }
                txn.commit();
            }
            double s = seconds(t0);
            json.append(", \"put_commit\": ").append(rate(s, count, dataMb));
            json.append(String.format(Locale.ROOT, ", \"index_bytes_per_object\": %.1f", repo.info().indexMemoryBytes() / (double) count));

            if (!a.flag("index-only")) {
                t0 = System.nanoTime();
                for (int i : order) {
                    byte[] got = repo.get(id(ids, i));
                    if (got.length != size || (size >= 8 && ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN).getLong(0) != i)) {
                        throw new IllegalStateException("object " + i + " came back wrong");
                    }
                }
                s = seconds(t0);
                json.append(", \"get\": ").append(rate(s, count, dataMb));

                t0 = System.nanoTime();
                int deleted = 0;
                try (Transaction txn = repo.begin()) {
                    for (int i = 0; i < count; i += 2) {
                        txn.delete(id(ids, i));
                        deleted++;
                    }
                    txn.commit();
                }
                s = seconds(t0);
                json.append(String.format(Locale.ROOT, ", \"delete_commit\": {\"s\": %.3f, \"obj_per_s\": %.0f}", s, deleted / s));

                t0 = System.nanoTime();
                repo.compact(0.1, ProgressListener.NONE);
                s = seconds(t0);
                json.append(String.format(Locale.ROOT, ", \"compact\": {\"s\": %.3f}", s));

                t0 = System.nanoTime();
                CheckResult check = repo.check(CheckOptions.full(), ProgressListener.NONE);
                s = seconds(t0);
                if (!check.ok()) {
                    throw new IllegalStateException("check failed: " + check.errors());
                }
                long live = count - deleted;
                json.append(String.format(Locale.ROOT, ", \"check\": {\"s\": %.3f, \"obj_per_s\": %.0f, \"MB_per_s\": %.1f}", s, live / s,
                        (double) live * size / MB / s));
            }

            repo.close();
            settle();
            t0 = System.nanoTime();
            repo = Repository.open(dir, open);
            s = seconds(t0);
            json.append(String.format(Locale.ROOT, ", \"open_with_index\": {\"s\": %.3f}", s));

            repo.close();
            removeCheckpoints(dir);
            settle();
            t0 = System.nanoTime();
            repo = Repository.open(dir, open);
            s = seconds(t0);
            json.append(String.format(Locale.ROOT, ", \"replay_without_index\": {\"s\": %.3f, \"objects\": %d}", s, repo.objectCount()));
        } finally {
            repo.close();
        }
        out.println(json.append('}'));
        return 0;
    }

    /**
     * Collects the garbage of earlier phases before a timed one: a service opens its
     * repositories in a fresh heap, not in one full of a previous repository's index.
     */
    private static void settle() {
        System.gc();
    }

    private static String rate(double s, long count, double mb) {
        return String.format(Locale.ROOT, "{\"s\": %.3f, \"obj_per_s\": %.0f, \"MB_per_s\": %.1f}", s, count / s, mb / s);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** SHA-256 of each object number, computed before any timing (as a client would send them). */
    private static byte[] ids(int count) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] all = new byte[count * 32];
        ByteBuffer n = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            n.clear();
            n.putLong(i);
            sha.update(n.array());
            sha.digest(all, i * 32, 32);
        }
        return all;
    }

    private static ObjectId id(byte[] ids, int i) {
        byte[] b = new byte[32];
        System.arraycopy(ids, i * 32, b, 0, 32);
        return ObjectId.of(b);
    }

    private static void stamp(byte[] data, long i) {
        if (data.length >= 8) {
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putLong(0, i);
        }
    }

    private static int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(42);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static void removeCheckpoints(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith(BorgIndexFile.PREFIX) || n.startsWith(HintsFile.PREFIX) || n.startsWith(IntegrityFile.PREFIX)
                        || n.startsWith(KeyIndexFile.PREFIX)) {
                    Files.delete(f);
                }
            }
        }
    }
}
