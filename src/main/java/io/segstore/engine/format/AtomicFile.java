package io.segstore.engine.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How every small repository file is replaced without ever being seen half-written: write a
 * temporary file beside it, fsync it, rename it over the target, fsync the directory. Borg's
 * SaveFile does the same, and its files are private to the owner (mode 0600, directories 0700).
 */
public final class AtomicFile {

    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");

    private AtomicFile() {
    }

    /** Replaces {@code target} with {@code content}, durably. */
    public static void write(Path target, byte[] content) throws IOException {
        Path tmp = writeTemporary(target, content);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        } finally {
            syncDirectory(target.toAbsolutePath().getParent());
        }
    }

    /**
     * Writes {@code content} to a temporary file beside {@code target} (named
     * {@code <name>-<random hex>.tmp}, as Borg names its own) and fsyncs it, without renaming.
     */
    public static Path writeTemporary(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), fileAttributes(tmp))) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    /** Renames a temporary file into place (atomically); the caller syncs the directory. */
    public static void rename(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename " + tmp + " atomically", e);
        }
    }

    /** fsync of a directory, so that the names created or removed in it are durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Creates a directory with mode 0700; false if it already existed. */
    public static boolean createDirectory(Path dir) throws IOException {
        try {
            if (supportsPosix(dir)) {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            } else {
                Files.createDirectory(dir);
            }
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /** Removes temporaries an interrupted write left beside {@code target}. */
    public static void removeLeftovers(Path target) throws IOException {
        String prefix = target.getFileName() + "-";
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(target.toAbsolutePath().getParent(), prefix + "*.tmp")) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Attributes for a new private file (0600) where the file system knows POSIX modes. */
    public static FileAttribute<?>[] fileAttributes(Path file) {
        return supportsPosix(file) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)} : new FileAttribute<?>[0];
    }

    /**
     * Overwrites a file with random bytes, syncs and unlinks it (Borg's secure erase of an old config
     * that held a key); a file with other hard links is only unlinked, so they are not damaged.
     */
    public static void eraseAndDelete(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            Object links = Files.getAttribute(file, "unix:nlink");
            if (!(links instanceof Integer n) || n <= 1) {
                long size = ch.size();
                byte[] noise = new byte[8192];
                java.security.SecureRandom random = new java.security.SecureRandom();
                for (long pos = 0; pos < size; pos += noise.length) {
                    random.nextBytes(noise);
                    ch.write(ByteBuffer.wrap(noise, 0, (int) Math.min(noise.length, size - pos)), pos);
                }
                ch.force(true);
            }
        } catch (NoSuchFileException e) {
            return;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // no link count on this file system: overwriting could damage another link, so only unlink
        }
        Files.deleteIfExists(file);
    }

    private static boolean supportsPosix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
