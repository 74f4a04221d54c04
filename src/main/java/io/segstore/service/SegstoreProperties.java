package io.segstore.service;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Everything under {@code segstore.*}. Each property is listed with its default in README.md.
 *
 * @param dataDir           one sub-directory per repository, named as the repository
 * @param lease             writer leases: default length and the most a client may ask for
 * @param uploadIdleTimeout an upload that sends no byte for this long is dropped (nothing stored)
 * @param maxLockWait       the longest Segstore-Lock-Wait a request may ask for
 * @param inMemoryBodyLimit bodies up to this size are staged in memory, larger ones in a file
 * @param listing           page sizes and how long a disk-order listing pins its snapshot
 * @param jobs              maintenance jobs: worker threads, queued jobs per repository, and how
 *                          long an autocommit write waits while a maintenance step holds the writer
 * @param lock              Borg lock files
 * @param checkpoint        when the engine writes index checkpoints
 */
@ConfigurationProperties("segstore")
public record SegstoreProperties(
        @DefaultValue("./data") Path dataDir,
        @DefaultValue Lease lease,
        @DefaultValue("60s") Duration uploadIdleTimeout,
        @DefaultValue("300s") Duration maxLockWait,
        @DefaultValue("1048576") long inMemoryBodyLimit,
        @DefaultValue Listing listing,
        @DefaultValue Jobs jobs,
        @DefaultValue Lock lock,
        @DefaultValue Checkpoint checkpoint) {

    /** Writer leases. */
    public record Lease(@DefaultValue("60s") Duration defaultLength, @DefaultValue("1h") Duration maxLength) {
    }

    /** Listings. */
    public record Listing(@DefaultValue("1000") int defaultLimit, @DefaultValue("10000") int maxLimit,
                          @DefaultValue("5m") Duration snapshotIdleTimeout) {
    }

    /** Maintenance jobs. */
    public record Jobs(@DefaultValue("2") int threads, @DefaultValue("4") int maxPerRepository,
                       @DefaultValue("1h") Duration keepFinished, @DefaultValue("30s") Duration autocommitWait) {
    }

    /** Borg lock files. */
    public record Lock(@DefaultValue("") String hostId, @DefaultValue("10s") Duration openWait) {
    }

    /** Checkpoints of the index (see the engine). */
    public record Checkpoint(@DefaultValue("1000") int commits, @DefaultValue("60s") Duration interval,
                             @DefaultValue("1073741824") long logBytes) {
    }
}
