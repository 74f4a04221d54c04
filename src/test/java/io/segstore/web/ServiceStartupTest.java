package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

/** The service starts on its defaults, answers its health probe and serves the checked-in OpenAPI document. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ServiceStartupTest {

    @TempDir
    static Path dataDir;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("segstore.data-dir", () -> dataDir.toString());
    }

    @LocalServerPort
    int port;

    private RestClient client() {
        return RestClient.builder().baseUrl("http://127.0.0.1:" + port).build();
    }

    @Test
    void healthIsUp() {
        ResponseEntity<String> health = client().get().uri("/actuator/health").retrieve().toEntity(String.class);
        assertEquals(HttpStatusCode.valueOf(200), health.getStatusCode());
        assertTrue(health.getBody().contains("\"status\":\"UP\""), health.getBody());
    }

    @Test
    void servedOpenApiDocumentIsTheCheckedInOne() throws Exception {
        String served = client().get().uri("/v3/api-docs.yaml").retrieve().body(String.class);
        Path checkedIn = Path.of("openapi.yaml");
        Files.writeString(Path.of("target", "openapi.served.yaml"), served, StandardCharsets.UTF_8);
        assertEquals(Files.readString(checkedIn, StandardCharsets.UTF_8).strip(), served.strip(),
                "openapi.yaml differs from the served document; target/openapi.served.yaml holds the served one");
    }
}
