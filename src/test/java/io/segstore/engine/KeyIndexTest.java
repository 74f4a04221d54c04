package io.segstore.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class KeyIndexTest {

    private record Key(long k0, long k1, long k2, long k3) {
        static Key random(SplittableRandom r) {
            return new Key(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong());
        }

        byte[] bytes() {
            return KeyIndex.keyBytes(k0, k1, k2, k3);
        }
    }

    private static long get(KeyIndex ix, Key k) {
        return ix.get(k.k0, k.k1, k.k2, k.k3);
    }

    private static long put(KeyIndex ix, Key k, long v) {
        return ix.put(k.k0, k.k1, k.k2, k.k3, v);
    }

    private static long remove(KeyIndex ix, Key k) {
        return ix.remove(k.k0, k.k1, k.k2, k.k3);
    }

    @Test
    void behavesLikeAMapThroughGrowthAndShrinking() {
        KeyIndex ix = new KeyIndex(42, 4);
        Map<Key, Long> model = new HashMap<>();
        List<Key> keys = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(7);
        for (int step = 0; step < 200_000; step++) {
            int op = r.nextInt(10);
            if (op < 6 || keys.isEmpty()) {
                Key k = Key.random(r);
                long v = r.nextLong() & Long.MAX_VALUE;
                assertEquals(model.containsKey(k) ? model.get(k) : KeyIndex.ABSENT, put(ix, k, v));
                model.put(k, v);
                keys.add(k);
            } else if (op < 8) {
                Key k = keys.get(r.nextInt(keys.size()));
                Long expected = model.remove(k);
                assertEquals(expected == null ? KeyIndex.ABSENT : expected, remove(ix, k));
            } else {
                Key k = keys.get(r.nextInt(keys.size()));
                Long expected = model.get(k);
                assertEquals(expected == null ? KeyIndex.ABSENT : expected, get(ix, k));
            }
        }
        assertEquals(model.size(), ix.size());
        for (Map.Entry<Key, Long> e : model.entrySet()) {
            assertEquals(e.getValue(), get(ix, e.getKey()));
        }
        // remove almost everything: shards shrink and every remaining key is still found
        List<Key> all = new ArrayList<>(model.keySet());
        for (int i = 0; i < all.size() - 10; i++) {
            assertEquals(model.remove(all.get(i)), remove(ix, all.get(i)));
        }
        assertEquals(10, ix.size());
        model.forEach((k, v) -> assertEquals(v, get(ix, k)));
    }

    @Test
    void keysThatShareTheirFirstWordsAreKeptApart() {
        // Borg's test ids differ only in their last bytes; a hash of the whole key keeps them apart
        KeyIndex ix = new KeyIndex(1, 8);
        for (int i = 0; i < 50_000; i++) {
            put(ix, new Key(0x3030303030303030L, 0x3030303030303030L, 0x3030303030303030L, i), i);
        }
        for (int i = 0; i < 50_000; i++) {
            assertEquals(i, get(ix, new Key(0x3030303030303030L, 0x3030303030303030L, 0x3030303030303030L, i)));
        }
        assertEquals(KeyIndex.ABSENT, get(ix, new Key(0x3030303030303030L, 0x3030303030303030L, 0x3030303030303030L, 50_000)));
    }

    @Test
    void pagingAfterAMarkerSeesEveryKeyThatStayedExactlyOnceWhileTheIndexChanges() {
        KeyIndex ix = new KeyIndex(99, 8);
        SplittableRandom r = new SplittableRandom(3);
        Set<Key> stable = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            Key k = Key.random(r);
            put(ix, k, i);
            stable.add(k);
        }
        List<Key> seen = new ArrayList<>();
        byte[] marker = null;
        List<Key> churn = new ArrayList<>();
        while (true) {
            List<Key> page = new ArrayList<>();
            ix.forEachAfter(marker, (k0, k1, k2, k3, v) -> {
                page.add(new Key(k0, k1, k2, k3));
                return page.size() < 500;
            });
            if (page.isEmpty()) {
                break;
            }
            seen.addAll(page);
            marker = page.get(page.size() - 1).bytes();
            // between pages: insert enough to grow shards, and delete some of the new ones again
            for (int i = 0; i < 2_000; i++) {
                Key k = Key.random(r);
                put(ix, k, 1);
                churn.add(k);
            }
            for (int i = 0; i < 1_000; i++) {
                remove(ix, churn.remove(churn.size() - 1));
            }
        }
        Set<Key> seenSet = new HashSet<>(seen);
        assertEquals(seen.size(), seenSet.size(), "no key is listed twice");
        assertTrue(seenSet.containsAll(stable), "every key present throughout is listed");
    }

    @Test
    void aMarkerThatWasRemovedStillResumesAtItsPlace() {
        KeyIndex ix = new KeyIndex(5, 6);
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 5_000; i++) {
            put(ix, Key.random(r), i);
        }
        List<Key> order = new ArrayList<>();
        ix.forEachAfter(null, (k0, k1, k2, k3, v) -> order.add(new Key(k0, k1, k2, k3)));
        Key marker = order.get(2_500);
        remove(ix, marker);
        List<Key> rest = new ArrayList<>();
        ix.forEachAfter(marker.bytes(), (k0, k1, k2, k3, v) -> rest.add(new Key(k0, k1, k2, k3)));
        assertEquals(order.subList(2_501, order.size()), rest);
    }

    @Test
    void snapshotStaysFrozenWhileTheIndexChanges() {
        KeyIndex ix = new KeyIndex(17, 8);
        SplittableRandom r = new SplittableRandom(5);
        List<Key> keys = new ArrayList<>();
        for (int i = 0; i < 30_000; i++) {
            Key k = Key.random(r);
            keys.add(k);
            put(ix, k, i);
        }
        KeyIndex.Snapshot snap = ix.snapshot();
        for (int i = 0; i < keys.size(); i += 2) {
            remove(ix, keys.get(i));
        }
        for (int i = 0; i < 30_000; i++) {
            put(ix, Key.random(r), -5);
        }
        for (int i = 1; i < keys.size(); i += 2) {
            put(ix, keys.get(i), 1_000_000 + i);
        }
        assertEquals(30_000, snap.size());
        for (int i = 0; i < keys.size(); i++) {
            Key k = keys.get(i);
            assertEquals(i, snap.get(k.k0, k.k1, k.k2, k.k3));
        }
        long[] n = {0};
        snap.forEach((k0, k1, k2, k3, v) -> {
            n[0]++;
            return true;
        });
        assertEquals(30_000, n[0]);
        assertEquals(45_000, ix.size());
    }

    @Test
    void copiesAreIndependent() {
        KeyIndex a = new KeyIndex(8, 4);
        Key k1 = new Key(1, 2, 3, 4);
        Key k2 = new Key(5, 6, 7, 8);
        put(a, k1, 10);
        KeyIndex b = a.copy();
        put(b, k2, 20);
        put(a, k1, 11);
        assertEquals(KeyIndex.ABSENT, get(a, k2));
        assertEquals(10, get(b, k1));
        assertEquals(11, get(a, k1));
        assertEquals(20, get(b, k2));
    }

    @Test
    void closingOneSnapshotLeavesAnotherOfTheSameStateIntact() {
        KeyIndex ix = new KeyIndex(5, 4);
        SplittableRandom r = new SplittableRandom(2);
        List<Key> keys = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            Key k = Key.random(r);
            keys.add(k);
            put(ix, k, i);
        }
        KeyIndex.Snapshot first = ix.snapshot();
        KeyIndex.Snapshot second = ix.snapshot();
        first.close();
        first.close(); // closing twice must not release the second one's share
        for (int i = 0; i < keys.size(); i++) {
            put(ix, keys.get(i), 100_000 + i);
        }
        for (int i = 0; i < keys.size(); i++) {
            Key k = keys.get(i);
            assertEquals(i, second.get(k.k0, k.k1, k.k2, k.k3), "the open snapshot still sees the old value");
            assertEquals(100_000 + i, get(ix, k));
        }
        second.close();
        put(ix, keys.get(0), 7);
        assertEquals(7, get(ix, keys.get(0)));
    }

    @Test
    void restoredShardsAnswerLikeTheOriginal() {
        KeyIndex ix = new KeyIndex(123, 8);
        SplittableRandom r = new SplittableRandom(1);
        List<Key> keys = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            Key k = Key.random(r);
            keys.add(k);
            put(ix, k, i);
        }
        KeyIndex.Snapshot snap = ix.snapshot();
        KeyIndex.ShardState[] states = new KeyIndex.ShardState[snap.shardCount()];
        for (int i = 0; i < states.length; i++) {
            KeyIndex.ShardState s = snap.shard(i);
            states[i] = new KeyIndex.ShardState(s.level(), s.count(), s.slots().clone());
        }
        KeyIndex restored = KeyIndex.restore(123, 8, states);
        for (int i = 0; i < keys.size(); i++) {
            assertEquals(i, get(restored, keys.get(i)));
        }
        assertEquals(10_000, restored.size());
        put(restored, Key.random(r), 5);
        assertEquals(10_001, restored.size());
    }

    @Test
    void readersNeverSeeAWrongValueWhileAWriterGrowsTheTable() throws Exception {
        KeyIndex ix = new KeyIndex(77, 2);
        List<Key> fixed = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 1_000; i++) {
            Key k = Key.random(r);
            fixed.add(k);
            put(ix, k, i);
        }
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch writerDone = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            int round = 0;
            while (writerDone.getCount() > 0 || round < 3) {
                for (int i = 0; i < fixed.size(); i++) {
                    long v = get(ix, fixed.get(i));
                    if (v != i) {
                        failure.compareAndSet(null, "key " + i + " read as " + v);
                    }
                }
                round++;
            }
        });
        reader.start();
        SplittableRandom w = new SplittableRandom(10);
        for (int i = 0; i < 300_000; i++) {
            put(ix, Key.random(w), -7);
        }
        writerDone.countDown();
        reader.join();
        assertEquals(null, failure.get());
    }

    @Test
    void memoryPerEntryStaysBelowFortyEightBytesAtAnySize() {
        KeyIndex ix = new KeyIndex(3, 8);
        SplittableRandom r = new SplittableRandom(2);
        double worst = 0;
        for (int n = 1; n <= 600_000; n++) {
            put(ix, Key.random(r), n);
            if (n >= 300_000 && n % 25_000 == 0) {
                worst = Math.max(worst, ix.memoryBytes() / (double) n);
            }
        }
        assertTrue(worst < 48, "bytes per entry " + worst);
        assertFalse(worst < 40, "a slot holds 40 bytes; " + worst + " would mean entries are missing");
    }
}
