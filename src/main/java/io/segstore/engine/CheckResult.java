package io.segstore.engine;

import java.util.List;

/**
 * What a check found.
 *
 * @param mode               "full", "partial" or "repair"
 * @param errors             each problem found, in order (for a repair: what was repaired)
 * @param segmentsChecked    segments verified by this run
 * @param finished           false when a partial check stopped early; the next one resumes
 * @param lastSegmentChecked where a partial check stopped (-1 when it reached the end)
 * @param entriesSalvaged    intact entries kept from damaged segments (repair)
 * @param millis             how long it ran
 */
public record CheckResult(String mode, List<String> errors, long segmentsChecked, boolean finished, long lastSegmentChecked,
                          long entriesSalvaged, long millis) {

    /** Borg's answer: no errors found, or they were repaired. */
    public boolean ok() {
        return errors.isEmpty() || "repair".equals(mode);
    }
}
