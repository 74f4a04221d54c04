package io.segstore.engine;

/** Told how far a long operation (replay, check, repair, compaction) has come. */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = (phase, done, total) -> { };

    /** {@code done} of {@code total} units (segments) of {@code phase} are finished. */
    void progress(String phase, long done, long total);
}
