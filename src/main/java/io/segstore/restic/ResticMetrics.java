package io.segstore.restic;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * Gauges of the restic upload path: what is arriving now and how much of the staging memory it
 * holds. Staging memory pinned at its budget means uploads are going to files (slower): raise
 * {@code segstore.restic.staging-memory} or look for stalled clients.
 */
@Component
class ResticMetrics {

    ResticMetrics(MeterRegistry registry, ResticFiles files) {
        Gauge.builder("segstore.restic.uploads.receiving", files, ResticFiles::bytesBeingReceived)
                .description("Bytes of restic uploads received so far whose bodies are still arriving")
                .baseUnit("bytes").register(registry);
        Gauge.builder("segstore.restic.staging.memory.used", files, ResticFiles::stagingMemoryInUse)
                .description("Bytes of the restic staging memory holding uploads").baseUnit("bytes").register(registry);
        Gauge.builder("segstore.restic.staging.memory.max", files, ResticFiles::stagingMemoryBudget)
                .description("The restic staging memory's budget (segstore.restic.staging-memory)").baseUnit("bytes")
                .register(registry);
    }
}
