package io.segstore.restic;

import io.segstore.engine.IntegrityException;
import io.segstore.engine.StoredObject;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * The bytes a GET sends: a range of a file, over the parts that hold it. Every part the range
 * touches was opened, and so checked against its CRC, before the first byte is sent, so a
 * damaged or vanished part is a clean error rather than a cut-off answer.
 */
final class FileContent implements AutoCloseable {

    private final long size;
    private final ByteRange range;
    private final int firstPart;
    private final List<StoredObject> parts;

    FileContent(long size, ByteRange range, int firstPart, List<StoredObject> parts) {
        this.size = size;
        this.range = range;
        this.firstPart = firstPart;
        this.parts = parts;
        for (int i = 0; i < parts.size(); i++) {
            long expected = FileIds.partLength(size, firstPart + i);
            if (parts.get(i).length() != expected) {
                throw new IntegrityException("part " + (firstPart + i) + " of a restic file of " + size + " bytes holds "
                        + parts.get(i).length() + " bytes, not " + expected);
            }
        }
    }

    long size() {
        return size;
    }

    ByteRange range() {
        return range;
    }

    void writeTo(OutputStream out) throws IOException {
        long position = range.start();
        long end = range.start() + range.length();
        for (int i = 0; i < parts.size() && position < end; i++) {
            long partStart = (firstPart + i) * FileIds.PART_SIZE;
            long from = position - partStart;
            long count = Math.min(end, partStart + parts.get(i).length()) - position;
            parts.get(i).writeTo(out, from, count);
            position += count;
        }
    }

    @Override
    public void close() {
        for (StoredObject o : parts) {
            o.close();
        }
    }
}
