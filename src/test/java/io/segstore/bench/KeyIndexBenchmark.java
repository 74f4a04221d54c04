package io.segstore.bench;

import io.segstore.engine.KeyIndex;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/** Lookups and inserts of the in-memory index at a given size (random 32-byte keys). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class KeyIndexBenchmark {

    @Param({"1000000"})
    int entries;

    KeyIndex index;
    long[] keys;
    int next;

    @Setup(Level.Trial)
    public void fill() {
        index = new KeyIndex(42, 8);
        keys = new long[entries * 4];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < keys.length; i++) {
            keys[i] = r.nextLong();
        }
        for (int i = 0; i < entries; i++) {
            index.put(keys[4 * i], keys[4 * i + 1], keys[4 * i + 2], keys[4 * i + 3], i);
        }
    }

    @Benchmark
    public long getPresent() {
        int i = next++ % entries;
        return index.get(keys[4 * i], keys[4 * i + 1], keys[4 * i + 2], keys[4 * i + 3]);
    }

    @Benchmark
    public long getAbsent() {
        int i = next++ % entries;
        return index.get(keys[4 * i] ^ 1, keys[4 * i + 1], keys[4 * i + 2], keys[4 * i + 3]);
    }

    /** Overwrites existing keys: the cost of a lookup plus a store. */
    @Benchmark
    public long putExisting() {
        int i = next++ % entries;
        return index.put(keys[4 * i], keys[4 * i + 1], keys[4 * i + 2], keys[4 * i + 3], i + 1);
    }
}
