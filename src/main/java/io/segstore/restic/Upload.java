package io.segstore.restic;

import io.segstore.engine.ObjectSource;
import io.segstore.engine.RepositoryIOException;
import io.segstore.engine.format.AtomicFile;
import io.segstore.service.BodyInput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * A restic upload received in full before it goes near a repository: a small body in memory, a
 * larger one (up to {@link #MAX_FILE_SIZE}, larger than Borg's largest object) in reusable chunks
 * of {@link StagingMemory} while its budget lasts, else in a temporary file, so that no upload
 * needs its size in fresh heap or holds the writer while its bytes arrive, and a cut-off upload
 * leaves nothing behind. Its SHA-256 is computed on the way; its parts are read back as
 * {@link ObjectSource}s.
 */
final class Upload implements AutoCloseable {

    /** The largest file the protocol accepts (restic's packs are at most 128 MiB). */
    static final long MAX_FILE_SIZE = 1L << 30;
    private static final int CHUNK = 256 * 1024;

    private final byte[] memory;
    private final List<byte[]> chunks; // from pool; guarded by this once received
    private final StagingMemory pool;
    private boolean closed; // guarded by this
    private final Path file;
    private final FileChannel channel;
    private final long length;
    private final byte[] sha256;

    private Upload(byte[] memory, Path file, FileChannel channel, long length, byte[] sha256) {
        this(memory, null, null, file, channel, length, sha256);
    }

    private Upload(byte[] memory, List<byte[]> chunks, StagingMemory pool, Path file, FileChannel channel, long length,
                   byte[] sha256) {
        this.memory = memory;
        this.chunks = chunks;
        this.pool = pool;
        this.file = file;
        this.channel = channel;
        this.length = length;
        this.sha256 = sha256;
    }

    /**
     * Reads the body: exactly {@code declared} bytes, or up to the end of a chunked body when
     * {@code declared} is -1. A body that ends early, fails or stalls past the connection's read
     * timeout is UPLOAD_INCOMPLETE (400) and leaves nothing.
     */
    static Upload receive(InputStream in, long declared, long memoryLimit, StagingMemory pool, long maxSize,
                          Path stagingDir) {
        if (declared > maxSize) {
            throw ResticException.tooLarge("A restic file is at most " + maxSize + " bytes; this one has " + declared + ".");
        }
        MessageDigest sha = sha256();
        if (declared >= 0 && declared <= memoryLimit) {
            byte[] data = new byte[(int) declared];
            BodyInput.readFully(in, data, 0, data.length, 0, declared);
            sha.update(data);
            return new Upload(data, null, null, declared, sha.digest());
        }
        List<byte[]> chunks = declared > 0 ? pool.take(declared) : null;
        if (chunks != null) {
            return receiveInto(chunks, pool, in, declared, sha);
        }
        Path tmp = null;
        FileChannel ch = null;
        long received = 0;
        try {
            Files.createDirectories(stagingDir);
            tmp = Files.createTempFile(stagingDir, "restic-", ".tmp", AtomicFile.fileAttributes(stagingDir.resolve("x")));
            ch = FileChannel.open(tmp, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
            byte[] chunk = new byte[CHUNK];
            while (declared < 0 || received < declared) {
                int want = declared < 0 ? chunk.length : (int) Math.min(chunk.length, declared - received);
                int n;
                try {
                    n = in.read(chunk, 0, want);
                } catch (IOException e) {
                    throw BodyInput.incomplete(received, declared, e);
                }
                if (n < 0) {
                    if (declared < 0) {
                        break;
                    }
                    throw BodyInput.incomplete(received, declared, null);
                }
                if (received + n > maxSize) {
                    throw ResticException.tooLarge("A restic file is at most " + maxSize + " bytes; this chunked body is longer.");
                }
                sha.update(chunk, 0, n);
                ByteBuffer b = ByteBuffer.wrap(chunk, 0, n);
                long at = received;
                while (b.hasRemaining()) {
                    at += ch.write(b, at);
                }
                received += n;
            }
            return new Upload(null, tmp, ch, received, sha.digest());
        } catch (IOException e) {
            cleanup(tmp, ch);
            throw new RepositoryIOException("cannot stage an upload in " + stagingDir, e);
        } catch (RuntimeException e) {
            cleanup(tmp, ch);
            throw e;
        }
    }

    private static Upload receiveInto(List<byte[]> chunks, StagingMemory pool, InputStream in, long declared,
                                      MessageDigest sha) {
        long received = 0;
        try {
            for (byte[] chunk : chunks) {
                int want = (int) Math.min(chunk.length, declared - received);
                BodyInput.readFully(in, chunk, 0, want, received, declared);
                sha.update(chunk, 0, want);
                received += want;
            }
            return new Upload(null, chunks, pool, null, null, declared, sha.digest());
        } catch (RuntimeException e) {
            pool.give(chunks);
            throw e;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    long length() {
        return length;
    }

    String sha256Hex() {
        return HexFormat.of().formatHex(sha256);
    }

    /** {@code count} bytes from {@code offset}, as the data of one object. */
    ObjectSource slice(long offset, long count) {
        if (memory != null) {
            return ObjectSource.of(ByteBuffer.wrap(memory, (int) offset, (int) count));
        }
        if (chunks != null) {
            return new ObjectSource() {
                @Override
                public long length() {
                    return count;
                }

                @Override
                public int read(ByteBuffer dst, long position) throws IOException {
                    return readChunks(dst, offset + position, offset + count);
                }
            };
        }
        return ObjectSource.of(channel, offset, count);
    }

    /**
     * Copies from the chunks, from {@code at} up to {@code end}. Under the lock that close takes,
     * so chunks handed back to the pool (an abandoned request) are never read: such a read fails
     * and so does the commit that wanted it.
     */
    private synchronized int readChunks(ByteBuffer dst, long at, long end) throws IOException {
        if (closed) {
            throw new IOException("the upload was withdrawn before it was stored");
        }
        if (at >= end) {
            return -1;
        }
        int copied = 0;
        while (dst.hasRemaining() && at < end) {
            byte[] chunk = chunks.get((int) (at / StagingMemory.CHUNK));
            int from = (int) (at % StagingMemory.CHUNK);
            int n = (int) Math.min(Math.min(dst.remaining(), chunk.length - from), end - at);
            dst.put(chunk, from, n);
            at += n;
            copied += n;
        }
        return copied;
    }

    @Override
    public void close() {
        if (chunks != null) {
            synchronized (this) {
                if (!closed) {
                    closed = true;
                    pool.give(chunks);
                }
            }
        }
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
