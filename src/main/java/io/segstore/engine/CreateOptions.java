package io.segstore.engine;

import io.segstore.engine.format.RepositoryConfig;
import io.segstore.engine.format.SegmentFile;

/**
 * Settings fixed when a repository is created (the first three can be changed later through the
 * repository).
 *
 * @param appendOnly          nothing is ever physically removed; every commit is logged
 * @param storageQuota        bytes the log may use (0: no quota)
 * @param additionalFreeSpace bytes a commit must leave free on the file system
 * @param maxSegmentSize      a new segment starts once the current one is past this
 * @param segmentsPerDir      segments per data/ sub-directory
 */
public record CreateOptions(boolean appendOnly, long storageQuota, long additionalFreeSpace, long maxSegmentSize, int segmentsPerDir) {

    public CreateOptions {
        if (storageQuota < 0 || additionalFreeSpace < 0) {
            throw new IllegalArgumentException("storageQuota and additionalFreeSpace must not be negative");
        }
        if (maxSegmentSize < 1024 || maxSegmentSize >= SegmentFile.MAX_SEGMENT_SIZE_LIMIT) {
            throw new IllegalArgumentException("maxSegmentSize must be at least 1024 and below " + SegmentFile.MAX_SEGMENT_SIZE_LIMIT);
        }
        if (segmentsPerDir < 1) {
            throw new IllegalArgumentException("segmentsPerDir must be at least 1");
        }
    }

    /** Borg's defaults: 500 MiB segments, 1000 per directory, no quota. */
    public static CreateOptions defaults() {
        return new CreateOptions(false, 0, 0, RepositoryConfig.DEFAULT_MAX_SEGMENT_SIZE, RepositoryConfig.DEFAULT_SEGMENTS_PER_DIR);
    }

    public CreateOptions withAppendOnly(boolean v) {
        return new CreateOptions(v, storageQuota, additionalFreeSpace, maxSegmentSize, segmentsPerDir);
    }

    public CreateOptions withStorageQuota(long v) {
        return new CreateOptions(appendOnly, v, additionalFreeSpace, maxSegmentSize, segmentsPerDir);
    }

    public CreateOptions withAdditionalFreeSpace(long v) {
        return new CreateOptions(appendOnly, storageQuota, v, maxSegmentSize, segmentsPerDir);
    }

    public CreateOptions withMaxSegmentSize(long v) {
        return new CreateOptions(appendOnly, storageQuota, additionalFreeSpace, v, segmentsPerDir);
    }

    public CreateOptions withSegmentsPerDir(int v) {
        return new CreateOptions(appendOnly, storageQuota, additionalFreeSpace, maxSegmentSize, v);
    }
}
