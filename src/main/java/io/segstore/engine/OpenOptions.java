package io.segstore.engine;

import java.time.Duration;

/**
 * How a repository is served once open.
 *
 * @param lockWait              how long to wait for Borg's lock held by someone else
 * @param hostId                the host id written into Borg's lock files; locks of this host
 *                              id whose process is gone (or that carry this process id but are
 *                              not ours) are stale
 * @param checkpointCommits     write a checkpoint after this many commits...
 * @param checkpointInterval    ...or when the last one is this old and commits happened since...
 * @param checkpointLogBytes    ...or when this much log was written since (bounds replay time)
 * @param backgroundCheckpoints write due checkpoints on a background thread, so that commits
 *                              never pay for them
 * @param openSegments          how many segments the read-handle cache keeps open
 * @param freeSpaceReserve      bytes kept free beyond what a commit writes (the effective
 *                              reserve is at least one checkpoint plus one full segment)
 * @param readOnly              take Borg's shared lock and never write (no transactions,
 *                              no checkpoints, no cleanup): for reading beside another reader
 * @param tier                  the durable tier holding the repository beside its local
 *                              directory (object storage), or null for a local repository
 */
public record OpenOptions(Duration lockWait, String hostId, int checkpointCommits, Duration checkpointInterval,
                          long checkpointLogBytes, boolean backgroundCheckpoints, int openSegments, long freeSpaceReserve,
                          boolean readOnly, RepositoryTier tier) {

    public OpenOptions {
        if (checkpointCommits < 1 || openSegments < 1 || checkpointLogBytes < 1 || freeSpaceReserve < 0) {
            throw new IllegalArgumentException("checkpoint and cache settings must be positive");
        }
        if (hostId == null || hostId.isBlank() || hostId.contains("/")) {
            throw new IllegalArgumentException("hostId must be a non-empty name without '/'");
        }
    }

    public static OpenOptions defaults() {
        return new OpenOptions(Duration.ZERO, defaultHostId(), 1000, Duration.ofSeconds(60), 1L << 30, true, 128, 0, false, null);
    }

    /** The host name, as Borg's default host id starts with it. */
    public static String defaultHostId() {
        String env = System.getenv("BORG_HOST_ID");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    public OpenOptions withLockWait(Duration v) {
        return new OpenOptions(v, hostId, checkpointCommits, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, openSegments, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withHostId(String v) {
        return new OpenOptions(lockWait, v, checkpointCommits, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, openSegments, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withCheckpointCommits(int v) {
        return new OpenOptions(lockWait, hostId, v, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, openSegments, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withCheckpointInterval(Duration v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, v, checkpointLogBytes, backgroundCheckpoints, openSegments, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withCheckpointLogBytes(long v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, checkpointInterval, v, backgroundCheckpoints, openSegments, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withBackgroundCheckpoints(boolean v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, checkpointInterval, checkpointLogBytes, v, openSegments, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withOpenSegments(int v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, v, freeSpaceReserve, readOnly, tier);
    }

    public OpenOptions withReadOnly(boolean v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, openSegments, freeSpaceReserve, v, tier);
    }

    public OpenOptions withFreeSpaceReserve(long v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, openSegments, v, readOnly, tier);
    }

    public OpenOptions withTier(RepositoryTier v) {
        return new OpenOptions(lockWait, hostId, checkpointCommits, checkpointInterval, checkpointLogBytes, backgroundCheckpoints, openSegments, freeSpaceReserve, readOnly, v);
    }
}
