package io.segstore.engine.format;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Releases a memory mapping at once instead of when the garbage collector finds it, so that the
 * space of a deleted file is freed when the code is done with it. Uses the JDK's unmapping hook
 * where it is reachable; elsewhere the mapping is left to the collector. The caller must make
 * sure nothing touches the buffer afterwards.
 */
public final class MemoryMappings {

    private static final Method INVOKE_CLEANER;
    private static final Object UNSAFE;

    static {
        Method m = null;
        Object u = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            u = f.get(null);
            m = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not reachable on this JVM
        }
        INVOKE_CLEANER = m;
        UNSAFE = u;
    }

    private MemoryMappings() {
    }

    public static void unmap(MappedByteBuffer map) {
        if (map != null && INVOKE_CLEANER != null) {
            try {
                INVOKE_CLEANER.invoke(UNSAFE, map);
            } catch (ReflectiveOperationException e) {
                // left to the garbage collector
            }
        }
    }
}
