package io.segstore.engine.format;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@code index.T}: Borg's on-disk hash table (its "hashindex", NSIndex flavour) mapping a 32-byte
 * id to (segment u32, offset u32).
 *
 * <pre>
 * header (18 bytes): "BORG_IDX" | num_entries i32 | num_buckets i32 | key_size i8 = 32 | value_size i8 = 8
 * num_buckets buckets of 40 bytes: key 32 | segment u32 | offset u32
 * </pre>
 * An empty bucket has segment 0xFFFFFFFF, a deleted one 0xFFFFFFFE. Borg finds a key by linear
 * probing upward (wrapping) from bucket {@code u32le(key[0..4]) mod num_buckets} until it meets
 * an empty bucket, so a writer must leave no empty bucket between a key's home and its place.
 */
public final class BorgIndexFile {

    public static final String PREFIX = "index.";
    public static final int HEADER_SIZE = 18;
    public static final int KEY_SIZE = 32;
    public static final int VALUE_SIZE = 8;
    public static final int BUCKET_SIZE = KEY_SIZE + VALUE_SIZE;
    public static final long EMPTY = 0xFFFFFFFFL;
    public static final long DELETED = 0xFFFFFFFEL;

    private static final byte[] MAGIC = "BORG_IDX".getBytes(StandardCharsets.US_ASCII);
    /** Borg's table sizes; it keeps the load at most 0.75. */
    private static final int[] HASH_SIZES = {
        1031, 2053, 4099, 8209, 16411, 32771, 65537, 131101, 262147, 445649,
        757607, 1287917, 2189459, 3065243, 4291319, 6007867, 8410991,
        11775359, 16485527, 23079703, 27695653, 33234787, 39881729, 47858071,
        57429683, 68915617, 82698751, 99238507, 119086189, 144378011, 157223263,
        173476439, 190253911, 209915011, 230493629, 253169431, 278728861,
        306647623, 337318939, 370742809, 408229973, 449387209, 493428073,
        543105119, 596976533, 657794869, 722676499, 795815791, 874066969,
        962279771, 1057701643, 1164002657, 1280003147, 1407800297, 1548442699,
        1703765389, 1873768367, 2062383853,
    };
    private static final double MAX_LOAD = 0.75;
    private static final byte[] EMPTY_BUCKET = emptyBucket();
    private static final int IO_CHUNK = 1 << 20;

    private BorgIndexFile() {
    }

