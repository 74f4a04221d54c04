package io.segstore.engine;

import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * Reads a segment front to back in large chunks and hands each entry to a visitor. With
 * {@code verify}, every entry is read whole and its CRC checked; without, only headers and ids
 * are read and data is skipped (for listings and size estimates).
 *
 * <p>Stops with an IntegrityException at the first entry that is not intact, naming segment and
 * offset: what follows a damaged header cannot be located.
 */
final class SegmentScanner {

    private static final int CHUNK = 1 << 20;

    /** Receives one entry. {@code buf} holds the entry from {@code at} (the whole entry when verified). */
    interface Visitor {
        /** Return false to stop the scan. */
        boolean entry(int tag, ByteBuffer buf, int at, long offset, int size) throws IOException;
    }

    private ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32 crc = new CRC32();

    /** Offset just past the last entry visited (where a scan stopped or ended). */
    private long end;

    long end() {
        return end;
    }

    /**
     * Scans {@code segment} from {@code from} (0 checks the magic first). Returns true when the
     * end of the segment was reached, false when the visitor stopped it.
     */
    boolean scan(SegmentStore.ReadHandle h, long segment, long from, boolean verify, Visitor visitor) throws IOException {
        long fileSize = h.size();
        long offset = from;
        buf.clear().limit(0);
        long bufStart = from;
        if (from == 0) {
            bufStart = 0;
            fill(h, 0, SegmentFile.MAGIC_LENGTH, fileSize);
            byte[] magic = new byte[SegmentFile.MAGIC_LENGTH];
            if (buf.remaining() < SegmentFile.MAGIC_LENGTH) {
                throw new IntegrityException("Invalid segment magic [segment " + segment + ", offset 0]");
            }
            buf.get(0, magic);
            if (!SegmentFile.isMagic(magic)) {
                throw new IntegrityException("Invalid segment magic [segment " + segment + ", offset 0]");
            }
            offset = SegmentFile.MAGIC_LENGTH;
        }
        end = offset;
        while (offset < fileSize) {
            int at = (int) (offset - bufStart);
            if (at + SegmentFile.HEADER_SIZE > buf.limit()) {
                bufStart = offset;
                at = 0;
                fill(h, offset, SegmentFile.HEADER_SIZE, fileSize);
            }
            if (buf.limit() - at < SegmentFile.HEADER_SIZE) {
                throw new IntegrityException("Invalid segment entry header [segment " + segment + ", offset " + offset + "]: truncated");
            }
            SegmentFile.Header header = SegmentFile.readHeader(buf, at);
            String problem = header.problem();
            if (problem != null) {
                throw new IntegrityException("Invalid segment entry header [segment " + segment + ", offset " + offset + "]: " + problem);
            }
            int size = (int) header.size();
            if (offset + size > fileSize) {
                throw new IntegrityException("Segment entry data short read [segment " + segment + ", offset " + offset + "]: expected "
                        + size + ", got " + (fileSize - offset) + " bytes");
            }
            int need = verify ? size : Math.min(size, SegmentFile.PUT_HEADER_SIZE);
            if (at + need > buf.limit()) {
                bufStart = offset;
                at = 0;
                fill(h, offset, need, fileSize);
            }
            if (verify) {
                crc.reset();
                ByteBuffer body = buf.duplicate();
                body.limit(at + size).position(at + 4);
                crc.update(body);
                if ((int) crc.getValue() != header.crc()) {
                    throw new IntegrityException("Segment entry checksum mismatch [segment " + segment + ", offset " + offset + "]");
                }
            }
            if (!visitor.entry(header.tag(), buf, at, offset, size)) {
                end = offset + size;
                return false;
            }
            offset += size;
            end = offset;
        }
        return true;
    }

    /** Loads the file from {@code position} into the buffer, at least {@code need} bytes if the file has them. */
    private void fill(SegmentStore.ReadHandle h, long position, int need, long fileSize) throws IOException {
        if (need > buf.capacity()) {
            buf = ByteBuffer.allocate(Math.max(need, CHUNK)).order(ByteOrder.LITTLE_ENDIAN);
        }
        buf.clear();
        long want = Math.min(buf.capacity(), fileSize - position);
        buf.limit((int) Math.max(0, want));
        while (buf.hasRemaining()) {
            int n = h.read(buf, position + buf.position());
            if (n < 0) {
                break;
            }
        }
        buf.flip();
        if (buf.limit() < Math.min(need, fileSize - position)) {
            throw new IOException("segment file shrank while it was read");
        }
    }
}
