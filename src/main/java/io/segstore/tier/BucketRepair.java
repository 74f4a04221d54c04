package io.segstore.tier;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Repair of a repository in a bucket, written to a new prefix: segment objects are never
 * rewritten, so the damaged repository stays as it is and its repaired copy becomes a new
 * repository in the same store. The copy is made on the local volume ({@code scratch}), repaired
 * there by the engine exactly as a local repository would be (Borg's salvage of intact entries,
 * index rebuilt from the segments), and uploaded with its config last.
 */
public final class BucketRepair {

    /** What a repair into a new prefix did. */
    public record Result(CheckResult check, long objects, long bytesDownloaded) {
    }

    /** Room kept free beyond the copy itself (the repair writes a salvaged segment and a checkpoint). */
    private static final long HEADROOM = 64L << 20;

    private BucketRepair() {
    }

    /**
     * Repairs repository {@code from} into the new repository {@code into} of the same store, using
     * {@code scratch} (absent or empty) on the local volume, which needs room for the whole
     * repository. Phases reported: download, repair, upload.
     */
    public static Result run(S3RepositoryTier from, S3RepositoryTier into, Path scratch, ProgressListener progress) throws IOException {
        if (into.existsInBucket()) {
            throw new io.segstore.engine.RepositoryAlreadyExistsException(Path.of(into.storeName() + ":" + into.name()));
        }
        Files.createDirectories(scratch);
        long needed = from.bytesInBucket() + HEADROOM;
        long free = Files.getFileStore(scratch).getUsableSpace();
        if (free < needed) {
            throw new IOException("a repair of " + from.name() + " copies it to the local volume first and needs " + needed
                    + " bytes there; " + free + " are free");
        }
        Path copy = scratch.resolve("repository");
        long bytes = from.downloadTo(copy, progress);
        CheckResult result;
        long objects;
        OpenOptions options = OpenOptions.defaults().withBackgroundCheckpoints(false);
        try (Repository repo = Repository.open(copy, options)) {
            result = repo.check(CheckOptions.repairing(), progress);
            objects = repo.objectCount();
        }
        into.uploadFrom(copy, progress);
        return new Result(result, objects, bytes);
    }
}
