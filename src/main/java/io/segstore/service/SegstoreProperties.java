package io.segstore.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * @param security          bearer tokens and their grants; none means loopback only, unauthenticated
 * @param maxJsonBody       the largest JSON request body accepted
 * @param health            when a repository's health turns DOWN
 * @param metrics           bounds on the metrics' labels
 * @param maintenance       how often scheduled maintenance looks for due work
 * @param listing           (see above) also bounds the disk-order listings open per repository
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
        @DefaultValue Checkpoint checkpoint,
        @DefaultValue Security security,
        @DefaultValue("1048576") long maxJsonBody,
        @DefaultValue Health health,
        @DefaultValue Metrics metrics,
        @DefaultValue Maintenance maintenance) {

    /** Writer leases. */
    public record Lease(@DefaultValue("60s") Duration defaultLength, @DefaultValue("1h") Duration maxLength) {
    }

    /** Listings. */
    public record Listing(@DefaultValue("1000") int defaultLimit, @DefaultValue("10000") int maxLimit,
                          @DefaultValue("5m") Duration snapshotIdleTimeout, @DefaultValue("64") int maxSnapshots) {
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

    /**
     * Bearer tokens. Each is stored as the hex SHA-256 of the token, never the token itself.
     *
     * @param tokens     tokens given in configuration
     * @param tokensFile a YAML or JSON file with more tokens (a mounted Kubernetes Secret), in the
     *                   same shape: a list, or a map with a "tokens" list; re-read when it changes
     */
    public record Security(List<Token> tokens, Path tokensFile) {
        public Security {
            tokens = tokens == null ? List.of() : List.copyOf(tokens);
        }
    }

    /** A token: its name (shown in audit lines), its SHA-256 and its grants. */
    public record Token(String name, String sha256, List<Grant> grants) {
    }

    /** A role ("read", "append", "write", "admin", or "metrics") in the repositories a glob matches. */
    public record Grant(String repos, String role) {
    }

    /**
     * A repository's health is DOWN when the data directory's file system has less than
     * {@code minFreeBytes} free, or its quota has less than {@code minQuotaHeadroom} (a share of
     * the quota) left.
     */
    public record Health(@DefaultValue("1073741824") long minFreeBytes, @DefaultValue("0.05") double minQuotaHeadroom) {
    }

    /** Repositories beyond {@code maxRepositories} (by name) share the label value "_other". */
    public record Metrics(@DefaultValue("100") int maxRepositories) {
    }

    /** Scheduled maintenance: how often due checks and compactions are looked for. */
    public record Maintenance(@DefaultValue("1m") Duration tick) {
    }
}
