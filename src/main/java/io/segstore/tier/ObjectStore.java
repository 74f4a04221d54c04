package io.segstore.tier;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The few operations of an S3-compatible bucket the tier needs, with keys relative to the
 * store's prefix. Conditional writes are what make the bucket safe to share: a segment is created
 * only if absent, a mutable object is replaced only if unchanged since it was read.
 */
public interface ObjectStore extends Closeable {

    /** An object found by a listing. */
    record Listed(String key, long size, String etag) {
    }

    /** An object read whole, with its entity tag. */
    record Fetched(byte[] data, String etag) {
    }

    /** The store's name in configuration. */
    String name();

    /** Creates {@code key} from a file only if absent; false when it exists (HTTP 412). */
    boolean createFromFile(String key, Path file) throws IOException;

    /**
     * Like {@link #createFromFile(String, Path)}, and {@code fence} is asked before every attempt
     * (retries included): once it says no, no further attempt is sent and the call fails. A
     * writer's lease bounds when its uploads may still reach the bucket.
     */
    default boolean createFromFile(String key, Path file, java.util.function.BooleanSupplier fence) throws IOException {
        if (!fence.getAsBoolean()) {
            throw new IOException("not uploaded (" + key + "): the writer lease is no longer held");
        }
        return createFromFile(key, file);
    }

    /** Creates {@code key} only if absent; false when it exists. */
    boolean create(String key, byte[] data) throws IOException;

    /** Writes {@code key} whatever is there; returns the new entity tag. */
    String put(String key, byte[] data) throws IOException;

    /** Replaces {@code key} only if its entity tag is still {@code etag}; the new tag, or null on 412. */
    String replace(String key, byte[] data, String etag) throws IOException;

    /** The whole object, or null when absent. */
    Fetched get(String key) throws IOException;

    /** Downloads an object into a file; false when absent. */
    boolean download(String key, Path target) throws IOException;

    /** {@code length} bytes from {@code offset} (fewer at the end of the object). */
    byte[] getRange(String key, long offset, int length) throws IOException;

    /** Size and tag of an object, or null when absent. */
    Listed head(String key) throws IOException;

    /** Every object whose key starts with {@code prefix}, in key order. */
    List<Listed> list(String prefix) throws IOException;

    /** The objects right below {@code prefix} (which ends with '/'), not those in its "directories". */
    List<Listed> listFiles(String prefix) throws IOException;

    /** The "directories" right below {@code prefix} (which ends with '/'), without the slash. */
    List<String> listNames(String prefix) throws IOException;

    /** Deletes an object; nothing happens when it is absent. */
    void delete(String key) throws IOException;
}
