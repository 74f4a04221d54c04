package io.segstore.engine.format;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code lock.exclusive}: Borg's exclusive lock, a directory that exists only while someone holds
 * it and contains one empty file named {@code <hostid>.<pid>-<thread hex>} naming the holder.
 * It is taken atomically by building a temporary directory with that file and renaming it into
 * place; the rename fails while another holder's directory is there.
 */
public final class LockDirectory {

    public static final String NAME = "lock.exclusive";

    /** A holder as named by its file. */
    public record Holder(String host, long pid, long thread) {

        public String fileName() {
            return host + "." + pid + "-" + Long.toHexString(thread);
        }

        /** Parses {@code host.pid-threadhex}; null if the name is not of that form. */
        public static Holder parse(String name) {
            int dash = name.lastIndexOf('-');
            if (dash < 0) {
                return null;
            }
            int dot = name.lastIndexOf('.', dash);
            if (dot < 0) {
                return null;
            }
            try {
                long pid = Long.parseLong(name.substring(dot + 1, dash));
                long thread = Long.parseUnsignedLong(name.substring(dash + 1).toLowerCase(Locale.ROOT), 16);
                return new Holder(name.substring(0, dot), pid, thread);
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    private final Path path;

    public LockDirectory(Path repository) {
        this.path = repository.resolve(NAME);
    }

    public Path path() {
        return path;
    }

    /** Tries once to take the lock for {@code me}; true if it is now held by {@code me}. */
    public boolean tryCreate(Holder me) throws IOException {
        if (isHeldBy(me)) {
            return true;
        }
        Path parent = path.getParent();
        Path tmp = Files.createTempDirectory(parent, NAME + ".");
        Path tmpFile = tmp.resolve(me.fileName());
        try {
            Files.createFile(tmpFile, AtomicFile.fileAttributes(tmpFile));
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
                return true;
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                return false;
            } catch (FileSystemException e) {
                if (Files.exists(path)) {
                    return false;
                }
                throw e;
            }
        } finally {
            Files.deleteIfExists(tmpFile);
            Files.deleteIfExists(tmp);
        }
    }

    public boolean isHeldBy(Holder me) {
        return Files.exists(path.resolve(me.fileName()));
    }

    public boolean exists() {
        return Files.exists(path);
    }

    /** The holders named in the directory; unparsable names come back as null entries. */
    public List<String> holderNames() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(path)) {
            for (Path p : ds) {
                names.add(p.getFileName().toString());
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return names;
    }

    /** Removes one holder's file and, if that leaves it empty, the directory. */
    public void remove(String holderName) throws IOException {
        Files.deleteIfExists(path.resolve(holderName));
        removeIfEmpty();
    }

    /** Removes the directory if nobody is named in it; false if someone is. */
    public boolean removeIfEmpty() throws IOException {
        try {
            Files.deleteIfExists(path);
            return true;
        } catch (DirectoryNotEmptyException e) {
            return false;
        }
    }

    /** Borg's break-lock: removes every holder and the directory. */
    public void breakLock() throws IOException {
        for (String name : holderNames()) {
            Files.deleteIfExists(path.resolve(name));
        }
        Files.deleteIfExists(path);
    }
}
