package io.segstore.engine;

/**
 * Receives timings from the engine (for metrics); the engine itself keeps none. Methods are
 * called on the thread that did the work and must return quickly.
 */
public interface EngineObserver {

    EngineObserver NONE = new EngineObserver() {
    };

    /** A commit finished: how long it took (fsyncs included) and how many log bytes it made durable. */
    default void committed(long nanos, long bytes) {
    }

    /** One fsync (or fdatasync) of a segment file or a directory. */
    default void synced(long nanos) {
    }
}
