package io.segstore.engine;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A stored object opened for reading. Its bytes were checked (id and CRC) when it was opened,
 * so everything written out is exactly what was stored; large objects are then copied out in
 * chunks, never held whole in memory.
 */
public final class StoredObject implements AutoCloseable {

    private final long length;
    private final byte[] small;
    private final SegmentReaders.OpenEntry large;

    StoredObject(byte[] small) {
        this.length = small.length;
        this.small = small;
        this.large = null;
    }

    StoredObject(SegmentReaders.OpenEntry large) {
        this.length = large.length();
        this.small = null;
        this.large = large;
    }

    /** Length of the data in bytes. */
    public long length() {
        return length;
    }

    /** Writes the data to {@code out} (not closed). */
    public void writeTo(OutputStream out) throws IOException {
        if (small != null) {
            out.write(small);
        } else {
            large.copyTo(out);
        }
    }

    @Override
    public void close() {
        if (large != null) {
            large.close();
        }
    }
}
