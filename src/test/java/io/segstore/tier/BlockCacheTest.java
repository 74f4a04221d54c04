package io.segstore.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.service.Names;
import io.segstore.service.ServiceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The block cache on the local volume, in front of a real S3 server (s3proxy in process). */
class BlockCacheTest {

    static final int BS = 4096;

    @TempDir
    static Path tmp;
    static S3TestServer server;
    static S3ObjectStore store;

    @BeforeAll
    static void start() throws Exception {
        server = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")));
        server.createBucket("cache");
        store = new S3ObjectStore(server.settings("main", "cache", "p/"));
    }

    @AfterAll
    static void stop() throws Exception {
        store.close();
        server.close();
    }

    /** The byte at {@code offset} of object {@code seed}: differs between objects and between blocks. */
    static byte pattern(int seed, long offset) {
        return (byte) (seed * 29 + (offset >>> 12) * 131 + offset * 7);
    }

    static byte[] content(int seed, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = pattern(seed, i);
        }
        return b;
    }

    /** Puts an object of {@code size} bytes filled with the pattern of {@code seed}; returns its key. */
    static String object(String key, int seed, int size) throws IOException {
        store.put(key, content(seed, size));
        return key;
    }

    static byte[] expected(int seed, long from, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = pattern(seed, from + i);
        }
        return b;
    }

    static void assertWithin(BlockCache cache) throws IOException {
        assertTrue(cache.usedBytes() <= cache.capacity(), cache.usedBytes() + " bytes used");
        if (Files.exists(cache.file())) {
            assertTrue(Files.size(cache.file()) <= cache.capacity(), "file of " + Files.size(cache.file()) + " bytes");
        }
    }

    @Test
    void aBlockReadTwiceIsFetchedOnce(@TempDir Path dir) throws Exception {
        String key = object("twice", 1, 3 * BS);
        try (BlockCache cache = new BlockCache(16 * BS, BS, dir)) {
            assertArrayEquals(expected(1, BS, BS), cache.block(store, key, 1, 3 * BS));
            assertEquals(1, cache.misses());
            assertEquals(0, cache.hits());
            assertEquals(BS, cache.bytesFetched());
            assertArrayEquals(expected(1, BS, BS), cache.block(store, key, 1, 3 * BS));
            assertEquals(1, cache.misses());
            assertEquals(1, cache.hits());
            assertEquals(BS, cache.bytesFetched(), "the second read did not go to the store");
            assertEquals(BS, cache.usedBytes());

            // a part of the block, straight from the file
            ByteBuffer part = ByteBuffer.allocate(100);
            assertEquals(100, cache.read(store, key, 1, 500, part));
            assertArrayEquals(expected(1, BS + 500, 100), part.array());
            assertEquals(2, cache.hits());
            assertEquals(-1, cache.read(store, key, 2, 0, ByteBuffer.allocate(10)), "an uncached block is not read");
            assertEquals(1, cache.misses(), "and not counted: the caller fetches it");

            // a block offered at upload is served without a fetch
            cache.offer(store, key, 0, expected(1, 0, BS));
            assertArrayEquals(expected(1, 0, BS), cache.block(store, key, 0, 3 * BS));
            assertEquals(BS, cache.bytesFetched());
            assertTrue(dir.resolve(BlockCache.FILE).equals(cache.file()));
        }
    }

    @Test
    void usedBytesAndTheFileStayWithinTheCapacityAndTheLeastRecentlyUsedGoesFirst(@TempDir Path dir) throws Exception {
        int size = 8 * BS;
        String key = object("lru", 2, size);
        // room for three blocks; the rest of the capacity is never used
        try (BlockCache cache = new BlockCache(3 * BS + 100, BS, dir)) {
            for (long b = 0; b < 3; b++) {
                cache.block(store, key, b, size);
                assertWithin(cache);
            }
            cache.block(store, key, 0, size); // 0 is now the most recently used, 1 the least
            assertEquals(1, cache.hits());
            cache.block(store, key, 3, size);
            assertWithin(cache);
            assertEquals(3 * BS, cache.usedBytes());
            long misses = cache.misses();
            for (long b : new long[] {0, 2, 3}) {
                assertArrayEquals(expected(2, b * BS, BS), cache.block(store, key, b, size));
            }
            assertEquals(misses, cache.misses(), "blocks 0, 2 and 3 stayed");
            assertArrayEquals(expected(2, BS, BS), cache.block(store, key, 1, size));
            assertEquals(misses + 1, cache.misses(), "block 1 was evicted");
            for (long b = 0; b < 8; b++) {
                assertArrayEquals(expected(2, b * BS, BS), cache.block(store, key, b, size));
                assertWithin(cache);
            }
        }
    }

    @Test
    void invalidateDropsAnObjectsBlocks(@TempDir Path dir) throws Exception {
        String gone = object("inv/gone", 3, 2 * BS);
        String kept = object("inv/kept", 4, 2 * BS);
        try (BlockCache cache = new BlockCache(16 * BS, BS, dir)) {
            for (long b = 0; b < 2; b++) {
                cache.block(store, gone, b, 2 * BS);
                cache.block(store, kept, b, 2 * BS);
            }
            assertEquals(4 * BS, cache.usedBytes());
            cache.invalidate(store, gone);
            assertEquals(2 * BS, cache.usedBytes());
            assertEquals(-1, cache.read(store, gone, 0, 0, ByteBuffer.allocate(1)));
            long misses = cache.misses();
            assertArrayEquals(expected(4, 0, BS), cache.block(store, kept, 0, 2 * BS));
            assertEquals(misses, cache.misses(), "the other object's blocks stay");
            // the key now names other bytes (a segment written again after a failed commit)
            object(gone, 5, 2 * BS);
            assertArrayEquals(expected(5, BS, BS), cache.block(store, gone, 1, 2 * BS));
            assertEquals(misses + 1, cache.misses(), "fetched again");
        }
    }

    @Test
    void aRepositorysBlocksGoTogether(@TempDir Path dir) throws Exception {
        String one = object("r1/data/0/1", 20, BS);
        String two = object("r1/data/0/2", 21, BS);
        String other = object("r10/data/0/1", 22, BS);
        try (BlockCache cache = new BlockCache(16 * BS, BS, dir)) {
            for (String key : List.of(one, two, other)) {
                cache.block(store, key, 0, BS);
            }
            cache.invalidatePrefix(store, "r1/");
            assertEquals(BS, cache.usedBytes());
            assertEquals(-1, cache.read(store, one, 0, 0, ByteBuffer.allocate(1)));
            assertEquals(-1, cache.read(store, two, 0, 0, ByteBuffer.allocate(1)));
            assertEquals(1, cache.read(store, other, 0, 0, ByteBuffer.allocate(1)), "another repository's blocks stay");
        }
    }

    @Test
    void aNewCacheOnTheSameDirectoryStartsEmpty(@TempDir Path dir) throws Exception {
        String key = object("restart", 6, 2 * BS);
        try (BlockCache before = new BlockCache(16 * BS, BS, dir)) {
            before.block(store, key, 0, 2 * BS);
            before.block(store, key, 1, 2 * BS);
            assertEquals(2 * BS, before.usedBytes());
            assertThrows(IOException.class, () -> new BlockCache(16 * BS, BS, dir), "one instance per directory");
        }
        // while the instance was down, the key came to name other bytes
        object(key, 7, 2 * BS);
        try (BlockCache after = new BlockCache(16 * BS, BS, dir)) {
            byte[] file = Files.readAllBytes(after.file());
            assertTrue(file.length <= 16 * BS);
            assertArrayEquals(new byte[file.length], file, "emptied at start");
            assertEquals(0, after.usedBytes());
            assertEquals(-1, after.read(store, key, 0, 0, ByteBuffer.allocate(10)));
            assertArrayEquals(expected(7, 0, BS), after.block(store, key, 0, 2 * BS));
            assertArrayEquals(expected(7, BS, BS), after.block(store, key, 1, 2 * BS));
            assertEquals(2, after.misses());
            assertEquals(0, after.hits());
        }
    }

    /** Through the mapping and, as where the file system cannot map, with pread. */
    @ParameterizedTest(name = "mapped {0}")
    @ValueSource(booleans = {true, false})
    void manyThreadsThroughASmallCacheAlwaysGetTheRightBytes(boolean mapped, @TempDir Path dir) throws Exception {
        int objects = 6;
        int size = 12 * BS + 1234;
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < objects; k++) {
            keys.add(object("many/" + k, 100 + k, size));
        }
        int threads = 4;
        int readsPerThread = 250;
        try (BlockCache cache = new BlockCache(5 * BS, BS, dir, mapped)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
            CountDownLatch go = new CountDownLatch(1);
            try {
                List<Future<Integer>> readers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    final int seed = t;
                    readers.add(pool.submit(() -> {
                        Random random = new Random(seed);
                        go.await();
                        int checked = 0;
                        for (int i = 0; i < readsPerThread; i++) {
                            int k = random.nextInt(objects);
                            long block = random.nextInt(13);
                            int blockLength = (int) Math.min(BS, size - block * BS);
                            if (random.nextBoolean()) {
                                byte[] b = cache.block(store, keys.get(k), block, size);
                                assertArrayEquals(expected(100 + k, block * BS, blockLength), b, "object " + k + " block " + block);
                            } else {
                                int at = random.nextInt(blockLength);
                                ByteBuffer dst = ByteBuffer.allocate(1 + random.nextInt(BS));
                                int n = cache.read(store, keys.get(k), block, at, dst);
                                if (n < 0) {
                                    continue; // not cached now: nothing was read
                                }
                                assertEquals(Math.min(dst.capacity(), blockLength - at), n);
                                assertArrayEquals(expected(100 + k, block * BS + at, n), Arrays.copyOf(dst.array(), n),
                                        "object " + k + " block " + block + " at " + at);
                            }
                            checked++;
                        }
                        return checked;
                    }));
                }
                // invalidations of objects that still exist only make readers fetch again
                Future<?> invalidator = pool.submit(() -> {
                    go.await();
                    Random random = new Random(99);
                    for (int i = 0; i < 200; i++) {
                        cache.invalidate(store, keys.get(random.nextInt(objects)));
                        Thread.yield();
                    }
                    return null;
                });
                go.countDown();
                int checked = 0;
                for (Future<Integer> f : readers) {
                    checked += f.get(120, TimeUnit.SECONDS);
                }
                invalidator.get(120, TimeUnit.SECONDS);
                assertTrue(checked >= threads * readsPerThread / 2, checked + " reads checked");
                assertWithin(cache);
                assertTrue(cache.hits() > 0 && cache.misses() > 0);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @ParameterizedTest(name = "mapped {0}")
    @ValueSource(booleans = {true, false})
    void aSlotReusedWhileItIsReadIsNeverServed(boolean mapped, @TempDir Path dir) throws Exception {
        String a = object("reuse/a", 11, BS);
        String b = object("reuse/b", 12, BS);
        try (BlockCache cache = new BlockCache(BS, BS, dir, mapped)) { // one slot
            cache.block(store, a, 0, BS);
            cache.beforeRead.set(() -> uncheckedBlock(cache, b)); // evicts a, writes b into its slot
            ByteBuffer dst = ByteBuffer.allocate(BS);
            assertEquals(-1, cache.read(store, a, 0, 0, dst), "the slot now holds b: a miss");
            assertEquals(0, dst.position(), "nothing counted as read");
            cache.block(store, b, 0, BS);
            cache.beforeRead.set(() -> uncheckedBlock(cache, a));
            assertArrayEquals(expected(12, 0, BS), cache.block(store, b, 0, BS), "a whole-block read too: fetched again");
        }
    }

    @Test
    void aBlockInvalidatedWhileItIsWrittenIsNotPublished(@TempDir Path dir) throws Exception {
        String key = object("late", 13, BS);
        try (BlockCache cache = new BlockCache(4 * BS, BS, dir)) {
            cache.beforePublish.set(() -> {
                // deleted and written again while the old bytes were on their way to the cache file
                uncheckedObject(key, 14);
                cache.invalidate(store, key);
            });
            assertArrayEquals(expected(13, 0, BS), cache.block(store, key, 0, BS), "what was read before is returned");
            assertEquals(0, cache.usedBytes());
            assertArrayEquals(expected(14, 0, BS), cache.block(store, key, 0, BS), "but not kept");
            assertEquals(2, cache.misses());
        }
    }

    @Test
    void aSlotBeingWrittenIsNotTakenByAnotherWriter(@TempDir Path dir) throws Exception {
        String a = object("writing/a", 15, BS);
        String b = object("writing/b", 16, BS);
        try (BlockCache cache = new BlockCache(BS, BS, dir)) { // one slot
            cache.beforePublish.set(() -> assertArrayEquals(expected(16, 0, BS), uncheckedBlock(cache, b), "b goes uncached"));
            assertArrayEquals(expected(15, 0, BS), cache.block(store, a, 0, BS));
            ByteBuffer dst = ByteBuffer.allocate(BS);
            assertEquals(BS, cache.read(store, a, 0, 0, dst));
            assertArrayEquals(expected(15, 0, BS), dst.array());
            assertEquals(-1, cache.read(store, b, 0, 0, ByteBuffer.allocate(1)));
            assertEquals(BS, cache.usedBytes());
        }
    }

    static byte[] uncheckedBlock(BlockCache cache, String key) {
        try {
            return cache.block(store, key, 0, BS);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void uncheckedObject(String key, int seed) {
        try {
            object(key, seed, BS);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theLastShortBlockHasItsTrueLength(@TempDir Path dir) throws Exception {
        int size = 2 * BS + 1000;
        String key = object("short", 8, size);
        try (BlockCache cache = new BlockCache(16 * BS, BS, dir)) {
            assertArrayEquals(expected(8, 2 * BS, 1000), cache.block(store, key, 2, size));
            assertEquals(1000, cache.usedBytes());
            assertArrayEquals(expected(8, 2 * BS, 1000), cache.block(store, key, 2, size), "from the cache, same length");
            assertEquals(1, cache.hits());
            ByteBuffer dst = ByteBuffer.allocate(BS);
            assertEquals(100, cache.read(store, key, 2, 900, dst), "only what the block has");
            assertEquals(100, dst.position());
            assertArrayEquals(expected(8, 2 * BS + 900, 100), Arrays.copyOf(dst.array(), 100));
        }
    }

    @Test
    void capacityZeroMeansNoCaching(@TempDir Path dir) throws Exception {
        String key = object("none", 9, BS);
        Path cacheDir = dir.resolve("cache");
        for (long capacity : new long[] {0, BS - 1}) {
            try (BlockCache cache = new BlockCache(capacity, BS, cacheDir)) {
                assertNull(cache.file());
                assertArrayEquals(expected(9, 0, BS), cache.block(store, key, 0, BS));
                assertArrayEquals(expected(9, 0, BS), cache.block(store, key, 0, BS));
                cache.offer(store, key, 0, expected(9, 0, BS));
                assertEquals(-1, cache.read(store, key, 0, 0, ByteBuffer.allocate(1)));
                assertEquals(2, cache.misses());
                assertEquals(0, cache.hits());
                assertEquals(2L * BS, cache.bytesFetched());
                assertEquals(0, cache.usedBytes());
            }
        }
        assertFalse(Files.exists(cacheDir), "nothing is made on the volume");
    }

    @ParameterizedTest(name = "mapped {0}")
    @ValueSource(booleans = {true, false})
    void anInterruptedThreadInTheFileLeavesTheCacheWorking(boolean mapped, @TempDir Path dir) throws Exception {
        String key = object("interrupted", 10, 2 * BS);
        try (BlockCache cache = new BlockCache(16 * BS, BS, dir, mapped)) {
            cache.block(store, key, 0, 2 * BS);
            Thread.currentThread().interrupt();
            try {
                // the JDK closes a channel whose I/O is interrupted, for every thread: a miss, not a failure
                ByteBuffer dst = ByteBuffer.allocate(10);
                int n = cache.read(store, key, 0, 0, dst);
                assertTrue(n == -1 || n == 10 && Arrays.equals(expected(10, 0, 10), dst.array()), n + " bytes");
                cache.offer(store, key, 1, expected(10, BS, BS));
            } finally {
                Thread.interrupted();
            }
            ByteBuffer dst = ByteBuffer.allocate(BS);
            assertEquals(BS, cache.read(store, key, 0, 0, dst), "the block cached before is still served");
            assertArrayEquals(expected(10, 0, BS), dst.array());
            assertEquals(-1, cache.read(store, key, 1, 0, ByteBuffer.allocate(1)), "the interrupted write was not kept");
            cache.offer(store, key, 1, expected(10, BS, BS));
            assertArrayEquals(expected(10, BS, BS), cache.block(store, key, 1, 2 * BS), "and writing works again");
            assertEquals(1, cache.misses());
        }
    }

    @Test
    void theCacheDirectoryIsNeverTakenForARepository() {
        assertThrows(ServiceException.class, () -> Names.repository(".s3-cache"));
        assertEquals(Path.of("/data/.s3-cache"), S3PropertiesTest.with(java.util.Map.of(), null).cacheDirectory(Path.of("/data")));
    }
}
