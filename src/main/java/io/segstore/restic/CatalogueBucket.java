package io.segstore.restic;

import io.segstore.engine.IntegrityException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * One bucket of a type's catalogue: the names and sizes of the files of that type whose names
 * start with the bucket's bits, sorted by name. Stored as one object (docs/FORMAT.md, "restic
 * files"), little-endian:
 * <pre>
 *   magic "SGRCAT01" (8) | type code (1) | bucket bits (1) | bucket number (u16) | entry count (u32)
 *   entry count times: name (32 bytes) | size (u64)
 * </pre>
 * An empty bucket is not stored (its object is deleted).
 */
final class CatalogueBucket {

    static final byte[] MAGIC = "SGRCAT01".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER = 16;
    static final int ENTRY = 40;

    /** One file: its name's 32 bytes and its size. */
    record Entry(byte[] name, long size) {
    }

    private static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    private final FileType type;
    private final int number;
    private final List<Entry> entries;

    private CatalogueBucket(FileType type, int number, List<Entry> entries) {
        this.type = type;
        this.number = number;
        this.entries = entries;
    }

    static CatalogueBucket empty(FileType type, int number) {
        return new CatalogueBucket(type, number, new ArrayList<>());
    }

    /** Parses a stored bucket; IntegrityException when it is not the bucket it should be. */
    static CatalogueBucket decode(FileType type, int number, byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        String where = "restic catalogue bucket " + type.path() + "/" + number;
        if (data.length < HEADER || !Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IntegrityException(where + " has no valid header");
        }
        int code = b.get(8);
        int bits = b.get(9);
        int stored = Short.toUnsignedInt(b.getShort(10));
        long count = Integer.toUnsignedLong(b.getInt(12));
        if (code != type.code() || (1 << bits) != type.buckets() || stored != number) {
            throw new IntegrityException(where + " holds bucket " + stored + " of another catalogue (type " + code + ", " + bits + " bits)");
        }
        if (data.length != HEADER + count * ENTRY) {
            throw new IntegrityException(where + " is " + data.length + " bytes long, not " + (HEADER + count * ENTRY)
                    + " for its " + count + " entries");
        }
        List<Entry> entries = new ArrayList<>((int) count);
        byte[] previous = null;
        for (int i = 0; i < count; i++) {
            byte[] name = new byte[32];
            b.get(HEADER + i * ENTRY, name);
            long size = b.getLong(HEADER + i * ENTRY + 32);
            if (size < 0 || previous != null && ORDER.compare(previous, name) >= 0 || type.bucketOf(name) != number) {
                throw new IntegrityException(where + " has an invalid entry at position " + i);
            }
            entries.add(new Entry(name, size));
            previous = name;
        }
        return new CatalogueBucket(type, number, entries);
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER + entries.size() * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) type.code()).put((byte) Integer.numberOfTrailingZeros(type.buckets()))
                .putShort((short) number).putInt(entries.size());
        for (Entry e : entries) {
            b.put(e.name()).putLong(e.size());
        }
        return b.array();
    }

    int encodedLength() {
        return HEADER + entries.size() * ENTRY;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }

    /** The size of the file named {@code name}, or -1 when this bucket does not list it. */
    long sizeOf(byte[] name) {
        int i = find(name);
        return i >= 0 ? entries.get(i).size() : -1;
    }

    /** Adds a file; false if it is already listed. */
    boolean add(byte[] name, long size) {
        int i = find(name);
        if (i >= 0) {
            return false;
        }
        entries.add(-i - 1, new Entry(name.clone(), size));
        return true;
    }

    /** Removes a file; false if it was not listed. */
    boolean remove(byte[] name) {
        int i = find(name);
        if (i < 0) {
            return false;
        }
        entries.remove(i);
        return true;
    }

    private int find(byte[] name) {
        int lo = 0;
        int hi = entries.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = ORDER.compare(entries.get(mid).name(), name);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }
}
