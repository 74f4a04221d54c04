package io.segstore.engine.format;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import net.jpountz.xxhash.StreamingXXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The running XXH64 (seed 0) that Borg keeps over an index or hints file while writing or
 * reading it. The stream starts with the file's base name; each named part then feeds its name
 * and the file offset at its end, and its digest is the hash of everything so far (the digests
 * are cumulative, not per part).
 */
public final class IntegrityDigest {

    public static final String ALGORITHM = "XXH64";

    private static final XXHashFactory FACTORY = XXHashFactory.fastestJavaInstance();

    private final StreamingXXHash64 hash = FACTORY.newStreamingHash64(0);
    private final Map<String, String> digests = new LinkedHashMap<>();
    private long position;

    /** Starts the digest of the file named {@code fileName} (its base name, e.g. "index.5"). */
    public IntegrityDigest(String fileName) {
        feedLengthPrefixed(fileName);
    }

    /** Feeds file content. */
    public void update(byte[] b, int off, int len) {
        hash.update(b, off, len);
        position += len;
    }

    /** Ends a part at the current file offset and returns its digest (lower-case hex). */
    public String endPart(String partName) {
        return endPart(partName, position);
    }

    /** Ends a part whose end offset is {@code fileOffset}; Borg's "final" part ends at the file length. */
    public String endPart(String partName, long fileOffset) {
        feedLengthPrefixed(partName);
        byte[] offset = Long.toString(fileOffset).getBytes(StandardCharsets.US_ASCII);
        hash.update(offset, 0, offset.length);
        String digest = String.format(Locale.ROOT, "%016x", hash.getValue());
        digests.put(partName, digest);
        return digest;
    }

    /** Bytes fed as file content so far. */
    public long position() {
        return position;
    }

    /** Every part ended so far, in order. */
    public Map<String, String> digests() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(digests));
    }

    /** Borg's JSON text for these digests, as stored in an integrity file. */
    public String toJson() {
        return IntegrityFile.digestsJson(digests);
    }

    private void feedLengthPrefixed(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] len = String.format(Locale.ROOT, "%10d", bytes.length).getBytes(StandardCharsets.US_ASCII);
        hash.update(len, 0, len.length);
        hash.update(bytes, 0, bytes.length);
    }

    /** An output stream that feeds everything written through it into a digest. */
    public static final class Writing extends FilterOutputStream {
        private final IntegrityDigest digest;

        public Writing(OutputStream out, IntegrityDigest digest) {
            super(out);
            this.digest = digest;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            digest.update(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            digest.update(b, off, len);
        }
    }

    /** An input stream that feeds everything read through it into a digest. */
    public static final class Reading extends FilterInputStream {
        private final IntegrityDigest digest;

        public Reading(InputStream in, IntegrityDigest digest) {
            super(in);
            this.digest = digest;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                digest.update(new byte[] {(byte) b}, 0, 1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                digest.update(b, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) {
            throw new UnsupportedOperationException("skipping would leave bytes out of the digest");
        }
    }
}
