package io.segstore.engine.crash;

import io.segstore.engine.Ids;
import io.segstore.engine.ObjectId;
import io.segstore.engine.Transaction;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/** The data the crash tests write, so that parent and child agree on what each state holds. */
final class CrashWorkload {

    private CrashWorkload() {
    }

    static byte[] data(long id, int version) {
        Random r = new Random(id * 31 + version);
        byte[] b = new byte[(int) (Math.floorMod(id, 7) == 0 ? 0 : 100 + Math.floorMod(id * 977, 30_000))];
        r.nextBytes(b);
        return b;
    }

    /** First transaction: 200 objects. */
    static Map<ObjectId, byte[]> first() {
        Map<ObjectId, byte[]> m = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            m.put(Ids.h2(i), data(i, 1));
        }
        m.put(ObjectId.MANIFEST, data(-1, 1));
        return m;
    }

    /** Second transaction, applied to the first: deletes 0..39, overwrites 40..79, adds 200..299. */
    static void applySecond(Map<ObjectId, byte[]> state) {
        for (int i = 0; i < 40; i++) {
            state.remove(Ids.h2(i));
        }
        for (int i = 40; i < 80; i++) {
            state.put(Ids.h2(i), data(i, 2));
        }
        for (int i = 200; i < 300; i++) {
            state.put(Ids.h2(i), data(i, 2));
        }
        state.put(ObjectId.MANIFEST, data(-1, 2));
    }

    static void applySecondTransaction(Transaction t) {
        for (int i = 0; i < 40; i++) {
            t.delete(Ids.h2(i));
        }
        for (int i = 40; i < 80; i++) {
            t.put(Ids.h2(i), data(i, 2));
        }
        for (int i = 200; i < 300; i++) {
            t.put(Ids.h2(i), data(i, 2));
        }
        t.put(ObjectId.MANIFEST, data(-1, 2));
    }
}
