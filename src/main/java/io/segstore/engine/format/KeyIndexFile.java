package io.segstore.engine.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Set;
import net.openhft.hashing.LongHashFunction;

/**
 * {@code segstore-index.T}: Segstore's own checkpoint of its in-memory key index, the shards'
 * slot arrays dumped as they are so that opening a repository is a bulk read, not millions of
 * inserts. Borg neither reads nor removes it (Borg only cleans up names starting with
 * {@code index.}, {@code hints.} and {@code integrity.}); Borg's own {@code index.T} is written
 * beside it at every checkpoint.
 *
 * <pre>
 * header, 64 bytes, little-endian:
 *   magic "SEGSTIDX" | version u32 = 1 | shard bits u32 | transaction u64 | entries u64
 *   | seed u64 | hash probe u64 | reserved u64 | header checksum u64 (XXH64 of the 56 bytes before)
 * then per shard: level u32 | count u32 | words u32 | reserved u32 | checksum u64 (XXH64 of the
 *   words) | words × u64 (5 per slot: key as 4 little-endian words, then the value)
 * </pre>
 * The hash probe is the index's hash of a fixed key: if the hash function ever changed, the
 * stored order would be wrong, so such a file is not used.
 */
public final class KeyIndexFile {

    public static final String PREFIX = "segstore-index.";
    private static final byte[] MAGIC = "SEGSTIDX".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int HEADER_SIZE = 64;
    private static final int SHARD_HEADER_SIZE = 24;
    private static final int CHUNK = 4 << 20;
    private static final LongHashFunction CHECKSUM = LongHashFunction.xx();

    private KeyIndexFile() {
    }

    /** What the header says. */
    public record Header(int shardBits, long transaction, long entries, long seed, long hashProbe) {
    }

    /** One shard's raw state. */
    public record Shard(int level, int count, long[] words) {
    }

    /** Supplies shards for writing. */
    public interface ShardSource {
        Shard shard(int index);
    }

    /** Writes the file (to a temporary path the caller renames) and fsyncs it. */
    public static void write(Path file, Header header, ShardSource shards) throws IOException {
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                AtomicFile.fileAttributes(file))) {
            ByteBuffer h = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            h.put(MAGIC).putInt(VERSION).putInt(header.shardBits()).putLong(header.transaction()).putLong(header.entries())
                    .putLong(header.seed()).putLong(header.hashProbe()).putLong(0);
            h.putLong(CHECKSUM.hashBytes(h.array(), 0, HEADER_SIZE - 8));
            writeFully(ch, h.flip());
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 1 << header.shardBits(); i++) {
                Shard s = shards.shard(i);
                long[] w = s.words();
                ByteBuffer sh = ByteBuffer.allocate(SHARD_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                sh.putInt(s.level()).putInt(s.count()).putInt(w.length).putInt(0).putLong(CHECKSUM.hashLongs(w));
                writeFully(ch, sh.flip());
                for (int off = 0; off < w.length; ) {
                    buf.clear();
                    int n = Math.min(w.length - off, CHUNK / 8);
                    buf.asLongBuffer().put(w, off, n);
                    buf.limit(n * 8);
                    writeFully(ch, buf);
                    off += n;
                }
            }
            ch.force(true);
        }
    }

    /** Reads only the header; FormatException if it is not a valid one. */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch);
        }
    }

    /**
     * Reads the whole file. Every shard's checksum is verified; FormatException on any mismatch
     * or truncation.
     */
    public static Shard[] read(Path file, Header expected) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header header = readHeader(ch);
            if (!header.equals(expected)) {
                throw new FormatException(file.getFileName() + " changed while it was read");
            }
            Shard[] shards = new Shard[1 << header.shardBits()];
            ByteBuffer sh = ByteBuffer.allocate(SHARD_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            long total = 0;
            for (int i = 0; i < shards.length; i++) {
                sh.clear();
                readFully(ch, sh, file);
                sh.flip();
                int level = sh.getInt();
                int count = sh.getInt();
                int words = sh.getInt();
                sh.getInt();
                long checksum = sh.getLong();
                if (words < 0 || words % 5 != 0 || count < 0 || level < -1 || (long) count * 5 > words) {
                    throw new FormatException(file.getFileName() + ": shard " + i + " header is invalid");
                }
                long[] w = new long[words];
                for (int off = 0; off < words; ) {
                    int n = Math.min(words - off, CHUNK / 8);
                    buf.clear().limit(n * 8);
                    readFully(ch, buf, file);
                    buf.flip();
                    LongBuffer lb = buf.asLongBuffer();
                    lb.get(w, off, n);
                    off += n;
                }
                if (CHECKSUM.hashLongs(w) != checksum) {
                    throw new FormatException(file.getFileName() + ": shard " + i + " checksum mismatch");
                }
                shards[i] = new Shard(level, count, w);
                total += count;
            }
            if (total != header.entries()) {
                throw new FormatException(file.getFileName() + ": shards hold " + total + " entries, header says " + header.entries());
            }
            if (ch.position() != ch.size()) {
                throw new FormatException(file.getFileName() + " has trailing bytes");
            }
            return shards;
        }
    }

    private static Header readHeader(FileChannel ch) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, h, null);
        byte[] raw = h.array();
        if (!Arrays.equals(Arrays.copyOf(raw, 8), MAGIC)) {
            throw new FormatException("not a Segstore index file");
        }
        if (CHECKSUM.hashBytes(raw, 0, HEADER_SIZE - 8) != h.getLong(HEADER_SIZE - 8)) {
            throw new FormatException("Segstore index header checksum mismatch");
        }
        if (h.getInt(8) != VERSION) {
            throw new FormatException("unknown Segstore index version " + h.getInt(8));
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            // shard checksums are taken over native longs; on other machines the file is rebuilt
            throw new FormatException("Segstore index files are only read on little-endian machines");
        }
        int shardBits = h.getInt(12);
        if (shardBits < 0 || shardBits > 12) {
            throw new FormatException("Segstore index has invalid shard bits " + shardBits);
        }
        return new Header(shardBits, h.getLong(16), h.getLong(24), h.getLong(32), h.getLong(40));
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, Path file) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new FormatException((file == null ? "Segstore index" : file.getFileName().toString()) + " is truncated");
            }
        }
    }
}
