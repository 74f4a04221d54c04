package io.segstore.engine.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
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
 *   | seed u64 | hash probe u64 | Borg index digest u64 | header checksum u64 (XXH64 of the 56 bytes before)
 * then per shard: level u32 | count u32 | words u32 | reserved u32 | checksum u64 (XXH64 of the
 *   words) | words × u64 (5 per slot: key as 4 little-endian words, then the value)
 * </pre>
 * The hash probe is the index's hash of a fixed key: if the hash function ever changed, the
 * stored order would be wrong, so such a file is not used. The Borg index digest is the "final"
 * XXH64 digest of the {@code index.T} written in the same checkpoint: if Borg later rewrites
 * {@code index.T} under the same transaction (a repair), this file no longer matches it and is
 * not used.
 */
public final class KeyIndexFile {

    public static final String PREFIX = "segstore-index.";
    private static final byte[] MAGIC = "SEGSTIDX".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int HEADER_SIZE = 64;
    private static final int SHARD_HEADER_SIZE = 24;
    private static final int CHUNK = 4 << 20;
    private static final LongHashFunction CHECKSUM = LongHashFunction.xx();
    private static final net.jpountz.xxhash.XXHashFactory STREAMING = net.jpountz.xxhash.XXHashFactory.fastestJavaInstance();

    private KeyIndexFile() {
    }

    /** What the header says. */
    public record Header(int shardBits, long transaction, long entries, long seed, long hashProbe, long borgIndexDigest) {
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
                    .putLong(header.seed()).putLong(header.hashProbe()).putLong(header.borgIndexDigest());
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
        try (Mapped mapped = map(file, expected)) {
            Shard[] shards = new Shard[mapped.shardCount()];
            for (int i = 0; i < shards.length; i++) {
                shards[i] = mapped.load(i);
            }
            return shards;
        }
    }

