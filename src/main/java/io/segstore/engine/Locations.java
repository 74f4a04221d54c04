package io.segstore.engine;

/** An entry's place in the log packed in a long: segment in the high 32 bits, offset in the low. */
final class Locations {

    private Locations() {
    }

    static long of(long segment, long offset) {
        return (segment << 32) | (offset & 0xFFFFFFFFL);
    }

    static long segment(long location) {
        return location >>> 32;
    }

    static long offset(long location) {
        return location & 0xFFFFFFFFL;
    }

    static String describe(long location) {
        return "segment " + segment(location) + ", offset " + offset(location);
    }
}
