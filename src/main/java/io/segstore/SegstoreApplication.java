package io.segstore;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The Spring Boot service: repositories under {@code segstore.data-dir}, served over HTTP. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SegstoreApplication {
}
