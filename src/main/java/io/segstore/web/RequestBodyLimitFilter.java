package io.segstore.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.regex.Pattern;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Bounds every request body except an object's (which StagedBody streams to disk and Borg's
 * maximum object size bounds): JSON and key bodies larger than {@code segstore.max-json-body}
 * are refused with 413 before they are read, and such bodies must declare their length.
 */
public final class RequestBodyLimitFilter extends OncePerRequestFilter {

    private static final Pattern OBJECT = Pattern.compile("^/repos/[^/]+/objects/[^/]+$");

    private final long limit;

    public RequestBodyLimitFilter(long limit) {
        this.limit = limit;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String uri = request.getRequestURI();
        boolean objectBody = "PUT".equals(request.getMethod()) && OBJECT.matcher(uri).matches() || uri.startsWith("/restic/");
        if (!objectBody) {
            long length = request.getContentLengthLong();
            if (length > limit) {
                ProblemWriter.write(request, response, Problems.PAYLOAD_TOO_LARGE,
                        "This request's body is " + length + " bytes; at most " + limit + " are accepted (segstore.max-json-body).");
                return;
            }
            if (length < 0 && request.getHeader("Transfer-Encoding") != null) {
                ProblemWriter.write(request, response, Problems.LENGTH_REQUIRED,
                        "This request's body needs a Content-Length (at most " + limit + " bytes); chunked bodies are not accepted.");
                return;
            }
        }
        chain.doFilter(request, response);
    }
}
