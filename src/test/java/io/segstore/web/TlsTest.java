package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.SegstoreApplication;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** The TLS configuration README.md documents (an SSL bundle) serves HTTPS as written there. */
class TlsTest {

    @TempDir
    Path tmp;

    @Test
    void theDocumentedSslBundleConfigurationServesHttps() throws Exception {
        Path keystore = tmp.resolve("segstore.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "segstore", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes());
        assertTrue(keytool.waitFor(1, TimeUnit.MINUTES) && keytool.exitValue() == 0, out);

        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(SegstoreApplication.class)
                .properties("spring.main.banner-mode=off")
                .run("--server.port=0", "--segstore.data-dir=" + tmp.resolve("data"),
                        // exactly as README.md's TLS section writes it
                        "--server.ssl.bundle=segstore",
                        "--spring.ssl.bundle.jks.segstore.keystore.location=file:" + keystore,
                        "--spring.ssl.bundle.jks.segstore.keystore.password=changeit",
                        "--spring.ssl.bundle.jks.segstore.keystore.type=PKCS12")) {
            int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
            KeyStore trust = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                trust.load(in, "changeit".toCharArray());
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(ssl).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/actuator/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("UP"));
        }
    }
}
