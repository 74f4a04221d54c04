package io.segstore.tier;

import java.net.URI;
import java.time.Duration;

/**
 * One configured store ({@code segstore.s3.stores.<name>.*}). The credentials never leave this
 * record: {@link #toString} leaves them out.
 */
public record S3Settings(String name, URI endpoint, String region, String bucket, String prefix, String accessKey,
                         String secretKey, boolean pathStyle, Duration attemptTimeout, int maxAttempts) {

    public S3Settings {
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("segstore.s3.stores." + name + ".bucket is required");
        }
        region = region == null || region.isBlank() ? "us-east-1" : region;
        prefix = normalisePrefix(prefix);
        attemptTimeout = attemptTimeout == null ? Duration.ofSeconds(30) : attemptTimeout;
        maxAttempts = maxAttempts < 1 ? 4 : maxAttempts;
    }

    /** "" or "a/b/" (no leading slash, one trailing slash). */
    static String normalisePrefix(String prefix) {
        if (prefix == null) {
            return "";
        }
        String p = prefix.strip();
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.isEmpty() ? "" : p + "/";
    }

    @Override
    public String toString() {
        return "S3Settings[name=" + name + ", endpoint=" + endpoint + ", region=" + region + ", bucket=" + bucket
                + ", prefix=" + prefix + ", pathStyle=" + pathStyle + ", credentials=" + (accessKey == null ? "default chain" : "(given)")
                + "]";
    }
}
