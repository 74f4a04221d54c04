package io.segstore.bridge;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Borg's {@code list(limit, marker)} and {@code scan(limit, marker)} over Segstore's listings.
 *
 * <p>Borg pages with the last id of the previous page as marker; Segstore with an opaque marker
 * it returned. A cursor per order keeps the service's marker and ids fetched ahead (Segstore's
 * pages are larger than the 100 ids that {@code borg check --verify-data} scans at a time), so
 * each Borg page continues where the last one stopped. A marker the cursor did not hand out (not
 * something borg does) is found by listing again from the start. {@code order=index} is Borg's
 * list (and sees the session's own writes); {@code order=disk} is Borg's scan (committed data,
 * in log order).
 */
final class IdPager {

    private static final int FETCH = 10_000;

    private final SegstoreClient client;
    private final String repo;
    private final String order;
    private int fetch = FETCH;
    private Cursor cursor;

    private static final class Cursor {
        final ArrayDeque<byte[]> ahead = new ArrayDeque<>();
        String next;
        boolean exhausted;
        byte[] lastReturned;
    }

    IdPager(SegstoreClient client, String repo, String order) {
        this.client = client;
        this.repo = repo;
        this.order = order;
    }

    /** Up to {@code limit} ids (null: all) following {@code marker} (null: from the start). */
    List<byte[]> page(Integer limit, byte[] marker, String txn) throws IOException {
        if (limit != null && limit < 1) {
            throw BorgError.other("ValueError", "please use limit > 0 or limit = None");
        }
        Cursor c = cursor;
        if (marker == null || c == null || c.lastReturned == null || !Arrays.equals(marker, c.lastReturned)) {
            c = new Cursor();
            if (marker != null) {
                skipPast(c, marker, txn);
            }
        }
        List<byte[]> out = new ArrayList<>();
        while (limit == null || out.size() < limit) {
            if (c.ahead.isEmpty()) {
                if (c.exhausted || !fill(c, txn)) {
                    break;
                }
                continue;
            }
            out.add(c.ahead.poll());
        }
        if (!out.isEmpty()) {
            c.lastReturned = out.get(out.size() - 1);
        }
        cursor = c;
        return out;
    }

    /** Lists from the start until just after {@code marker}; an unknown marker leaves nothing to list. */
    private void skipPast(Cursor c, byte[] marker, String txn) throws IOException {
        while (true) {
            while (!c.ahead.isEmpty()) {
                if (Arrays.equals(c.ahead.poll(), marker)) {
                    return;
                }
            }
            if (c.exhausted || !fill(c, txn)) {
                return;
            }
        }
    }

    private boolean fill(Cursor c, String txn) throws IOException {
        SegstoreClient.Page p;
        while (true) {
            try {
                p = client.list(repo, "index".equals(order) ? txn : null, order, fetch, c.next);
                break;
            } catch (SegstoreClient.ApiProblem e) {
                if (e.is("bad-parameter") && fetch > 100) {
                    fetch = Math.max(100, fetch / 10); // the service's segstore.listing.max-limit is smaller
                    continue;
                }
                throw e;
            }
        }
        c.ahead.addAll(p.ids());
        c.next = p.next();
        c.exhausted = p.next() == null;
        return !p.ids().isEmpty() || !c.exhausted;
    }

    /** Forgets the cursor (after a commit or rollback, index order may differ). */
    void reset() {
        cursor = null;
    }
}
