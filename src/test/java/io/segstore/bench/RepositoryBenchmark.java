package io.segstore.bench;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The engine's operations on a real repository in a temporary directory: a put into an open
 * transaction, a get of a committed object, and a small durable commit (its fsyncs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class RepositoryBenchmark {

    @Param({"64", "4096"})
    int size;

    static final int OBJECTS = 50_000;

    Path dir;
    Repository repo;
    ObjectId[] ids;
    byte[] data;
    Transaction open;
    int next;
    long counter;

    @Setup(Level.Trial)
    public void create() throws IOException {
        dir = Files.createTempDirectory("segstore-jmh");
        repo = Repository.create(dir.resolve("repo"), CreateOptions.defaults(), OpenOptions.defaults());
        SplittableRandom r = new SplittableRandom(1);
        data = new byte[size];
        r.nextBytes(data);
        ids = new ObjectId[OBJECTS];
        try (Transaction t = repo.begin()) {
            for (int i = 0; i < OBJECTS; i++) {
                byte[] id = new byte[32];
                r.nextBytes(id);
                ids[i] = ObjectId.of(id);
                t.put(ids[i], data);
            }
            t.commit();
        }
        open = repo.begin();
    }

    /**
     * A fresh transaction per iteration: rolling back removes what the previous iteration wrote,
     * so the put benchmark measures the engine, not a disk filling up with one endless transaction.
     */
    @Setup(Level.Iteration)
    public void freshTransaction() {
        open.rollback();
        open = repo.begin();
    }

    @TearDown(Level.Trial)
    public void remove() throws IOException {
        open.rollback();
        repo.close();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Appends to the open transaction (rolled back at the end of the trial). */
    @Benchmark
    public void putIntoTransaction() {
        byte[] id = new byte[32];
        long c = ++counter;
        for (int i = 0; i < 8; i++) {
            id[i] = (byte) (c >>> (8 * i));
        }
        id[31] = 1;
        open.put(ObjectId.of(id), data);
    }

    @Benchmark
    public byte[] getCommitted() {
        return repo.get(ids[next++ % OBJECTS]);
    }

    /** begin, one put, commit: the floor of a durable write (segment, directory and commit syncs). */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public long smallCommit() {
        open.rollback();
        try (Transaction t = repo.begin()) {
            t.put(ids[next++ % OBJECTS], data);
            long tid = t.commit();
            open = repo.begin();
            return tid;
        }
    }
}
