package io.segstore.tier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.NonRetryableException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@link ObjectStore} on the AWS SDK v2's synchronous client: SigV4, the SDK's standard retries
 * with backoff (5xx, throttling, broken connections), conditional writes with If-None-Match and
 * If-Match, optional path-style addressing for self-hosted stores.
 */
public final class S3ObjectStore implements ObjectStore {

    /** The writer lease an upload depends on, asked before each of its attempts. */
    private static final ExecutionAttribute<BooleanSupplier> FENCE = new ExecutionAttribute<>("segstore.writer-lease");

    /**
     * Stops a fenced upload before an attempt goes out without the lease: the SDK's retries would
     * otherwise send it again long after a check made before the first attempt.
     */
    private static final ExecutionInterceptor FENCE_CHECK = new ExecutionInterceptor() {
        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            BooleanSupplier fence = attributes.getAttribute(FENCE);
            if (fence != null && !fence.getAsBoolean()) {
                throw NonRetryableException.create("the writer lease is no longer held: no further attempt is sent");
            }
        }
    };

    private final S3Settings settings;
    private final S3Client s3;

    public S3ObjectStore(S3Settings settings) {
        this.settings = settings;
        AwsCredentialsProvider credentials = settings.accessKey() == null || settings.accessKey().isBlank()
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()));
        var builder = S3Client.builder()
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                // checksums only where S3 requires them: self-hosted stores vary in what they accept
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(c -> c
                        .addExecutionInterceptor(FENCE_CHECK)
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(settings.maxAttempts()).build())
                        .apiCallAttemptTimeout(settings.attemptTimeout()));
        if (settings.endpoint() != null) {
            builder.endpointOverride(settings.endpoint());
        }
        this.s3 = builder.build();
    }

    public S3Settings settings() {
        return settings;
    }

    @Override
    public String name() {
        return settings.name();
    }

    private String key(String relative) {
        return settings.prefix() + relative;
    }

    @Override
    public boolean createFromFile(String key, Path file) throws IOException {
        return create(key, RequestBody.fromFile(file), null);
    }

    @Override
    public boolean createFromFile(String key, Path file, BooleanSupplier fence) throws IOException {
        return create(key, RequestBody.fromFile(file), fence);
    }

    @Override
    public boolean create(String key, byte[] data) throws IOException {
        return create(key, RequestBody.fromBytes(data), null);
    }

    private boolean create(String key, RequestBody body, BooleanSupplier fence) throws IOException {
        try {
            PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(settings.bucket()).key(key(key)).ifNoneMatch("*");
            if (fence != null) {
                request.overrideConfiguration(o -> o.putExecutionAttribute(FENCE, fence));
            }
            s3.putObject(request.build(), body);
            return true;
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                return false;
            }
            throw failure("PUT", key, e);
        } catch (SdkException e) {
            throw failure("PUT", key, e);
        }
    }

    @Override
    public String put(String key, byte[] data) throws IOException {
        try {
            return s3.putObject(PutObjectRequest.builder().bucket(settings.bucket()).key(key(key)).build(), RequestBody.fromBytes(data)).eTag();
        } catch (SdkException e) {
            throw failure("PUT", key, e);
        }
    }

    @Override
    public String replace(String key, byte[] data, String etag) throws IOException {
        try {
            return s3.putObject(PutObjectRequest.builder().bucket(settings.bucket()).key(key(key)).ifMatch(etag).build(),
                    RequestBody.fromBytes(data)).eTag();
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 404) {
                return null;
            }
            throw failure("PUT", key, e);
        } catch (SdkException e) {
            throw failure("PUT", key, e);
        }
    }

    @Override
    public Fetched get(String key) throws IOException {
        return absentAsNull("GET", key, () -> {
            ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(settings.bucket()).key(key(key)));
            return new Fetched(r.asByteArray(), r.response().eTag());
        });
    }

    @Override
    public boolean download(String key, Path target) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".download");
        Files.deleteIfExists(tmp);
        Object got;
        try {
            got = absentAsNull("GET", key, () -> s3.getObject(b -> b.bucket(settings.bucket()).key(key(key)), tmp));
        } catch (IOException e) {
            Files.deleteIfExists(tmp); // no partial file is left behind
            throw e;
        }
        if (got == null) {
            Files.deleteIfExists(tmp);
            return false;
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    @Override
    public byte[] getRange(String key, long offset, int length) throws IOException {
        if (length <= 0) {
            return new byte[0];
        }
        try {
            return s3.getObjectAsBytes(b -> b.bucket(settings.bucket()).key(key(key))
                    .range("bytes=" + offset + "-" + (offset + length - 1))).asByteArray();
        } catch (S3Exception e) {
            if (e.statusCode() == 416) {
                return new byte[0];
            }
            throw failure("GET", key, e);
        } catch (SdkException e) {
            throw failure("GET", key, e);
        }
    }

    @Override
    public Listed head(String key) throws IOException {
        return absentAsNull("HEAD", key, () -> {
            HeadObjectResponse r = s3.headObject(b -> b.bucket(settings.bucket()).key(key(key)));
            return new Listed(key, r.contentLength(), r.eTag());
        });
    }

    /** One SDK call. */
    @FunctionalInterface
    private interface Call<T> {
        T run();
    }

    /** Runs a call whose object may be absent: null then (404), an IOException for any other failure. */
    private <T> T absentAsNull(String operation, String key, Call<T> call) throws IOException {
        try {
            return call.run();
        } catch (NoSuchKeyException e) {
            return null;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return null;
            }
            throw failure(operation, key, e);
        } catch (SdkException e) {
            throw failure(operation, key, e);
        }
    }

    @Override
    public List<Listed> list(String prefix) throws IOException {
        return listObjects(prefix, null);
    }

    @Override
    public List<Listed> listFiles(String prefix) throws IOException {
        return listObjects(prefix, "/");
    }

    /** Objects under a prefix; with a delimiter, only those not in a deeper "directory". */
    private List<Listed> listObjects(String prefix, String delimiter) throws IOException {
        List<Listed> out = new ArrayList<>();
        int strip = settings.prefix().length();
        try {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(ListObjectsV2Request.builder()
                    .bucket(settings.bucket()).prefix(key(prefix)).delimiter(delimiter).build())) {
                for (S3Object o : page.contents()) {
                    out.add(new Listed(o.key().substring(strip), o.size(), o.eTag()));
                }
            }
        } catch (SdkException e) {
            throw failure("LIST", prefix, e);
        }
        return out;
    }

    @Override
    public List<String> listNames(String prefix) throws IOException {
        List<String> out = new ArrayList<>();
        String full = key(prefix);
        try {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(ListObjectsV2Request.builder()
                    .bucket(settings.bucket()).prefix(full).delimiter("/").build())) {
                for (CommonPrefix p : page.commonPrefixes()) {
                    String name = p.prefix().substring(full.length());
                    out.add(name.endsWith("/") ? name.substring(0, name.length() - 1) : name);
                }
            }
        } catch (SdkException e) {
            throw failure("LIST", prefix, e);
        }
        return out;
    }

    @Override
    public void delete(String key) throws IOException {
        try {
            s3.deleteObject(b -> b.bucket(settings.bucket()).key(key(key)));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw failure("DELETE", key, e);
            }
        } catch (SdkException e) {
            throw failure("DELETE", key, e);
        }
    }

    /** The SDK's message names the operation and status, never the credentials. */
    private IOException failure(String operation, String key, SdkException e) {
        return new IOException("object store " + settings.name() + ": " + operation + " " + key + " failed: " + e.getMessage(), e);
    }

    @Override
    public void close() {
        s3.close();
    }
}
