package io.segstore.engine;

import java.time.Duration;

/**
 * What check should do.
 *
 * @param repair      salvage damaged segments, add a missing commit, rebuild index and hints
 * @param maxDuration zero for a full check; otherwise a partial check that verifies segment
 *                    CRCs for at most this long and resumes where the previous one stopped
 */
public record CheckOptions(boolean repair, Duration maxDuration) {

    public CheckOptions {
        if (maxDuration == null || maxDuration.isNegative()) {
            throw new IllegalArgumentException("maxDuration must be zero or positive");
        }
        if (repair && !maxDuration.isZero()) {
            throw new IllegalArgumentException("a repair is always a full check");
        }
    }

    public static CheckOptions full() {
        return new CheckOptions(false, Duration.ZERO);
    }

    public static CheckOptions repairing() {
        return new CheckOptions(true, Duration.ZERO);
    }

    public static CheckOptions partial(Duration maxDuration) {
        return new CheckOptions(false, maxDuration);
    }

    public boolean isPartial() {
        return !maxDuration.isZero();
    }
}
