package io.segstore.engine;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A stored object opened for reading. Its id and CRC were checked in a first pass when it was
 * opened, before any byte is sent, so a damaged object fails with an error rather than a
 * truncated response. Large objects are then copied out in chunks in a second pass over the
 * same open file, never held whole in memory: committed segment files are never changed in
 * place (repair and compaction write new files and rename them), so both passes read the same
 * bytes.
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

    /**
     * Writes {@code length} bytes of the data starting at {@code offset} to {@code out} (not
     * closed): a range of the object, read from the same verified entry.
     */
    public void writeTo(OutputStream out, long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset + length > this.length) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " of an object of " + this.length + " bytes");
        }
        if (small != null) {
            out.write(small, (int) offset, (int) length);
        } else {
            large.copyTo(out, offset, length);
        }
    }

    @Override
    public void close() {
        if (large != null) {
            large.close();
        }
    }
}
