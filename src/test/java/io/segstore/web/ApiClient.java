package io.segstore.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A plain HTTP client for the tests: real requests to the real server. */
final class ApiClient {

    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final String base;
    private final String authorization;

    ApiClient(int port) {
        this(port, null);
    }

    /** A client that sends {@code Authorization: Bearer <token>} with every request that does not set its own. */
    ApiClient(int port, String token) {
        this.base = "http://127.0.0.1:" + port;
        this.authorization = token == null ? null : "Bearer " + token;
    }

    ApiClient as(String token) {
        return new ApiClient(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)), token);
    }

    /** A response with its body as bytes. */
    record Response(int status, java.net.http.HttpHeaders headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            return JSON.readTree(text());
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** The problem type's last path element, e.g. "object-not-found". */
        String problem() {
            if (!header("Content-Type").startsWith("application/problem+json")) {
                throw new AssertionError("not a problem: " + status + " " + header("Content-Type") + " " + text());
            }
            String type = json().get("type").asText();
            return type.substring(type.lastIndexOf('/') + 1);
        }
    }

    Response send(String method, String path, byte[] body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120));
        headers.forEach(b::header);
        if (authorization != null && headers.keySet().stream().noneMatch(h -> h.equalsIgnoreCase("Authorization"))) {
            b.header("Authorization", authorization);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        try {
            HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    Response get(String path) {
        return send("GET", path, null, Map.of());
    }

    Response get(String path, Map<String, String> headers) {
        return send("GET", path, null, headers);
    }

    Response head(String path, Map<String, String> headers) {
        return send("HEAD", path, null, headers);
    }

    Response put(String path, byte[] body) {
        return send("PUT", path, body, Map.of("Content-Type", "application/octet-stream"));
    }

    Response put(String path, byte[] body, Map<String, String> headers) {
        java.util.Map<String, String> h = new java.util.HashMap<>(headers);
        h.putIfAbsent("Content-Type", "application/octet-stream");
        return send("PUT", path, body, h);
    }

    Response putJson(String path, String json) {
        return send("PUT", path, json.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    }

    Response post(String path, String json) {
        return send("POST", path, json == null ? null : json.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    }

    Response post(String path, String json, Map<String, String> headers) {
        java.util.Map<String, String> h = new java.util.HashMap<>(headers);
        h.put("Content-Type", "application/json");
        return send("POST", path, json == null ? null : json.getBytes(StandardCharsets.UTF_8), h);
    }

    Response patch(String path, String json) {
        return send("PATCH", path, json.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    }

    Response delete(String path) {
        return send("DELETE", path, null, Map.of());
    }

    Response delete(String path, Map<String, String> headers) {
        return send("DELETE", path, null, headers);
    }
}
