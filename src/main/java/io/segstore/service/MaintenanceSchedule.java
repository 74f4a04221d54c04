package io.segstore.service;

import io.segstore.engine.Repository;

/**
 * A repository's scheduled maintenance, kept in the [segstore] section of its config: a check
 * every {@code checkIntervalSeconds} (partial, resuming where the last stopped, when
 * {@code checkMaxDurationSeconds} is set) and a compaction of segments whose freeable share is
 * over {@code compactionThreshold} every {@code compactionIntervalSeconds}. 0 turns one off.
 */
public record MaintenanceSchedule(long checkIntervalSeconds, long checkMaxDurationSeconds, long compactionIntervalSeconds,
                                  double compactionThreshold) {

    static final String CHECK_INTERVAL = "maintenance_check_interval";
    static final String CHECK_MAX_DURATION = "maintenance_check_max_duration";
    static final String COMPACTION_INTERVAL = "maintenance_compaction_interval";
    static final String COMPACTION_THRESHOLD = "maintenance_compaction_threshold";

    public static final MaintenanceSchedule NONE = new MaintenanceSchedule(0, 0, 0, 0.1);

    public MaintenanceSchedule {
        if (checkIntervalSeconds < 0 || checkMaxDurationSeconds < 0 || compactionIntervalSeconds < 0) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "maintenance intervals and durations must not be negative.");
        }
        if (!(compactionThreshold >= 0 && compactionThreshold <= 1)) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "maintenance.compactionThreshold is a freeable ratio from 0 to 1.");
        }
    }

    static MaintenanceSchedule of(Repository r) {
        try {
            return new MaintenanceSchedule(number(r, CHECK_INTERVAL, 0), number(r, CHECK_MAX_DURATION, 0),
                    number(r, COMPACTION_INTERVAL, 0), ratio(r, COMPACTION_THRESHOLD, 0.1));
        } catch (RuntimeException e) {
            return NONE; // an edited config with nonsense in it: no scheduled work rather than a failing service
        }
    }

    /** This schedule with the given fields changed (null: unchanged). */
    MaintenanceSchedule with(Long checkInterval, Long checkMaxDuration, Long compactionInterval, Double threshold) {
        return new MaintenanceSchedule(checkInterval == null ? checkIntervalSeconds : checkInterval,
                checkMaxDuration == null ? checkMaxDurationSeconds : checkMaxDuration,
                compactionInterval == null ? compactionIntervalSeconds : compactionInterval,
                threshold == null ? compactionThreshold : threshold);
    }

    void saveTo(Repository r) {
        r.setSetting(CHECK_INTERVAL, checkIntervalSeconds == 0 ? null : Long.toString(checkIntervalSeconds));
        r.setSetting(CHECK_MAX_DURATION, checkMaxDurationSeconds == 0 ? null : Long.toString(checkMaxDurationSeconds));
        r.setSetting(COMPACTION_INTERVAL, compactionIntervalSeconds == 0 ? null : Long.toString(compactionIntervalSeconds));
        r.setSetting(COMPACTION_THRESHOLD, Double.toString(compactionThreshold));
    }

    private static long number(Repository r, String key, long absent) {
        String v = r.setting(key);
        return v == null ? absent : Long.parseLong(v.trim());
    }

    private static double ratio(Repository r, String key, double absent) {
        String v = r.setting(key);
        return v == null ? absent : Double.parseDouble(v.trim());
    }
}
