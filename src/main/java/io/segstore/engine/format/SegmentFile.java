package io.segstore.engine.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The bytes of a Borg segment file: an 8-byte magic, then entries
 * {@code crc32 u32 | size u32 | tag u8 | [id 32 bytes | [data]]}, all little-endian. {@code size}
 * counts the whole entry; the CRC covers everything after the crc field.
 *
 * <p>Pure encoding and decoding: where segments live and when they are synced is the engine's
 * business.
 */
public final class SegmentFile {

    public static final byte[] MAGIC = "BORG_SEG".getBytes(StandardCharsets.US_ASCII);
    public static final byte[] ATTIC_MAGIC = "ATTICSEG".getBytes(StandardCharsets.US_ASCII);
    public static final int MAGIC_LENGTH = 8;

    public static final byte TAG_PUT = 0;
    public static final byte TAG_DELETE = 1;
    public static final byte TAG_COMMIT = 2;
    /** Tags above this are corruption (Borg reserves them and its repair relies on it). */
    public static final int MAX_TAG = 15;

    /** crc, size, tag. */
    public static final int HEADER_SIZE = 9;
    public static final int ID_SIZE = 32;
    /** crc, size, tag, id: the whole of a DELETE entry, the fixed part of a PUT. */
    public static final int PUT_HEADER_SIZE = HEADER_SIZE + ID_SIZE;
    public static final int DELETE_SIZE = PUT_HEADER_SIZE;
    public static final int COMMIT_SIZE = HEADER_SIZE;

    /** Borg's MAX_OBJECT_SIZE: no entry is larger than 20 MiB. */
    public static final int MAX_ENTRY_SIZE = 20 * 1024 * 1024;
    /** Borg's MAX_DATA_SIZE: the most data one PUT can carry. */
    public static final int MAX_DATA_SIZE = MAX_ENTRY_SIZE - PUT_HEADER_SIZE;
    /** max_segment_size must stay below this so that offsets fit in 32 bits. */
    public static final long MAX_SEGMENT_SIZE_LIMIT = (1L << 32) - MAX_ENTRY_SIZE;

    private static final byte[] COMMIT_ENTRY = buildCommitEntry();

    private SegmentFile() {
    }

    /** A header as found on disk, before any check. */
    public record Header(int crc, long size, int tag) {

        /** Why this header cannot start a valid entry, or null when it can. */
        public String problem() {
            if (size > MAX_ENTRY_SIZE) {
                return "entry size " + size + " is too big";
            }
            if (tag > MAX_TAG) {
                return "invalid tag " + tag;
            }
            int min = (tag == TAG_PUT || tag == TAG_DELETE) ? PUT_HEADER_SIZE : HEADER_SIZE;
            if (size < min) {
                return "entry size " + size + " is too small";
            }
            if (tag == TAG_DELETE && size != DELETE_SIZE) {
                return "a DELETE entry has " + DELETE_SIZE + " bytes, not " + size;
            }
            if (tag == TAG_COMMIT && size != COMMIT_SIZE) {
                return "a COMMIT entry has " + COMMIT_SIZE + " bytes, not " + size;
            }
            if (tag != TAG_PUT && tag != TAG_DELETE && tag != TAG_COMMIT) {
                return "unknown tag " + tag;
            }
            return null;
        }
    }

    /** Reads the 9-byte header at {@code buf}'s position without moving it. */
    public static Header readHeader(ByteBuffer buf, int at) {
        ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int crc = le.getInt(at);
        long size = Integer.toUnsignedLong(le.getInt(at + 4));
        int tag = le.get(at + 8) & 0xff;
        return new Header(crc, size, tag);
    }

    /** True if the first 8 bytes are Borg's magic. */
    public static boolean isMagic(byte[] first8) {
        return Arrays.equals(first8, MAGIC);
    }

    public static boolean isAtticMagic(byte[] first8) {
        return Arrays.equals(first8, ATTIC_MAGIC);
    }

    /**
     * CRC32 of a whole entry as it lies in {@code entry} from {@code at} for {@code size} bytes:
     * everything after the crc field.
     */
    public static int entryCrc(ByteBuffer entry, int at, int size) {
        CRC32 crc = new CRC32();
        ByteBuffer view = entry.duplicate();
        view.limit(at + size).position(at + 4);
        crc.update(view);
        return (int) crc.getValue();
    }

    /** The CRC a PUT of {@code data} (remaining bytes, not consumed) under {@code id} must carry. */
    public static int putCrc(byte[] id, ByteBuffer data) {
        CRC32 crc = new CRC32();
        byte[] sizeAndTag = sizeAndTag(PUT_HEADER_SIZE + data.remaining(), TAG_PUT);
        crc.update(sizeAndTag);
        crc.update(id);
        crc.update(data.duplicate());
        return (int) crc.getValue();
    }

    /** A CRC over a PUT's size, tag and id, to be continued with its data (for data read in chunks). */
    public static CRC32 putCrcStart(byte[] id, long dataLength) {
        CRC32 crc = new CRC32();
        crc.update(sizeAndTag((int) (PUT_HEADER_SIZE + dataLength), TAG_PUT));
        crc.update(id);
        return crc;
    }

    /** Writes the 41-byte PUT header for {@code dataLength} bytes of data at the buffer's position. */
    public static void writePutHeader(ByteBuffer dst, int crc, byte[] id, int dataLength) {
        ByteBuffer le = dst.order(ByteOrder.LITTLE_ENDIAN);
        le.putInt(crc);
        le.putInt(PUT_HEADER_SIZE + dataLength);
        le.put(TAG_PUT);
        le.put(id);
    }

    /** Writes a complete 41-byte DELETE entry at the buffer's position. */
    public static void writeDelete(ByteBuffer dst, byte[] id) {
        CRC32 crc = new CRC32();
        crc.update(sizeAndTag(DELETE_SIZE, TAG_DELETE));
        crc.update(id);
        ByteBuffer le = dst.order(ByteOrder.LITTLE_ENDIAN);
        le.putInt((int) crc.getValue());
        le.putInt(DELETE_SIZE);
        le.put(TAG_DELETE);
        le.put(id);
    }

    /** The 9 bytes of a COMMIT entry; they never change. */
    public static byte[] commitEntry() {
        return COMMIT_ENTRY.clone();
    }

    /** True if the 9 bytes at {@code at} are exactly a COMMIT entry. */
    public static boolean isCommitEntry(ByteBuffer buf, int at) {
        for (int i = 0; i < COMMIT_SIZE; i++) {
            if (buf.get(at + i) != COMMIT_ENTRY[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] sizeAndTag(int size, byte tag) {
        return new byte[] {(byte) size, (byte) (size >>> 8), (byte) (size >>> 16), (byte) (size >>> 24), tag};
    }

    private static byte[] buildCommitEntry() {
        byte[] body = sizeAndTag(COMMIT_SIZE, TAG_COMMIT);
        CRC32 crc = new CRC32();
        crc.update(body);
        ByteBuffer out = ByteBuffer.allocate(COMMIT_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt((int) crc.getValue()).put(body);
        return out.array();
    }

    /**
     * Whether a name is a number as Borg writes them in the repository (segment files, their
     * directories, the N of index.N and hints.N): decimal digits only, small enough for a long.
     */
    public static boolean isNumberName(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
