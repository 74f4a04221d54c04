package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

/**
 * The committed state of one transaction, held still: a copy-on-write snapshot of the index
 * plus a pin that keeps compaction from deleting the segments it points into. Listings and
 * downloads that page through it see every object of that transaction exactly once, whatever
 * is committed or compacted meanwhile. Close it to release the pin and the snapshot.
 */
public final class CommittedView implements AutoCloseable {

    private final Repository repo;
    private final long transactionId;
    private final KeyIndex.Snapshot index;
    private final AutoCloseable pin;
    private volatile boolean closed;

    CommittedView(Repository repo, long transactionId, KeyIndex.Snapshot index, AutoCloseable pin) {
        this.repo = repo;
        this.transactionId = transactionId;
        this.index = index;
        this.pin = pin;
    }

    /** The transaction this view shows, or -1 for a repository without a commit. */
    public long transactionId() {
        return transactionId;
    }

    public long objectCount() {
        return index.size();
    }

    /** Receives one object of the view. Return false to stop. */
    @FunctionalInterface
    public interface EntryVisitor {
        boolean visit(byte[] id, long size) throws IOException;
    }

    /** Visits objects in index order after {@code after} (from the start when null). */
    public void forEach(byte[] after, EntryVisitor visitor) throws IOException {
        IOException[] failure = new IOException[1];
        index.forEachAfter(after, (k0, k1, k2, k3, location) -> {
            try {
                return visitor.visit(KeyIndex.keyBytes(k0, k1, k2, k3), dataSize(location));
            } catch (IOException e) {
                failure[0] = e;
                return false;
            }
        });
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /** Up to {@code limit} objects in index order after {@code after}. */
    public List<ObjectEntry> list(int limit, ObjectId after) throws IOException {
        List<ObjectEntry> out = new ArrayList<>(Math.min(limit, 4096));
        forEach(after == null ? null : after.bytes(), (id, size) -> {
            out.add(new ObjectEntry(ObjectId.wrap(id), size));
            return out.size() < limit;
        });
        return out;
    }

    /** A page of a disk-order listing and where the next one starts (-1: there is none). */
    public record ScanPage(List<ObjectEntry> objects, long next) {
    }

    /**
     * Up to {@code limit} objects in on-disk order (Borg's scan), starting at {@code from}
     * (a location a previous page returned, 0 for the beginning); the object at {@code from}
     * itself is included.
     */
    public ScanPage scan(long from, int limit) throws IOException {
        List<ObjectEntry> out = new ArrayList<>(Math.min(limit, 4096));
        long[] next = {-1};
        SegmentScanner scanner = new SegmentScanner();
        long startSegment = Locations.segment(from);
        for (long segment : repo.store().list()) {
            if (segment < startSegment || segment > transactionId) {
                continue;
            }
            long fromOffset = segment == startSegment ? Locations.offset(from) : 0;
            SegmentStore.ReadHandle h;
            try {
                h = repo.store().openRead(segment);
            } catch (NoSuchFileException e) {
                continue; // removed before this view pinned it: nothing of the view lives there
            }
            try (h) {
                boolean complete = scanner.scan(h, segment, fromOffset, false, (tag, buf, at, offset, size) -> {
                    if (tag != SegmentFile.TAG_PUT) {
                        return true;
                    }
                    int idAt = at + SegmentFile.HEADER_SIZE;
                    long k0 = buf.getLong(idAt);
                    long k1 = buf.getLong(idAt + 8);
                    long k2 = buf.getLong(idAt + 16);
                    long k3 = buf.getLong(idAt + 24);
                    long here = Locations.of(segment, offset);
                    if (index.get(k0, k1, k2, k3) != here) {
                        return true;
                    }
                    if (out.size() == limit) {
                        next[0] = here;
                        return false;
                    }
                    out.add(new ObjectEntry(ObjectId.wrap(KeyIndex.keyBytes(k0, k1, k2, k3)), size - SegmentFile.PUT_HEADER_SIZE));
                    return true;
                });
                if (!complete) {
                    return new ScanPage(out, next[0]);
                }
            } catch (IntegrityException e) {
                // what follows a damaged header cannot be located (Borg's scan skips it too)
            }
        }
        return new ScanPage(out, -1);
    }

    private long dataSize(long location) throws IOException {
        try {
            return repo.readers.entrySize(location) - SegmentFile.PUT_HEADER_SIZE;
        } catch (NoSuchFileException e) {
            throw new IntegrityException("Segment " + Locations.segment(location) + " is missing: run check with repair", e);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            index.close();
            try {
                pin.close();
            } catch (Exception e) {
                // a pin cannot fail to close
            }
        }
    }
}
