package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The service starts, answers its health probe and serves the checked-in OpenAPI document. */
class ServiceStartupTest extends ServiceTestBase {

    @Test
    void healthIsUp() {
        ApiClient.Response health = api.get("/actuator/health");
        assertEquals(200, health.status());
        assertTrue(health.text().contains("\"status\":\"UP\""), health.text());
    }

    @Test
    void servedOpenApiDocumentIsTheCheckedInOne() throws Exception {
        String served = api.get("/v3/api-docs.yaml").text();
        Files.writeString(Path.of("target", "openapi.served.yaml"), served, StandardCharsets.UTF_8);
        assertEquals(Files.readString(Path.of("openapi.yaml"), StandardCharsets.UTF_8).strip(), served.strip(),
                "openapi.yaml differs from the served document; target/openapi.served.yaml holds the served one");
    }
}
