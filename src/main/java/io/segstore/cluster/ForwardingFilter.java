package io.segstore.cluster;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Sends a write for a repository in a bucket to the instance that holds its writer lease, so that
 * clients need no affinity: any instance answers any request. Writes are every request that is
 * not a GET or HEAD, and every request of a transaction (a transaction lives on its writer). The
 * request goes on unchanged (the caller's credentials included) and its answer comes back
 * unchanged. Runs after authentication; the holder authorises it again.
 */
@Component
public class ForwardingFilter extends OncePerRequestFilter {

    static final String FORWARDED = "Segstore-Forwarded-By";
    private static final Pattern REPO_PATH = Pattern.compile("^/repos/([^/]+)(/.*)?$");
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
            "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect");

    private final LeaseCoordinator coordinator;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();

    public ForwardingFilter(LeaseCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Matcher m = REPO_PATH.matcher(request.getRequestURI());
        if (!m.matches()) {
            chain.doFilter(request, response);
            return;
        }
        String name = m.group(1);
        String rest = m.group(2) == null ? "" : m.group(2);
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        boolean read = method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
        boolean write = (!read && !rest.isEmpty()) || (method.equals("DELETE") || method.equals("PATCH")) || rest.startsWith("/transactions")
                || request.getHeader(io.segstore.web.SegstoreHeaders.TRANSACTION) != null;
        if (!write) {
            chain.doFilter(request, response);
            return;
        }
        LeaseCoordinator.Route route;
        try {
            route = coordinator.route(name, request.getHeader(FORWARDED) != null);
        } catch (IOException | RuntimeException e) {
            response.setStatus(503);
            response.setHeader("Retry-After", "5");
            response.setContentType("application/problem+json");
            response.getWriter().write("{\"type\":\"https://segstore.io/problems/storage-error\",\"title\":\"Object store unavailable\","
                    + "\"status\":503,\"detail\":\"The writer lease of repository " + name.replace("\"", "")
                    + " could not be checked; try again.\"}");
            return;
        }
        if (route.local()) {
            chain.doFilter(request, response);
            return;
        }
        forward(route.holderUrl(), request, response);
    }

    private void forward(String holder, HttpServletRequest request, HttpServletResponse response) throws IOException {
        String target = holder + request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target)).timeout(Duration.ofMinutes(10));
        for (String h : Collections.list(request.getHeaderNames())) {
            if (HOP_BY_HOP.contains(h.toLowerCase(Locale.ROOT)) || h.equalsIgnoreCase(FORWARDED)) {
                continue;
            }
            for (String v : Collections.list(request.getHeaders(h))) {
                b.header(h, v);
            }
        }
        b.header(FORWARDED, coordinator.url());
        long length = request.getContentLengthLong();
        InputStream body = request.getInputStream();
        HttpRequest.BodyPublisher publisher = length == 0 ? HttpRequest.BodyPublishers.noBody()
                : length > 0 ? HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> body), length)
                : HttpRequest.BodyPublishers.ofInputStream(() -> body);
        b.method(request.getMethod(), publisher);
        HttpResponse<InputStream> answer;
        try {
            answer = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while forwarding to " + holder, e);
        } catch (IOException e) {
            response.setStatus(503);
            response.setHeader("Retry-After", "2");
            response.setContentType("application/problem+json");
            response.getWriter().write("{\"type\":\"https://segstore.io/problems/storage-error\",\"title\":\"Writer unreachable\","
                    + "\"status\":503,\"detail\":\"The instance holding this repository's writer lease did not answer; "
                    + "another instance takes over once the lease expires. Try again.\"}");
            return;
        }
        response.setStatus(answer.statusCode());
        answer.headers().map().forEach((h, values) -> {
            if (!HOP_BY_HOP.contains(h.toLowerCase(Locale.ROOT)) && !h.startsWith(":")) {
                for (String v : values) {
                    response.addHeader(h, v);
                }
            }
        });
        answer.headers().firstValueAsLong("content-length").ifPresent(response::setContentLengthLong);
        try (InputStream in = answer.body(); OutputStream out = response.getOutputStream()) {
            in.transferTo(out);
        }
    }

    /** Parts of the request that never go on. */
    static List<String> hopByHop() {
        return List.copyOf(HOP_BY_HOP);
    }
}
