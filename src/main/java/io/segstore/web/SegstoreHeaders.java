package io.segstore.web;

import io.segstore.service.SegstoreProperties;
import io.segstore.service.ServiceException;
import java.time.Duration;
import org.springframework.stereotype.Component;

/** The API's own request headers, parsed and bounded. */
@Component
public class SegstoreHeaders {

    /** Names the transaction a request writes in (and, for reads, whose own writes it sees). */
    public static final String TRANSACTION = "Segstore-Transaction";
    /** Seconds to wait for the writer when another client holds it (0 or absent: answer 423 at once). */
    public static final String LOCK_WAIT = "Segstore-Lock-Wait";

    private final SegstoreProperties properties;

    public SegstoreHeaders(SegstoreProperties properties) {
        this.properties = properties;
    }

    /** A lock wait given as header or query parameter (the header wins), bounded by segstore.max-lock-wait. */
    public Duration lockWait(String header, String query) {
        String v = header != null ? header : query;
        if (v == null || v.isBlank()) {
            return Duration.ZERO;
        }
        double seconds;
        try {
            seconds = Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, LOCK_WAIT + " is a number of seconds, not \"" + v.strip() + "\".");
        }
        if (!(seconds >= 0) || seconds > properties.maxLockWait().toSeconds()) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER,
                    LOCK_WAIT + " must be 0.." + properties.maxLockWait().toSeconds() + " seconds.");
        }
        return Duration.ofMillis((long) (seconds * 1000));
    }

    /** A lease length in seconds (absent: the default), bounded by segstore.lease.max-length. */
    public Duration leaseLength(Long seconds) {
        if (seconds == null) {
            return properties.lease().defaultLength();
        }
        if (seconds < 1 || seconds > properties.lease().maxLength().toSeconds()) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER,
                    "leaseSeconds must be 1.." + properties.lease().maxLength().toSeconds() + ".");
        }
        return Duration.ofSeconds(seconds);
    }
}
