package io.segstore.engine;

import io.segstore.engine.format.AtomicFile;
import io.segstore.engine.format.NonceFile;
import io.segstore.engine.format.RepositoryConfig;
import io.segstore.engine.format.TransactionsLogFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Makes a new repository that holds another's state as of an earlier commit: what Borg's
 * documentation describes as deleting the segments after that commit by hand, without touching
 * the original. Segments up to the commit are hard-linked where the file system allows (they
 * are never changed once committed) and copied otherwise; the config (with the repository id
 * and key) and the current nonce are copied, so a client sees the same repository and never
 * reuses a nonce; the index is rebuilt from the segments when the copy is opened.
 */
final class RepositoryCopy {

    private RepositoryCopy() {
    }

    static void atTransaction(Repository source, LocalSegmentStore store, long transaction, Path target) throws IOException {
        Files.createDirectory(target);
        Set<Path> dirty = new LinkedHashSet<>();
        dirty.add(target);
        dirty.add(target.getParent());
        AtomicFile.write(target.resolve(Repository.README_NAME), Repository.README.getBytes(StandardCharsets.US_ASCII));
        Path data = target.resolve("data");
        Files.createDirectory(data);
        dirty.add(data);
        for (long segment : store.list()) {
            if (segment > transaction || store.length(segment) == 0) {
                continue;
            }
            Path from = store.path(segment);
            Path to = target.resolve(source.path().relativize(from).toString());
            if (!Files.isDirectory(to.getParent())) {
                Files.createDirectories(to.getParent());
                dirty.add(to.getParent());
            }
            link(from, to);
            dirty.add(to.getParent());
        }
        RepositoryConfig config = RepositoryConfig.read(source.path().resolve(RepositoryConfig.FILE_NAME));
        config.save(target.resolve(RepositoryConfig.FILE_NAME));
        OptionalLong nonce = NonceFile.read(source.path());
        if (nonce.isPresent()) {
            NonceFile.write(target, nonce.getAsLong());
        }
        for (TransactionsLogFile.Entry e : TransactionsLogFile.read(source.path())) {
            if (e.transaction() <= transaction) {
                TransactionsLogFile.append(target, e.transaction(), e.time());
            }
        }
        for (Path dir : dirty) {
            AtomicFile.syncDirectory(dir);
        }
    }

    private static void link(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(from, to);
            try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
    }
}
