package io.segstore.bridge;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Borg pipelines its object calls: puts and deletes are sent without waiting for their answers
 * (errors come back later, through borg's async responses), and extract or check keep up to a
 * hundred gets in flight. This runs such calls on a bounded pool of concurrent HTTP requests so
 * that the bridge never waits one round trip per chunk, while keeping what borg relies on from
 * its one-call-at-a-time server:
 * <ul>
 *   <li>calls on the same object id run in the order borg sent them (a get sees an earlier put,
 *       a delete follows the put it deletes);</li>
 *   <li>every other call (commit, list, check...) waits until all earlier object calls are done
 *       ({@link #drain});</li>
 *   <li>at most {@code maxCalls} calls and about {@code maxBytes} of put data are in flight: beyond
 *       that the reader stops reading, and borg's pipe fills, as it would with a slow server.</li>
 * </ul>
 * Each call answers borg itself when it finishes; answers may go out in any order (borg matches
 * them by message id).
 */
final class Pipeline implements AutoCloseable {

    private final ExecutorService pool;
    private final Semaphore calls;
    private final Semaphore bytes;
    private final int maxBytesKiB;
    /** The newest call per object id, so the next call on that id runs after it. */
    private final ConcurrentHashMap<ByteBuffer, CompletableFuture<Void>> lastById = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object idle = new Object();

    Pipeline(int maxCalls, long maxBytes) {
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(maxCalls, r -> {
            Thread t = new Thread(r, "bridge-call-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.calls = new Semaphore(maxCalls * 2);
        this.maxBytesKiB = (int) Math.max(1, maxBytes / 1024);
        this.bytes = new Semaphore(maxBytesKiB);
    }

    /**
     * Runs {@code call} on the pool after any earlier call on the same id; blocks the caller (the
     * reader) while the pipeline is full. {@code size} is the data the call holds (0 for a get).
     */
    void submit(byte[] id, long size, Runnable call) throws InterruptedException {
        int kib = (int) Math.min(maxBytesKiB, (size + 1023) / 1024);
        calls.acquire();
        if (kib > 0) {
            bytes.acquire(kib);
        }
        inFlight.incrementAndGet();
        ByteBuffer key = ByteBuffer.wrap(id.clone());
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> before = lastById.put(key, mine);
        Runnable run = () -> {
            try {
                call.run();
            } finally {
                lastById.remove(key, mine);
                if (kib > 0) {
                    bytes.release(kib);
                }
                calls.release();
                mine.complete(null);
                if (inFlight.decrementAndGet() == 0) {
                    synchronized (idle) {
                        idle.notifyAll();
                    }
                }
            }
        };
        if (before == null || before.isDone()) {
            pool.execute(run);
        } else {
            before.whenCompleteAsync((v, e) -> run.run(), pool);
        }
    }

    /** Waits until every call submitted so far has finished (and answered borg). */
    void drain() throws InterruptedException {
        synchronized (idle) {
            while (inFlight.get() > 0) {
                idle.wait();
            }
        }
    }

    /** As {@link #drain()}, but gives up after {@code millis}; returns whether everything finished. */
    boolean drain(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (idle) {
            while (inFlight.get() > 0) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                idle.wait(left);
            }
        }
        return true;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