    /**
     * Opens the file for loading shard by shard: the shard records are walked and checked
     * against the header at once, the slot words are copied (and their checksums verified) only
     * when a shard is loaded.
     */
    public static Mapped map(Path file, Header expected) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            Header header = readHeader(ch);
            if (!header.equals(expected)) {
                throw new FormatException(file.getFileName() + " changed while it was read");
            }
            int count = 1 << header.shardBits();
            long[] starts = new long[count];
            int[] levels = new int[count];
            int[] counts = new int[count];
            int[] lengths = new int[count];
            long[] checksums = new long[count];
            ByteBuffer sh = ByteBuffer.allocate(SHARD_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            long pos = HEADER_SIZE;
            long total = 0;
            for (int i = 0; i < count; i++) {
                sh.clear();
                while (sh.hasRemaining()) {
                    if (ch.read(sh, pos + sh.position()) < 0) {
                        throw new FormatException(file.getFileName() + " is truncated");
                    }
                }
                levels[i] = sh.getInt(0);
                counts[i] = sh.getInt(4);
                lengths[i] = sh.getInt(8);
                checksums[i] = sh.getLong(16);
                if (lengths[i] < 0 || lengths[i] % 5 != 0 || counts[i] < 0 || levels[i] < -1 || (long) counts[i] * 5 > lengths[i]) {
                    throw new FormatException(file.getFileName() + ": shard " + i + " header is invalid");
                }
                starts[i] = pos + SHARD_HEADER_SIZE;
                pos = starts[i] + 8L * lengths[i];
                total += counts[i];
            }
            if (pos != ch.size()) {
                throw new FormatException(file.getFileName() + " has " + ch.size() + " bytes, its shards need " + pos);
            }
            if (total != header.entries()) {
                throw new FormatException(file.getFileName() + ": shards hold " + total + " entries, header says " + header.entries());
            }
            MappedByteBuffer map = pos <= Integer.MAX_VALUE ? ch.map(FileChannel.MapMode.READ_ONLY, 0, pos) : null;
            Mapped mapped = new Mapped(file, ch, map, starts, levels, counts, lengths, checksums);
            if (map != null) {
                mapped.verifyAll();
            }
            return mapped;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** An open index file whose shards are loaded on demand. Loading is thread-safe. */
    public static final class Mapped implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final MappedByteBuffer map;
        private final long[] starts;
        private final int[] levels;
        private final int[] counts;
        private final int[] lengths;
        private final long[] checksums;
        /** Loads share it, close takes it alone: nothing reads the mapping after it is released. */
        private final java.util.concurrent.locks.ReentrantReadWriteLock release = new java.util.concurrent.locks.ReentrantReadWriteLock();
        private boolean closed;

        private Mapped(Path file, FileChannel channel, MappedByteBuffer map, long[] starts, int[] levels, int[] counts, int[] lengths,
                       long[] checksums) {
            this.file = file;
            this.channel = channel;
            this.map = map;
            this.starts = starts;
            this.levels = levels;
            this.counts = counts;
            this.lengths = lengths;
            this.checksums = checksums;
        }

        public int shardCount() {
            return starts.length;
        }

        public int level(int i) {
            return levels[i];
        }

        public int count(int i) {
            return counts[i];
        }

        /**
         * Verifies every shard's checksum in place (both cores, no copying), so that a damaged
         * file is refused when it is opened rather than when a shard is first used.
         */
        private void verifyAll() throws FormatException {
            int[] bad = {-1};
            java.util.stream.IntStream.range(0, starts.length).parallel().forEach(i -> {
                if (streamingChecksum(map.slice((int) starts[i], lengths[i] * 8)) != checksums[i]) {
                    bad[0] = i;
                }
            });
            if (bad[0] >= 0) {
                throw new FormatException(file.getFileName() + ": shard " + bad[0] + " checksum mismatch");
            }
        }

        /**
         * XXH64 of a mapped region, fed through a small heap buffer: the same value the writer
         * took over the slot words (little-endian), without copying the whole region out.
         */
        private static long streamingChecksum(ByteBuffer region) {
            net.jpountz.xxhash.StreamingXXHash64 h = STREAMING.newStreamingHash64(0);
            byte[] chunk = new byte[64 * 1024];
            while (region.hasRemaining()) {
                int n = Math.min(chunk.length, region.remaining());
                region.get(chunk, 0, n);
                h.update(chunk, 0, n);
            }
            return h.getValue();
        }

        /** Copies shard {@code i}'s words out (and verifies them when they were not verified at open). */
        public Shard load(int i) throws IOException {
            release.readLock().lock();
            try {
                if (closed) {
                    throw new FormatException(file.getFileName() + " was released before shard " + i + " was loaded");
                }
                return loadOpen(i);
            } finally {
                release.readLock().unlock();
            }
        }

        private Shard loadOpen(int i) throws IOException {
            long[] w;
            if (map != null) {
                w = new long[lengths[i]];
                map.slice((int) starts[i], lengths[i] * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(w);
            } else {
                w = readWords(channel, starts[i], lengths[i], file);
            }
            if (map == null && CHECKSUM.hashLongs(w) != checksums[i]) {
                throw new FormatException(file.getFileName() + ": shard " + i + " checksum mismatch");
            }
            return new Shard(levels[i], counts[i], w);
        }

        /** Releases the mapping; no load may run or follow. */
        @Override
        public void close() throws IOException {
            release.writeLock().lock();
            try {
                if (!closed) {
                    closed = true;
                    MemoryMappings.unmap(map);
                    channel.close();
                }
            } finally {
                release.writeLock().unlock();
            }
        }
    }

    private static long[] readWords(FileChannel ch, long start, int words, Path file) throws IOException {
        long[] w = new long[words];
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        long pos = start;
        for (int off = 0; off < words; ) {
            int n = Math.min(words - off, CHUNK / 8);
            buf.clear().limit(n * 8);
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) {
                    throw new FormatException(file.getFileName() + " is truncated");
                }
            }
            buf.flip();
            buf.asLongBuffer().get(w, off, n);
            off += n;
            pos += 8L * n;
        }
        return w;
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
        return new Header(shardBits, h.getLong(16), h.getLong(24), h.getLong(32), h.getLong(40), h.getLong(48));
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
