package io.segstore.engine;

/**
 * What a compaction did.
 *
 * @param segmentsCompacted old segments whose live entries were copied forward and that were deleted
 * @param bytesFreed        bytes of log removed (old segment sizes minus what was copied)
 * @param quotaFreed        storage quota use given back
 * @param steps             commits it took
 * @param millis            how long it ran
 */
public record CompactionResult(long segmentsCompacted, long bytesFreed, long quotaFreed, int steps, long millis) {
}
