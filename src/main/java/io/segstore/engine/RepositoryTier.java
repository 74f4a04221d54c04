package io.segstore.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A durable tier beside the repository's local directory (object storage): the engine tells it
 * what it wrote, and takes its segment store instead of the local one. The local directory keeps
 * what is not durable in the tier yet (the open segment), the configuration files as a working
 * copy, and Borg's lock files; the tier holds the whole repository in Borg's layout.
 *
 * <p>Without a tier (the default) a repository is its local directory, as always.
 */
public interface RepositoryTier {

    /**
     * The segment store a repository opened at {@code local}'s directory uses. It keeps segments
     * not yet in the tier in {@code local}, and must make them durable in the tier in
     * {@link SegmentStore#commit}. While {@code appendOnly} answers true it never deletes an
     * object.
     */
    SegmentStore segments(LocalSegmentStore local, int segmentsPerDir, java.util.function.BooleanSupplier appendOnly) throws IOException;

    /**
     * A repository was just created in {@code repository}: its README and config go to the tier
     * if the tier holds no repository of that name yet (RepositoryAlreadyExistsException otherwise).
     */
    void created(Path repository) throws IOException;

    /** A top-level file that may change (config, nonce, transactions) was rewritten locally. */
    void fileChanged(Path file) throws IOException;

    /**
     * A checkpoint (index, hints, integrity and Segstore's own index of {@code transaction}) was
     * written locally; it goes to the tier, then the tier's older checkpoints are removed unless
     * {@code keepOlder} (append-only repositories never delete).
     */
    void checkpointWritten(long transaction, List<Path> files, boolean keepOlder) throws IOException;

    /** Removes the repository from the tier (not called for append-only repositories). */
    void destroy() throws IOException;
}