    private static byte[] emptyBucket() {
        ByteBuffer b = ByteBuffer.allocate(BUCKET_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.position(KEY_SIZE);
        b.putInt((int) EMPTY).putInt(0);
        return b.array();
    }

    /** The entries to write, addressed by opaque handles below 2^32. */
    public interface Entries {
        int count();

        /** Hands every entry's handle and the first 4 key bytes (as a little-endian u32) to {@code sink}. */
        void forEachHandle(HandleSink sink);

        /** Puts the entry's 32 key bytes, segment u32 and offset u32 (little-endian) into {@code dst}. */
        void putBucket(long handle, ByteBuffer dst);
    }

    @FunctionalInterface
    public interface HandleSink {
        void accept(long handle, int keyPrefix);
    }

    /** Receives one entry read from the file; the key arrives as four little-endian words. */
    @FunctionalInterface
    public interface EntrySink {
        void accept(long k0, long k1, long k2, long k3, long segment, long offset);
    }

    /** Borg's table size for {@code count} entries. */
    public static int bucketsFor(int count) {
        for (int size : HASH_SIZES) {
            if (count <= (long) (size * MAX_LOAD)) {
                return size;
            }
        }
        throw new IllegalArgumentException("too many entries for a Borg index: " + count);
    }

    /** Size in bytes of the file for {@code count} entries. */
    public static long fileSize(int count) {
        return HEADER_SIZE + (long) bucketsFor(count) * BUCKET_SIZE;
    }

    /**
     * Writes the table for {@code entries} to {@code out} (not closed), feeding the digest parts
     * "HashHeader" and "final" as Borg does. Entries are placed in order of their home bucket, so
     * the file is written front to back.
     */
    public static void write(OutputStream out, Entries entries, IntegrityDigest digest) throws IOException {
        int count = entries.count();
        int buckets = bucketsFor(count);
        long[] order = new long[count];
        int[] n = {0};
        entries.forEachHandle((handle, prefix) -> {
            if (n[0] == count) {
                throw new IllegalStateException("more entries than announced");
            }
            long home = Integer.toUnsignedLong(prefix) % buckets;
            order[n[0]++] = (home << 32) | (handle & 0xFFFFFFFFL);
        });
        if (n[0] != count) {
            throw new IllegalStateException("fewer entries than announced");
        }
        Arrays.sort(order);
        long[] place = placements(order, buckets);

        OutputStream digesting = new IntegrityDigest.Writing(out, digest);
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(count).putInt(buckets).put((byte) KEY_SIZE).put((byte) VALUE_SIZE);
        digesting.write(header.array());
        digest.endPart("HashHeader");

        ByteBuffer chunk = ByteBuffer.allocate(IO_CHUNK - IO_CHUNK % BUCKET_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        // place[] is sorted by position; walk buckets front to back.
        int next = 0;
        for (long bucket = 0; bucket < buckets; bucket++) {
            if (!chunk.hasRemaining()) {
                digesting.write(chunk.array(), 0, chunk.position());
                chunk.clear();
            }
            if (next < place.length && (place[next] >>> 32) == bucket) {
                int start = chunk.position();
                entries.putBucket(place[next] & 0xFFFFFFFFL, chunk);
                if (chunk.position() - start != BUCKET_SIZE) {
                    throw new IllegalStateException("a bucket has 40 bytes");
                }
                next++;
            } else {
                chunk.put(EMPTY_BUCKET);
            }
        }
        digesting.write(chunk.array(), 0, chunk.position());
        digesting.flush();
        digest.endPart("final", HEADER_SIZE + (long) buckets * BUCKET_SIZE);
    }

    /**
     * Where each entry goes: {@code order} holds (home << 32 | handle) sorted by home; the result
     * holds (position << 32 | handle) sorted by position. Each entry takes the first free bucket
     * at or after its home; entries pushed past the end wrap to the front.
     */
    private static long[] placements(long[] order, int buckets) {
        int count = order.length;
        long[] pos = new long[count];
        long prev = -1;
        for (int i = 0; i < count; i++) {
            long p = Math.max(order[i] >>> 32, prev + 1);
            pos[i] = p;
            prev = p;
        }
        int wrapped = 0;
        while (wrapped < count && pos[count - 1 - wrapped] >= buckets) {
            wrapped++;
        }
        if (wrapped > 0) {
            // The wrapped tail occupies the front; the entries homed there move behind it.
            long front = pos[count - 1] - buckets;
            prev = front;
            for (int i = 0; i < count - wrapped; i++) {
                long p = Math.max(order[i] >>> 32, prev + 1);
                if (p == pos[i]) {
                    break; // from here on nothing moves
                }
                pos[i] = p;
                prev = p;
            }
            if (pos[count - wrapped - 1] >= buckets) {
                throw new IllegalStateException("index table overfull");
            }
        }
        long[] result = new long[count];
        int r = 0;
        for (int i = count - wrapped; i < count; i++) {
            result[r++] = ((pos[i] - buckets) << 32) | (order[i] & 0xFFFFFFFFL);
        }
        for (int i = 0; i < count - wrapped; i++) {
            result[r++] = (pos[i] << 32) | (order[i] & 0xFFFFFFFFL);
        }
        return result;
    }

    /** The entry count a file's header announces (unverified: for sizing before a full read). */
    public static int entryCount(java.nio.file.Path file) throws IOException {
        try (InputStream in = java.nio.file.Files.newInputStream(file)) {
            byte[] header = in.readNBytes(HEADER_SIZE);
            if (header.length != HEADER_SIZE) {
                throw new FormatException("index header is truncated");
            }
            return Math.max(0, ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(8));
        }
    }

    /**
     * Reads a whole index from {@code in}, handing each entry to {@code sink} and feeding the
     * digest parts. Returns the number of entries; FormatException if the file is malformed.
     */
    public static int read(InputStream in, long fileLength, IntegrityDigest digest, EntrySink sink) throws IOException {
        InputStream digesting = new IntegrityDigest.Reading(in, digest);
        byte[] headerBytes = digesting.readNBytes(HEADER_SIZE);
        if (headerBytes.length != HEADER_SIZE) {
            throw new FormatException("index header is truncated");
        }
        ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (!Arrays.equals(Arrays.copyOf(headerBytes, MAGIC.length), MAGIC)) {
            throw new FormatException("index has an unknown magic");
        }
        int entries = header.getInt(8);
        int buckets = header.getInt(12);
        int keySize = header.get(16);
        int valueSize = header.get(17);
        digest.endPart("HashHeader");
        if (keySize != KEY_SIZE || valueSize != VALUE_SIZE) {
            throw new FormatException("index has key/value sizes " + keySize + "/" + valueSize + ", expected 32/8");
        }
        if (buckets <= 0 || entries < 0 || entries > buckets) {
            throw new FormatException("index header is inconsistent: " + entries + " entries in " + buckets + " buckets");
        }
        long expected = HEADER_SIZE + (long) buckets * BUCKET_SIZE;
        if (fileLength != expected) {
            throw new FormatException("index has length " + fileLength + ", expected " + expected);
        }
        byte[] chunk = new byte[IO_CHUNK - IO_CHUNK % BUCKET_SIZE];
        ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        long remaining = (long) buckets * BUCKET_SIZE;
        int found = 0;
        while (remaining > 0) {
            int want = (int) Math.min(chunk.length, remaining);
            int got = digesting.readNBytes(chunk, 0, want);
            if (got != want) {
                throw new FormatException("index is truncated");
            }
            for (int at = 0; at < want; at += BUCKET_SIZE) {
                long segment = Integer.toUnsignedLong(view.getInt(at + KEY_SIZE));
                if (segment == EMPTY || segment == DELETED) {
                    continue;
                }
                long offset = Integer.toUnsignedLong(view.getInt(at + KEY_SIZE + 4));
                sink.accept(view.getLong(at), view.getLong(at + 8), view.getLong(at + 16), view.getLong(at + 24), segment, offset);
                found++;
            }
            remaining -= want;
        }
        if (digesting.read() != -1) {
            throw new FormatException("index has trailing bytes");
        }
        digest.endPart("final", fileLength);
        if (found != entries) {
            throw new FormatException("index header says " + entries + " entries, the table holds " + found);
        }
        return found;
    }
}
