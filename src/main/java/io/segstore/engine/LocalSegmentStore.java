package io.segstore.engine;

import io.segstore.engine.format.AtomicFile;
import io.segstore.engine.format.SegmentFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Segments as Borg lays them out: {@code data/<n / segments_per_dir>/<n>}, decimal names.
 */
public final class LocalSegmentStore implements SegmentStore {

    private final Path data;
    private final int segmentsPerDir;
    private volatile EngineObserver observer = EngineObserver.NONE;

    @Override
    public void observe(EngineObserver observer) {
        this.observer = observer;
    }

    /** Directories whose entries changed since the last syncDirectories. */
    private final Set<Path> dirtyDirectories = ConcurrentHashMap.newKeySet();

    public LocalSegmentStore(Path repository, int segmentsPerDir) {
        this.data = repository.resolve("data");
        this.segmentsPerDir = segmentsPerDir;
    }

    /** The file of a segment (which may not exist). */
    public Path file(long segment) {
        return path(segment);
    }

    Path path(long segment) {
        return data.resolve(Long.toString(segment / segmentsPerDir)).resolve(Long.toString(segment));
    }

    @Override
    public long[] list() throws IOException {
        List<Long> found = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(data)) {
            for (Path dir : dirs) {
                if (!SegmentFile.isNumberName(dir.getFileName().toString()) || !Files.isDirectory(dir)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (SegmentFile.isNumberName(name) && Files.isRegularFile(f)) {
                            found.add(Long.parseLong(name));
                        }
                    }
                }
            }
        }
        long[] out = found.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(out);
        return out;
    }

    @Override
    public long length(long segment) throws IOException {
        return Files.size(path(segment));
    }

    @Override
    public boolean exists(long segment) throws IOException {
        try {
            return Files.size(path(segment)) > 0;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    @Override
    public ReadHandle openRead(long segment) throws IOException {
        return new MappedReadHandle(path(segment));
    }

    @Override
    public WriteHandle create(long segment) throws IOException {
        Path file = path(segment);
        Path dir = file.getParent();
        if (!Files.isDirectory(dir) && AtomicFile.createDirectory(dir)) {
            dirtyDirectories.add(data);
        }
        FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                AtomicFile.fileAttributes(file));
        dirtyDirectories.add(dir);
        return new FileWriteHandle(ch, null, null);
    }

    @Override
    public WriteHandle replace(long segment) throws IOException {
        Path file = path(segment);
        Path tmp = file.resolveSibling(segment + ".tmp");
        Files.deleteIfExists(tmp);
        FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                AtomicFile.fileAttributes(tmp));
        return new FileWriteHandle(ch, tmp, file);
    }

    @Override
    public void delete(long segment) throws IOException {
        Path file = path(segment);
        if (Files.deleteIfExists(file)) {
            dirtyDirectories.add(file.getParent());
        }
    }

    /**
     * Synchronized, and a directory leaves the dirty set only once its fsync succeeded: a caller
     * that returns from here knows every change made before its call is durable, even when
     * another thread was syncing at the same time.
     */
    @Override
    public synchronized void syncDirectories() throws IOException {
        // data/ last: a new segment directory's own entries are synced before its name is
        for (Path dir : dirtyDirectories.toArray(new Path[0])) {
            if (!dir.equals(data)) {
                if (Files.isDirectory(dir)) {
                    long t = System.nanoTime();
                    AtomicFile.syncDirectory(dir);
                    observer.synced(System.nanoTime() - t);
                }
                dirtyDirectories.remove(dir);
            }
        }
        if (dirtyDirectories.contains(data)) {
            long t = System.nanoTime();
            AtomicFile.syncDirectory(data);
            observer.synced(System.nanoTime() - t);
            dirtyDirectories.remove(data);
        }
    }

    @Override
    public void removeEmptyDirectories() throws IOException {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(data)) {
            for (Path dir : dirs) {
                if (SegmentFile.isNumberName(dir.getFileName().toString()) && Files.isDirectory(dir)) {
                    try {
                        Files.delete(dir);
                        dirtyDirectories.add(data);
                    } catch (DirectoryNotEmptyException e) {
                        // still holds segments
                    }
                }
            }
        }
        syncDirectories();
    }

    @Override
    public long usableSpace() throws IOException {
        return Files.getFileStore(data).getUsableSpace();
    }

    @Override
    public void close() {
        // nothing held open: read handles belong to their callers
    }

    private final class FileWriteHandle implements WriteHandle {
        private final FileChannel ch;
        private final Path tmp;
        private final Path target;

        FileWriteHandle(FileChannel ch, Path tmp, Path target) {
            this.ch = ch;
            this.tmp = tmp;
            this.target = target;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            while (src.hasRemaining()) {
                ch.write(src);
            }
        }

        @Override
        public void sync() throws IOException {
            long t = System.nanoTime();
            ch.force(false);
            observer.synced(System.nanoTime() - t);
        }

        @Override
        public void commitReplacement() throws IOException {
            if (tmp == null) {
                WriteHandle.super.commitReplacement();
            }
            ch.force(false);
            ch.close();
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            dirtyDirectories.add(target.getParent());
            syncDirectories();
        }

        @Override
        public void close() throws IOException {
            ch.close();
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
