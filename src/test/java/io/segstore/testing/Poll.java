package io.segstore.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waiting for something another process or thread does, when it offers nothing to wait on but
 * its state: the state is polled, with a deadline that fails the test. The one place tests pause;
 * every pause here is between two looks at the state, never a guess that something has happened.
 */
public final class Poll {

    private static final long INTERVAL_MILLIS = 50;

    private Poll() {
    }

    /** Polls until {@code condition} holds; fails with {@code what} when {@code timeout} passes first. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition::getAsBoolean, Boolean::booleanValue);
    }

    /** Polls {@code probe} until {@code done} accepts its value, which is returned. */
    public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = probe.get();
            if (done.test(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + what + "; last seen: " + value);
            }
            pause();
        }
    }

    /**
     * Runs {@code check} (which asserts) again and again until {@code period} has passed: for
     * tests whose subject is the passage of time, such as a lease that must not expire while
     * its holder is alive.
     */
    public static void throughout(Duration period, Runnable check) {
        long end = System.nanoTime() + period.toNanos();
        do {
            check.run();
            pause();
        } while (System.nanoTime() < end);
        check.run();
    }

    private static void pause() {
        try {
            Thread.sleep(INTERVAL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while polling", e);
        }
    }
}
