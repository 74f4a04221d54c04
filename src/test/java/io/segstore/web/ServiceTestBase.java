package io.segstore.web;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * One real server on a random port, shared by the API test classes (Spring caches the context):
 * each test works in repositories of its own names.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
abstract class ServiceTestBase {

    static final Path DATA_DIR;

    static {
        try {
            DATA_DIR = Files.createTempDirectory("segstore-api-test");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("segstore.data-dir", DATA_DIR::toString);
        registry.add("segstore.lease.default-length", () -> "30s");
        registry.add("segstore.max-lock-wait", () -> "20s");
        registry.add("segstore.listing.snapshot-idle-timeout", () -> "2s");
        registry.add("segstore.upload-idle-timeout", () -> "3s");
        registry.add("segstore.listing.max-snapshots", () -> "4");
        registry.add("segstore.maintenance.tick", () -> "200ms");
    }

    @LocalServerPort
    int port;

    ApiClient api;

    @BeforeEach
    void client() {
        api = new ApiClient(port);
    }

    /** A fresh repository name for one test. */
    static String repoName() {
        return "t-" + UUID.randomUUID().toString().substring(0, 12);
    }

    String createRepository() {
        return createRepository("{}");
    }

    String createRepository(String json) {
        String name = repoName();
        ApiClient.Response r = api.putJson("/repos/" + name, json);
        if (r.status() != 201) {
            throw new AssertionError("create failed: " + r.status() + " " + r.text());
        }
        return name;
    }

    static String hex(byte[] id) {
        return java.util.HexFormat.of().formatHex(id);
    }

    static String id(int n) {
        return String.format("%064x", n);
    }
}
