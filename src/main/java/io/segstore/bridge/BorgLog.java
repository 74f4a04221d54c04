package io.segstore.bridge;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Log lines on stderr in the formats a Borg 1.2 client reads from {@code borg serve}: before the
 * client has negotiated, {@code $LOG <LEVEL> <logger> Remote: <message>}; after it (a 1.1+
 * client), one JSON object per line of type {@code log_message}. The client re-emits them as
 * "Remote: ..." at the level given, so only lines at or above the level borg asked for (its
 * --debug/--info/--error/--critical option) are written.
 */
final class BorgLog {

    /** Python's logging levels, by number. */
    enum Level {
        DEBUG(10), INFO(20), WARNING(30), ERROR(40), CRITICAL(50);

        final int value;

        Level(int value) {
            this.value = value;
        }
    }

    static final String REPOSITORY = "borg.repository";
    static final String REMOTE = "borg.remote";

    private final OutputStream err;
    private volatile Level threshold;
    private volatile boolean json;

    BorgLog(OutputStream err, Level threshold) {
        this.err = err;
        this.threshold = threshold;
    }

    /** After a dict-format negotiate: lines become JSON, as borg serve switches to then. */
    void useJson() {
        json = true;
    }

    boolean enabled(Level level) {
        return level.value >= threshold.value;
    }

    void debug(String message) {
        log(Level.DEBUG, REPOSITORY, message);
    }

    void info(String message) {
        log(Level.INFO, REPOSITORY, message);
    }

    void warning(String message) {
        log(Level.WARNING, REPOSITORY, message);
    }

    void error(String message) {
        log(Level.ERROR, REPOSITORY, message);
    }

    void log(Level level, String logger, String message) {
        if (!enabled(level)) {
            return;
        }
        String line;
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "log_message");
            m.put("time", System.currentTimeMillis() / 1000.0);
            m.put("message", message);
            m.put("levelname", level.name());
            m.put("name", logger);
            line = Json.write(m) + "\n";
        } else {
            line = "$LOG " + level.name() + " " + logger + " Remote: " + message.replace("\n", "\n$LOG " + level.name() + " "
                    + logger + " Remote: ") + "\n";
        }
        raw(line);
    }

    /** A line exactly as given (borg shows an unformatted line as "Remote: <line>"). */
    void raw(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        synchronized (err) {
            try {
                err.write(b);
                err.flush();
            } catch (IOException e) {
                // the client is gone: nothing to tell it
            }
        }
    }

    /**
     * A stream for whatever else in the process would print (a library, an uncaught exception):
     * each line becomes a debug log line, so stderr carries nothing borg would not understand.
     */
    OutputStream strayOutput() {
        return new OutputStream() {
            private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                if (b == '\n') {
                    flushLine();
                } else {
                    line.write(b);
                }
            }

            @Override
            public synchronized void flush() {
                // lines are emitted whole, at their newline
            }

            private void flushLine() {
                String text = line.toString(StandardCharsets.UTF_8);
                line.reset();
                if (!text.isBlank()) {
                    log(Level.DEBUG, REMOTE, text.stripTrailing());
                }
            }
        };
    }
}
