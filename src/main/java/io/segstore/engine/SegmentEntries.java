package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The entries of one segment as a scan found them (tag, header and key, not the data), kept to be
 * applied to a state later: after the whole segment proved intact (check), or after every new
 * segment was read without holding any lock (a follower catching up).
 */
final class SegmentEntries {

    /** What {@link #forEach} hands over for each entry. */
    @FunctionalInterface
    interface Visitor {
        void visit(int tag, long k0, long k1, long k2, long k3, long location, int size) throws IOException;
    }

    private static final int STRIDE = SegmentFile.PUT_HEADER_SIZE;
    private final long segment;
    private byte[] heads = new byte[64 * STRIDE];
    private int[] tags = new int[64];
    private long[] offsets = new long[64];
    private int[] sizes = new int[64];
    private int count;

    SegmentEntries(long segment) {
        this.segment = segment;
    }

    void add(int tag, ByteBuffer buf, int at, long offset, int size) {
        if (count == tags.length) {
            int n = count * 2;
            heads = Arrays.copyOf(heads, n * STRIDE);
            tags = Arrays.copyOf(tags, n);
            offsets = Arrays.copyOf(offsets, n);
            sizes = Arrays.copyOf(sizes, n);
        }
        buf.get(at, heads, count * STRIDE, Math.min(size, STRIDE));
        tags[count] = tag;
        offsets[count] = offset;
        sizes[count] = size;
        count++;
    }

    /** Adds every entry to {@code applier}, in order, and flushes it. */
    void applyTo(Recovery.Applier applier) throws IOException {
        ByteBuffer view = ByteBuffer.wrap(heads).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            applier.add(tags[i], view, i * STRIDE, Locations.of(segment, offsets[i]), sizes[i]);
        }
        applier.flush();
    }

    /** Visits every entry in order; the key is zero for a COMMIT. */
    void forEach(Visitor visitor) throws IOException {
        ByteBuffer view = ByteBuffer.wrap(heads).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int k = i * STRIDE + SegmentFile.HEADER_SIZE;
            boolean keyed = tags[i] == SegmentFile.TAG_PUT || tags[i] == SegmentFile.TAG_DELETE;
            visitor.visit(tags[i], keyed ? view.getLong(k) : 0, keyed ? view.getLong(k + 8) : 0, keyed ? view.getLong(k + 16) : 0,
                    keyed ? view.getLong(k + 24) : 0, Locations.of(segment, offsets[i]), sizes[i]);
        }
    }
}
