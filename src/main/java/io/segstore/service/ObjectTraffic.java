package io.segstore.service;

/** Told of every object read and written, with its size and the storage time it took (for metrics). */
public interface ObjectTraffic {

    void read(String repository, long bytes, long nanos);

    void wrote(String repository, long bytes, long nanos);
}
