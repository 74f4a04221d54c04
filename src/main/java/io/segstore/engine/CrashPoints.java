package io.segstore.engine;

/**
 * Named places in commit, checkpoint and compaction where a crash test can kill the process:
 * with {@code -Dsegstore.crash-at=<name>} (or {@code <name>#<n>} for its n-th passage) the JVM
 * halts there at once, as kill -9 would stop it. Without the property every call is a no-op
 * on a constant, which the JIT removes.
 */
final class CrashPoints {

    private static final String SPEC = System.getProperty("segstore.crash-at");
    private static final String NAME;
    private static final int NTH;
    private static int passed;

    static {
        if (SPEC == null) {
            NAME = null;
            NTH = 0;
        } else {
            int hash = SPEC.indexOf('#');
            NAME = hash < 0 ? SPEC : SPEC.substring(0, hash);
            NTH = hash < 0 ? 1 : Integer.parseInt(SPEC.substring(hash + 1));
        }
    }

    private CrashPoints() {
    }

    static void reached(String name) {
        if (NAME != null && NAME.equals(name)) {
            halt(name);
        }
    }

    private static synchronized void halt(String name) {
        if (++passed == NTH) {
            System.err.println("CRASH-POINT " + name);
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
