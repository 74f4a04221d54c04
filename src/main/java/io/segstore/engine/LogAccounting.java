package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;

/**
 * Borg's bookkeeping for each kind of log entry, in one place: a live write and the replay of the
 * same entries after a crash go through these rules, so both end in the same counts, freeable
 * bytes, quota use and shadow index.
 *
 * <ul>
 *   <li>a PUT makes one live entry in its segment and counts its whole size against the quota
 *       (the quota is only given back when compaction drops superseded data);</li>
 *   <li>a superseded PUT (by a DELETE, or by a newer PUT of the same id) is no longer live, its
 *       bytes become freeable, and its segment joins the id's shadow list;</li>
 *   <li>a DELETE entry and a COMMIT entry are freeable from the moment they are written (only
 *       what they mean must survive compaction, not their bytes where they are).</li>
 * </ul>
 */
final class LogAccounting {

    private LogAccounting() {
    }

    static void put(Ledger ledger, long location, long entrySize) {
        ledger.live(Locations.segment(location), 1);
        ledger.quota(entrySize);
    }

    static void supersede(Ledger ledger, long k0, long k1, long k2, long k3, long oldLocation, long oldEntrySize) {
        long segment = Locations.segment(oldLocation);
        ledger.live(segment, -1);
        ledger.freeable(segment, oldEntrySize);
        ledger.shadow(k0, k1, k2, k3, segment);
    }

    static void delete(Ledger ledger, long location) {
        long segment = Locations.segment(location);
        ledger.touch(segment);
        ledger.freeable(segment, SegmentFile.DELETE_SIZE);
    }

    static void commit(Ledger ledger, long segment) {
        ledger.touch(segment);
        ledger.freeable(segment, SegmentFile.COMMIT_SIZE);
    }
}
