package io.segstore.restic;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Plain HTTP requests as restic sends them: HTTP Basic with a token as the password. */
final class ResticHttp {

    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String V2 = "application/vnd.x.restic.rest.v2";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final int port;
    private final String authorization;

    ResticHttp(int port, String token) {
        this(port, token == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(("restic:" + token).getBytes(StandardCharsets.UTF_8)), true);
    }

    private ResticHttp(int port, String authorization, boolean header) {
        this.port = port;
        this.authorization = authorization;
    }

    ResticHttp as(String token) {
        return new ResticHttp(port, token);
    }

    /** A client that sends exactly this Authorization header (or none for null). */
    ResticHttp withAuthorization(String header) {
        return new ResticHttp(port, header, true);
    }

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

        /** The problem type's name, failing unless the answer is a problem document. */
        String problem() {
            String type = header("Content-Type");
            if (type == null || !type.startsWith("application/problem+json")) {
                throw new AssertionError("not a problem: " + status + " " + type + " " + text());
            }
            String uri = json().get("type").asText();
            return uri.substring(uri.lastIndexOf('/') + 1);
        }
    }

    Response send(String method, String path, HttpRequest.BodyPublisher body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(120));
        Map<String, String> h = new LinkedHashMap<>(headers);
        if (authorization != null) {
            h.putIfAbsent("Authorization", authorization);
        }
        h.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
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

    Response head(String path) {
        return send("HEAD", path, null, Map.of());
    }

    Response post(String path, byte[] body) {
        return send("POST", path, HttpRequest.BodyPublishers.ofByteArray(body), Map.of("Content-Type", "application/octet-stream"));
    }

    Response post(String path) {
        return send("POST", path, HttpRequest.BodyPublishers.noBody(), Map.of());
    }

    Response delete(String path) {
        return send("DELETE", path, null, Map.of());
    }

    /** The names of a v1 listing. */
    java.util.List<String> listV1(String repo, String type) {
        Response r = get("/restic/" + repo + "/" + type + "/");
        if (r.status() != 200) {
            throw new AssertionError("listing " + type + ": " + r.status() + " " + r.text());
        }
        java.util.List<String> names = new java.util.ArrayList<>();
        r.json().forEach(n -> names.add(n.asText()));
        return names;
    }

    /** Name to size, from a v2 listing. */
    Map<String, Long> listV2(String repo, String type) {
        Response r = get("/restic/" + repo + "/" + type + "/", Map.of("Accept", V2));
        if (r.status() != 200) {
            throw new AssertionError("listing " + type + ": " + r.status() + " " + r.text());
        }
        Map<String, Long> out = new LinkedHashMap<>();
        r.json().forEach(n -> out.put(n.get("name").asText(), n.get("size").asLong()));
        return out;
    }
}
