package io.segstore.ops;

import io.segstore.service.SegstoreProperties;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * The value of the {@code repository} label of a metric. Label values multiply time series, so
 * only the first {@code segstore.metrics.max-repositories} repositories seen get their own; the
 * rest share {@value #OTHER}. A name keeps its label for the life of the process.
 */
@Component
public class RepositoryLabels {

    public static final String OTHER = "_other";

    private final int max;
    private final Map<String, String> labels = new ConcurrentHashMap<>();

    public RepositoryLabels(SegstoreProperties properties) {
        this.max = Math.max(0, properties.metrics().maxRepositories());
    }

    public String of(String repository) {
        String label = labels.get(repository);
        if (label != null) {
            return label;
        }
        synchronized (labels) {
            return labels.computeIfAbsent(repository, r -> labels.values().stream().filter(v -> !v.equals(OTHER)).count() < max ? r : OTHER);
        }
    }

    /** Whether the repository has a label of its own (gauges are only kept for those). */
    public boolean own(String repository) {
        return !of(repository).equals(OTHER);
    }
}
