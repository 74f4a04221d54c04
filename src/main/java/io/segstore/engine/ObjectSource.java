package io.segstore.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The data of an object to store, read by position so it can be read twice (once for its CRC,
 * once into the log) without being held in memory: an upload staged in a temporary file goes
 * into the log in chunks.
 */
public interface ObjectSource {

    /** Number of bytes. */
    long length();

    /** Reads into {@code dst} from {@code position}; returns the bytes read (at least one unless at the end). */
    int read(ByteBuffer dst, long position) throws IOException;

    /** The remaining bytes of a buffer (not consumed). */
    static ObjectSource of(ByteBuffer data) {
        ByteBuffer view = data.duplicate();
        int start = view.position();
        int length = view.remaining();
        return new ObjectSource() {
            @Override
            public long length() {
                return length;
            }

            @Override
            public int read(ByteBuffer dst, long position) {
                int n = (int) Math.min(dst.remaining(), length - position);
                if (n <= 0) {
                    return -1;
                }
                dst.put(view.duplicate().position(start + (int) position).limit(start + (int) position + n));
                return n;
            }
        };
    }

    /** {@code length} bytes of a file channel from offset 0. */
    static ObjectSource of(FileChannel channel, long length) {
        return of(channel, 0, length);
    }

    /** {@code length} bytes of a file channel from {@code offset}. */
    static ObjectSource of(FileChannel channel, long offset, long length) {
        return new ObjectSource() {
            @Override
            public long length() {
                return length;
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                if (position >= length) {
                    return -1;
                }
                if (dst.remaining() > length - position) {
                    ByteBuffer limited = dst.duplicate();
                    limited.limit(limited.position() + (int) (length - position));
                    int n = channel.read(limited, offset + position);
                    if (n > 0) {
                        dst.position(dst.position() + n);
                    }
                    return n;
                }
                return channel.read(dst, offset + position);
            }
        };
    }
}
