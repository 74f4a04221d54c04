package io.segstore.restic;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A real server on a random port with tokens: one per role on the repositories named rs-*, an
 * administrator of everything, and a token without any grant on them. Test classes that extend
 * it work in repositories of their own names.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
abstract class ResticServerBase {

    static final Path DATA_DIR;

    static {
        try {
            DATA_DIR = Files.createTempDirectory("segstore-restic-test");
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final String READER = "restic-reader-0123456789";
    static final String APPENDER = "restic-appender-0123456789";
    static final String WRITER = "restic-writer-0123456789";
    static final String TEAM_ADMIN = "restic-team-admin-0123456789";
    static final String ADMIN = "restic-admin-0123456789";
    static final String STRANGER = "restic-stranger-0123456789";

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("segstore.data-dir", DATA_DIR::toString);
        registry.add("segstore.upload-idle-timeout", () -> "3s");
        registry.add("segstore.max-lock-wait", () -> "20s");
        registry.add("segstore.maintenance.tick", () -> "200ms"); // scheduled maintenance runs soon after it is due
        Object[][] tokens = {
                {"reader", READER, "rs-*", "read"},
                {"appender", APPENDER, "rs-*", "append"},
                {"writer", WRITER, "rs-*", "write"},
                {"team-admin", TEAM_ADMIN, "rs-*", "admin"},
                {"admin", ADMIN, "*", "admin"},
                {"stranger", STRANGER, "other-*", "admin"}};
        for (int i = 0; i < tokens.length; i++) {
            Object[] t = tokens[i];
            String p = "segstore.security.tokens[" + i + "].";
            registry.add(p + "name", () -> t[0]);
            registry.add(p + "sha256", () -> sha256Hex(((String) t[1]).getBytes(StandardCharsets.UTF_8)));
            registry.add(p + "grants[0].repos", () -> t[2]);
            registry.add(p + "grants[0].role", () -> t[3]);
        }
    }

    @LocalServerPort
    int port;

    /** A fresh repository name that the rs-* grants cover. */
    static String repoName() {
        return "rs-" + UUID.randomUUID().toString().substring(0, 12);
    }

    static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
