package io.segstore.service;

import io.segstore.engine.ObjectSource;
import io.segstore.engine.ObjectTooLargeException;
import io.segstore.engine.format.AtomicFile;
import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;

/**
 * A request body received in full before it goes near a repository: small bodies in memory,
 * larger ones in a temporary file, so that no upload holds the writer while its bytes arrive
 * and a cut-off upload leaves nothing behind. The SHA-256 of the body is computed only when asked
 * for (repositories with verify=sha256): over the bytes in memory, or by reading the staged file
 * back from the page cache. Computing it for every upload cost about 1.4 ms of CPU per 2 MiB.
 */
public final class StagedBody implements ObjectSource, AutoCloseable {

    private static final int CHUNK = 64 * 1024;

    private final byte[] memory;
    private final Path file;
    private final FileChannel channel;
    private final long length;
    private byte[] sha256; // computed on first use

    private StagedBody(byte[] memory, Path file, FileChannel channel, long length) {
        this.memory = memory;
        this.file = file;
        this.channel = channel;
        this.length = length;
    }

    /**
     * Reads exactly {@code declaredLength} bytes from {@code in}. A body longer than Borg's
     * maximum object size is refused before it is read; one that ends early (the client went
     * away, or sent nothing for the connection's read timeout) fails with UPLOAD_INCOMPLETE.
     */
    public static StagedBody receive(InputStream in, long declaredLength, long memoryLimit, Path stagingDir) {
        if (declaredLength > SegmentFile.MAX_DATA_SIZE) {
            throw new ObjectTooLargeException(declaredLength);
        }
        if (declaredLength <= memoryLimit) {
            byte[] data = new byte[(int) declaredLength];
            BodyInput.readFully(in, data, 0, data.length, 0, declaredLength);
            return new StagedBody(data, null, null, declaredLength);
        }
        Path file = null;
        FileChannel ch = null;
        long received = 0;
        try {
            Files.createDirectories(stagingDir);
            file = Files.createTempFile(stagingDir, "upload-", ".tmp", AtomicFile.fileAttributes(stagingDir.resolve("x")));
            ch = FileChannel.open(file, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
            // The servlet stream hands out what one socket read brought (8 KiB with Tomcat's
            // defaults): fill the chunk before writing it, one write per 64 KiB, not per read.
            byte[] chunk = new byte[(int) Math.min(CHUNK, declaredLength)];
            while (received < declaredLength) {
                int want = (int) Math.min(chunk.length, declaredLength - received);
                int filled = want;
                BodyInput.readFully(in, chunk, 0, want, received, declaredLength);
                ByteBuffer b = ByteBuffer.wrap(chunk, 0, filled);
                while (b.hasRemaining()) {
                    ch.write(b, received + b.position());
                }
                received += filled;
            }
            return new StagedBody(null, file, ch, declaredLength);
        } catch (IOException e) {
            cleanup(file, ch);
            throw new io.segstore.engine.RepositoryIOException("cannot stage an upload", e);
        } catch (RuntimeException e) {
            cleanup(file, ch);
            throw e;
        }
    }

    /** A body of bytes already in memory (e.g. from a JSON request). */
    public static StagedBody of(byte[] data) {
        return new StagedBody(data, null, null, data.length);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** The SHA-256 of the body (computed on the first call). */
    public synchronized byte[] sha256Digest() {
        if (sha256 == null) {
            MessageDigest sha = sha256();
            if (memory != null) {
                sha.update(memory, 0, (int) length);
            } else {
                ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(1, length)));
                try {
                    for (long position = 0; position < length; ) {
                        chunk.clear();
                        int n = read(chunk, position);
                        if (n < 0) {
                            throw new IOException("the staged upload is shorter than its " + length + " bytes");
                        }
                        chunk.flip();
                        sha.update(chunk);
                        position += n;
                    }
                } catch (IOException e) {
                    throw new io.segstore.engine.RepositoryIOException("cannot read a staged upload", e);
                }
            }
            sha256 = sha.digest();
        }
        return sha256.clone();
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (position >= length) {
            return -1;
        }
        if (memory != null) {
            int n = (int) Math.min(dst.remaining(), length - position);
            dst.put(memory, (int) position, n);
            return n;
        }
        return ObjectSource.of(channel, 0, length).read(dst, position);
    }

    @Override
    public void close() {
        cleanup(file, channel);
    }

    private static void cleanup(Path file, FileChannel ch) {
        try {
            if (ch != null) {
                ch.close();
            }
            if (file != null) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // the staging directory is emptied at start-up
        }
    }
}
