package io.segstore.tier;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The figures of docs/PERFORMANCE.md's object-storage section, against one s3proxy in process
 * (filesystem back end on the same disk): not a test, run on demand with
 * {@code ./mvnw -o -Dtest=TierBenchmark -Dsurefire.excludedGroups=none test}; the figures go to
 * target/tier-bench.txt. {@code -Dtier.bench.objects=N} sets the size of the empty-volume start
 * (default 1,000,000 objects). {@code -Dtier.bench.figures=gets} (a comma-separated list of
 * large, small, gets, start, follow) runs only those; {@code -Dtier.bench.follow-objects=N} sizes the
 * follow figure (default 1,000,000).
 */
@Tag("soak")
class TierBenchmark {

    @TempDir
    Path tmp;
    final StringBuilder report = new StringBuilder();

    void line(String format, Object... args) {
        String s = String.format(Locale.ROOT, format, args);
        System.out.println(s);
        report.append(s).append('\n');
    }

    static ObjectId id(long n) {
        byte[] b = new byte[32];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (n >>> (56 - 8 * i));
        }
        b[31] = 1;
        return ObjectId.of(b);
    }

    static double median(List<Long> nanos) {
        long[] a = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return a[a.length / 2] / 1e6;
    }

    static boolean wanted(String figure) {
        String only = System.getProperty("tier.bench.figures", "");
        return only.isBlank() || Arrays.asList(only.split(",")).contains(figure);
    }

    OpenOptions options() {
        return OpenOptions.defaults().withHostId("bench");
    }

    @Test
    void figures() throws Exception {
        try (S3TestServer server = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            server.createBucket("bench");
            S3Properties p = new S3Properties(Map.of("main", new S3Properties.Store(server.endpoint(), S3TestServer.REGION, "bench",
                    "segstore", S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY, true, Duration.ofSeconds(60), 4)),
                    256L << 20, 1 << 20, 8, Duration.ofSeconds(2), Duration.ofSeconds(30), null, null);
            try (ObjectStores stores = new ObjectStores(p, tmp.resolve("instance")); S3Client sdk = server.client()) {
                if (wanted("large")) {
                    largeObjects(stores, sdk);
                }
                if (wanted("small")) {
                    smallCommits(stores, sdk);
                }
                if (wanted("gets")) {
                    cachedGets(stores);
                }
                if (wanted("start")) {
                    emptyVolumeStart(p, stores);
                }
                if (wanted("follow")) {
                    followerCatchUp(p, stores);
                }
            }
        }
        Files.writeString(Path.of("target", "tier-bench.txt"), report);
    }

    /** Sequential commits of 8 MiB objects against the SDK putting the same bytes as objects. */
    void largeObjects(ObjectStores stores, S3Client sdk) throws Exception {
        int count = 48;
        byte[] data = new byte[8 << 20];
        new Random(1).nextBytes(data);
        double[] sdkRates = new double[3];
        double[] tierRates = new double[3];
        for (int round = 0; round < 3; round++) {
            long t = System.nanoTime();
            for (int i = 0; i < count; i++) {
                final int n = i;
                final int r = round;
                sdk.putObject(b -> b.bucket("bench").key("plain/" + r + "/" + n).ifNoneMatch("*"), RequestBody.fromBytes(data));
            }
            sdkRates[round] = count * 8.0 * 1.048576 / ((System.nanoTime() - t) / 1e9);
            Path dir = Files.createDirectories(tmp.resolve("large-" + round)).resolve("large" + round);
            try (Repository repo = Repository.create(dir, CreateOptions.defaults(), options().withTier(stores.tier("main", "large" + round)))) {
                t = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    try (Transaction txn = repo.begin()) {
                        txn.put(id(i), data);
                        txn.commit();
                    }
                }
                tierRates[round] = count * 8.0 * 1.048576 / ((System.nanoTime() - t) / 1e9);
            }
        }
        Arrays.sort(sdkRates);
        Arrays.sort(tierRates);
        line("large objects (%d x 8 MiB, sequential commits), median of 3: SDK alone %.0f MB/s, Segstore %.0f MB/s, ratio %.2f",
                count, sdkRates[1], tierRates[1], tierRates[1] / sdkRates[1]);
    }

    /** One 1 KiB object per commit: local repository, repository in the bucket, and one conditional PUT. */
    void smallCommits(ObjectStores stores, S3Client sdk) throws Exception {
        int count = 300;
        byte[] data = new byte[1024];
        new Random(2).nextBytes(data);
        List<Long> local = new ArrayList<>();
        List<Long> tiered = new ArrayList<>();
        List<Long> put = new ArrayList<>();
        try (Repository l = Repository.create(Files.createDirectories(tmp.resolve("small-l")).resolve("l"), CreateOptions.defaults(), options());
             Repository s = Repository.create(Files.createDirectories(tmp.resolve("small-s")).resolve("s"), CreateOptions.defaults(),
                     options().withTier(stores.tier("main", "small")))) {
            for (int i = 0; i < count; i++) {
                long t = System.nanoTime();
                try (Transaction txn = l.begin()) {
                    txn.put(id(i), data);
                    txn.commit();
                }
                local.add(System.nanoTime() - t);
                t = System.nanoTime();
                try (Transaction txn = s.begin()) {
                    txn.put(id(i), data);
                    txn.commit();
                }
                tiered.add(System.nanoTime() - t);
                final int n = i;
                t = System.nanoTime();
                sdk.putObject(b -> b.bucket("bench").key("small-plain/" + n).ifNoneMatch("*"), RequestBody.fromBytes(data));
                put.add(System.nanoTime() - t);
            }
        }
        line("small commit (1 KiB, %d commits), median latency: local %.2f ms, in the bucket %.2f ms, one conditional PUT %.2f ms "
                + "(local + PUT = %.2f ms)", count, median(local), median(tiered), median(put), median(local) + median(put));
    }

    /** Random GETs of 4 KiB objects, local against the bucket with the segments in the cache. */
    void cachedGets(ObjectStores stores) throws Exception {
        int count = 20_000;
        byte[] data = new byte[4096];
        new Random(3).nextBytes(data);
        Path ld = Files.createDirectories(tmp.resolve("get-l")).resolve("l");
        Path sd = Files.createDirectories(tmp.resolve("get-s")).resolve("s");
        try (Repository l = Repository.create(ld, CreateOptions.defaults(), options());
             Repository s = Repository.create(sd, CreateOptions.defaults(), options().withTier(stores.tier("main", "gets")))) {
            for (Repository r : List.of(l, s)) {
                try (Transaction txn = r.begin()) {
                    for (int i = 0; i < count; i++) {
                        txn.put(id(i), data);
                    }
                    txn.commit();
                }
            }
            Random random = new Random(4);
            int[] order = random.ints(count * 3L, 0, count).toArray();
            for (int i = 0; i < count; i++) {
                s.get(id(i)); // warm the cache (and the local page cache)
                l.get(id(i));
            }
            double[] lr = new double[3];
            double[] sr = new double[3];
            for (int round = 0; round < 3; round++) {
                long t = System.nanoTime();
                for (int i : order) {
                    l.get(id(i));
                }
                lr[round] = order.length / ((System.nanoTime() - t) / 1e9);
                t = System.nanoTime();
                for (int i : order) {
                    s.get(id(i));
                }
                sr[round] = order.length / ((System.nanoTime() - t) / 1e9);
            }
            Arrays.sort(lr);
            Arrays.sort(sr);
            line("GET of cached 4 KiB objects (random order), median of 3: local %.0f/s, in the bucket %.0f/s, ratio %.2f "
                    + "(cache hits %d, misses %d)", lr[1], sr[1], sr[1] / lr[1], stores.cache().hits(), stores.cache().misses());
        }
    }

    /** An instance with an empty volume opening a repository of N empty objects from its checkpoint. */
    void emptyVolumeStart(S3Properties p, ObjectStores stores) throws Exception {
        long n = Long.getLong("tier.bench.objects", 1_000_000);
        Path first = Files.createDirectories(tmp.resolve("start-a")).resolve("big");
        long t = System.nanoTime();
        try (Repository repo = Repository.create(first, CreateOptions.defaults(), options().withTier(stores.tier("main", "big")))) {
            putEmptyObjects(repo, n);
        }
        double writeSeconds = (System.nanoTime() - t) / 1e9;
        try (ObjectStores fresh = new ObjectStores(p, tmp.resolve("start-b"))) {
            Path second = Files.createDirectories(tmp.resolve("start-b")).resolve("big");
            S3RepositoryTier tier = fresh.tier("main", "big");
            t = System.nanoTime();
            tier.hydrate(second);
            double fetch = (System.nanoTime() - t) / 1e9;
            try (Repository repo = Repository.open(second, options().withTier(tier))) {
                double total = (System.nanoTime() - t) / 1e9;
                long objects = repo.objectCount();
                line("empty-volume start on %,d objects (written and checkpointed in %.1f s): checkpoint fetched in %.2f s, "
                        + "serving after %.2f s in total, %,d objects, %,d bytes fetched by ranged GETs", n, writeSeconds, fetch, total,
                        objects, fresh.cache().bytesFetched());
            }
        }
    }

    /**
     * A follower seeing the writer's small commits on a repository of N objects: applying each to
     * its open state in place against opening the repository again from the bucket (what
     * followers did before), alternating, one commit each time.
     */
    void followerCatchUp(S3Properties p, ObjectStores stores) throws Exception {
        long n = Long.getLong("tier.bench.follow-objects", 1_000_000);
        Path writerDir = Files.createDirectories(tmp.resolve("follow-w")).resolve("followed");
        try (Repository writer = Repository.create(writerDir, CreateOptions.defaults(), options().withTier(stores.tier("main", "followed")));
             ObjectStores other = new ObjectStores(p, tmp.resolve("follow-r"))) {
            putEmptyObjects(writer, n);
            writer.checkpointNow();
            Path followerDir = Files.createDirectories(tmp.resolve("follow-r")).resolve("followed");
            S3RepositoryTier tier = other.tier("main", "followed");
            tier.hydrate(followerDir);
            List<Long> inPlace = new ArrayList<>();
            List<Long> reopen = new ArrayList<>();
            byte[] small = new byte[1024];
            try (Repository follower = Repository.open(followerDir, options().withTier(tier).withReadOnly(true))) {
                for (int round = 0; round < 20; round++) {
                    try (Transaction txn = writer.begin()) {
                        txn.put(id(n + round), small);
                        txn.commit();
                    }
                    long t = System.nanoTime();
                    if (follower.followCommits() != Repository.Followed.APPLIED) {
                        throw new IllegalStateException("the commit was not applied in place");
                    }
                    inPlace.add(System.nanoTime() - t);
                    Path copy = Files.createDirectories(tmp.resolve("follow-reopen-" + round)).resolve("followed");
                    copyTree(followerDir, copy);
                    t = System.nanoTime();
                    S3RepositoryTier again = other.tier("main", "followed");
                    again.refreshLocal(copy);
                    try (Repository reopened = Repository.open(copy, options().withTier(again).withReadOnly(true))) {
                        if (reopened.objectCount() != follower.objectCount()) {
                            throw new IllegalStateException("the reopened state differs");
                        }
                        reopen.add(System.nanoTime() - t);
                    }
                }
            }
            line("follower catch-up on %,d objects, one small commit each time, median of 20: applied in place %.1f ms, "
                    + "reopened from the bucket %.1f ms, ratio %.1fx", n, median(inPlace), median(reopen), median(reopen) / median(inPlace));
        }
    }

    /** A working copy as the follower holds it (config, checkpoint), for a reopen that does not disturb the follower. */
    static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var walk = Files.walk(from)) {
            for (Path f : walk.toList()) {
                Path rel = from.relativize(f);
                if (rel.getNameCount() > 0 && rel.getName(0).toString().startsWith("lock")) {
                    continue; // the follower's own shared lock
                }
                Path target = to.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Objects 0..n-1, empty, in commits of 100,000. */
    static void putEmptyObjects(Repository repo, long n) {
        long done = 0;
        while (done < n) {
            try (Transaction txn = repo.begin()) {
                for (int i = 0; i < 100_000 && done < n; i++, done++) {
                    txn.put(id(done), new byte[0]);
                }
                txn.commit();
            }
        }
    }
}
