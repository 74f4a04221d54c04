package io.segstore.tier;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server in this JVM (s3proxy over a directory), on a random port, with SigV4
 * credentials; one per test class.
 */
public final class S3TestServer implements AutoCloseable {

    public static final String ACCESS_KEY = "segstore-test-access";
    public static final String SECRET_KEY = "segstore-test-secret-never-logged";
    public static final String REGION = "us-east-1";

    private final S3Proxy proxy;
    private final URI endpoint;
    private final Path directory;

    private S3TestServer(S3Proxy proxy, URI endpoint, Path directory) {
        this.proxy = proxy;
        this.endpoint = endpoint;
        this.directory = directory;
    }

    /** Starts s3proxy keeping its buckets in {@code directory}. */
    public static S3TestServer start(Path directory) throws Exception {
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(new FilesystemNio2BlobStore(directory.toString()))
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
            }
            Thread.onSpinWait();
        }
        return new S3TestServer(proxy, URI.create("http://127.0.0.1:" + proxy.getPort()), directory);
    }

    public URI endpoint() {
        return endpoint;
    }

    public Path directory() {
        return directory;
    }

    /** A plain SDK client (path style) for the test's own look at the bucket. */
    public S3Client client() {
        return client(endpoint);
    }

    public static S3Client client(URI endpoint) {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    public void createBucket(String bucket) {
        try (S3Client c = client()) {
            c.createBucket(b -> b.bucket(bucket));
        }
    }

    /** Settings of a store on this server (through {@code endpoint}, e.g. a fault proxy, when given). */
    public S3Settings settings(String name, String bucket, String prefix) {
        return settings(name, bucket, prefix, endpoint);
    }

    public S3Settings settings(String name, String bucket, String prefix, URI through) {
        return new S3Settings(name, through, REGION, bucket, prefix, ACCESS_KEY, SECRET_KEY, true, Duration.ofSeconds(5), 4);
    }

    /** The command-line properties of a Segstore instance using a store on this server. */
    public Map<String, String> properties(String name, String bucket, String prefix) {
        Map<String, String> p = new LinkedHashMap<>();
        String base = "segstore.s3.stores." + name + ".";
        p.put(base + "endpoint", endpoint.toString());
        p.put(base + "region", REGION);
        p.put(base + "bucket", bucket);
        p.put(base + "prefix", prefix);
        p.put(base + "access-key", ACCESS_KEY);
        p.put(base + "secret-key", SECRET_KEY);
        p.put(base + "path-style", "true");
        return p;
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }
}
