package io.segstore.engine;

/**
 * What a repository reports about itself.
 *
 * @param id               Borg's repository id (32 bytes, hex)
 * @param transactionId    newest committed transaction, or null before the first commit
 * @param objects          live objects
 * @param segments         segments listed in the ledger
 * @param sparseBytes      bytes compaction could free
 * @param quotaUsed        bytes counted against the quota (Borg's count: written data stays
 *                         counted until compaction frees it)
 * @param quotaLimit       the storage quota, 0 for none
 * @param appendOnly       nothing is physically removed
 * @param indexMemoryBytes memory held by the in-memory index
 * @param checkNeeded      why the repository cannot be served until check runs, or null
 */
public record RepositoryInfo(String id, Long transactionId, long objects, long segments, long sparseBytes, long quotaUsed,
                             long quotaLimit, boolean appendOnly, long additionalFreeSpace, long maxSegmentSize,
                             int segmentsPerDir, long indexMemoryBytes, String checkNeeded) {
}
