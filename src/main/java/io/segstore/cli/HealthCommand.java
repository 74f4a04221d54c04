package io.segstore.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * The container's health probe: asks a running service's actuator health group (liveness by
 * default) and exits 0 when it answers UP, 1 otherwise. It runs without Spring and without the
 * engine, so a JRE-only image (no curl) can use it as its Docker HEALTHCHECK.
 *
 * <p>The default URL is {@code http://127.0.0.1:PORT/actuator/health/liveness}, PORT being
 * {@code MANAGEMENT_SERVER_PORT}, else {@code SERVER_PORT}, else 8080: the same environment that
 * configures the service configures its probe. Exit status 2 is reserved by Docker's HEALTHCHECK,
 * so wrong arguments exit 1 here as well.
 */
final class HealthCommand implements CommandLine.Command {

    static final String PATH = "/actuator/health/liveness";
    private static final int MAX_BODY = 64 * 1024;

    private final Map<String, String> environment;

    HealthCommand() {
        this(System.getenv());
    }

    HealthCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public String usage() {
        return "health [--url " + defaultUrl() + "] [--timeout SECONDS]";
    }

    /** The URL probed without {@code --url}. */
    String defaultUrl() {
        String port = environment.get("MANAGEMENT_SERVER_PORT");
        if (port == null || port.isBlank()) {
            port = environment.get("SERVER_PORT");
        }
        if (port == null || port.isBlank()) {
            port = "8080";
        }
        return "http://127.0.0.1:" + port.strip() + PATH;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        URI url;
        int timeoutMillis;
        try {
            Arguments a = new Arguments(args, Set.of("url", "timeout"), Set.of());
            if (!a.positional().isEmpty()) {
                throw new CommandLine.UsageException("unexpected argument " + a.positional().get(0));
            }
            url = parseUrl(a.option("url", defaultUrl()));
            timeoutMillis = (int) Math.min(Integer.MAX_VALUE, a.longOption("timeout", 5, 1) * 1000);
        } catch (CommandLine.UsageException e) {
            err.println("segstore health: " + e.getMessage());
            err.println("usage: java -jar segstore.jar " + usage());
            return 1;
        }
        Probe probe = probe(url, timeoutMillis);
        out.println(probe.describe());
        return probe.up() ? 0 : 1;
    }

    private static URI parseUrl(String text) throws CommandLine.UsageException {
        try {
            URI url = new URI(text);
            if (!"http".equalsIgnoreCase(url.getScheme()) && !"https".equalsIgnoreCase(url.getScheme())
                    || url.getHost() == null) {
                throw new CommandLine.UsageException("--url must be an http:// or https:// URL, not " + text);
            }
            return url;
        } catch (URISyntaxException e) {
            throw new CommandLine.UsageException("--url is not a URL: " + e.getMessage());
        }
    }

    /** What the probe saw: the health status (or UNREACHABLE / UNKNOWN) and why. */
    record Probe(String status, int httpStatus, String detail) {
        boolean up() {
            return "UP".equals(status) && httpStatus == 200;
        }

        String describe() {
            if (up()) {
                return status;
            }
            return status + " (" + (httpStatus > 0 ? "HTTP " + httpStatus + (detail.isEmpty() ? "" : ", ") : "") + detail + ")";
        }
    }

    static Probe probe(URI url, int timeoutMillis) {
        HttpURLConnection connection = null;
        try {
            // A probe of the local service: never through a proxy configured for the JVM.
            connection = (HttpURLConnection) url.toURL().openConnection(Proxy.NO_PROXY);
            connection.setConnectTimeout(timeoutMillis);
            connection.setReadTimeout(timeoutMillis);
            connection.setInstanceFollowRedirects(false);
            connection.setUseCaches(false);
            connection.setRequestProperty("Accept", "application/json");
            int code = connection.getResponseCode();
            InputStream body = code >= 400 ? connection.getErrorStream() : connection.getInputStream();
            String text = body == null ? "" : read(body);
            String status = topLevelStatus(text);
            if (status == null) {
                return new Probe("UNKNOWN", code, "no health status in the answer from " + url);
            }
            return new Probe(status, code, code == 200 ? "" : "from " + url);
        } catch (IOException | IllegalArgumentException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
            return new Probe("UNREACHABLE", 0, url + ": " + why);
        } finally {
            if (connection != null) {
                connection.disconnect();
            }
        }
    }

    private static String read(InputStream in) throws IOException {
        try (in) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            int n;
            while (buffer.size() < MAX_BODY && (n = in.read(chunk, 0, Math.min(chunk.length, MAX_BODY - buffer.size()))) > 0) {
                buffer.write(chunk, 0, n);
            }
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * The string value of the key "status" of the outermost JSON object, or null. A small scanner
     * rather than a JSON library: the probe must start fast and load as few classes as it can.
     * Nested "status" keys (of components) are skipped.
     */
    static String topLevelStatus(String json) {
        int depth = 0;
        int i = 0;
        int n = json.length();
        boolean expectKey = false;
        while (i < n) {
            char c = json.charAt(i);
            if (c == '"') {
                int end = endOfString(json, i);
                if (end < 0) {
                    return null;
                }
                String token = unescape(json.substring(i + 1, end));
                i = end + 1;
                if (depth == 1 && expectKey) {
                    int colon = skipSpace(json, i);
                    if (colon < n && json.charAt(colon) == ':') {
                        i = skipSpace(json, colon + 1);
                        if ("status".equals(token) && i < n && json.charAt(i) == '"') {
                            int valueEnd = endOfString(json, i);
                            return valueEnd < 0 ? null : unescape(json.substring(i + 1, valueEnd));
                        }
                    }
                    expectKey = false;
                }
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
                expectKey = c == '{' && depth == 1;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 1) {
                expectKey = true;
            }
            i++;
        }
        return null;
    }

    private static int endOfString(String s, int quote) {
        for (int i = quote + 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return -1;
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char e = s.charAt(++i);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        String hex = i + 4 < s.length() ? s.substring(i + 1, i + 5) : "";
                        if (hex.chars().allMatch(h -> Character.digit(h, 16) >= 0) && hex.length() == 4) {
                            b.append((char) Integer.parseInt(hex, 16));
                            i += 4;
                        } else {
                            b.append('u');
                        }
                    }
                    default -> b.append(e);
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
