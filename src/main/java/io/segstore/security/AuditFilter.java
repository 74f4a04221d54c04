package io.segstore.security;

import io.segstore.web.SegstoreHeaders;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * One line on the {@code segstore.audit} logger for every request that may change state (and
 * every refused one): who, which repository, what, in which transaction, and how it ended. It
 * runs outside the security filters, so refusals (401, 403) are recorded too.
 */
public final class AuditFilter extends OncePerRequestFilter {

    private static final System.Logger AUDIT = System.getLogger("segstore.audit");
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern REPOSITORY = Pattern.compile("^/(?:repos|restic)/([^/]+)");
    private static final Pattern TRANSACTION = Pattern.compile("/transactions/([^/]+)");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long started = System.nanoTime();
        boolean failed = true;
        try {
            chain.doFilter(request, response);
            failed = false;
        } finally {
            int status = failed ? 500 : response.getStatus();
            if (!READS.contains(request.getMethod()) || status == 401 || status == 403) {
                AUDIT.log(System.Logger.Level.INFO, line(request, response, status, (System.nanoTime() - started) / 1_000_000));
            }
        }
    }

    private static String line(HttpServletRequest request, HttpServletResponse response, int status, long millis) {
        String uri = request.getRequestURI();
        Object caller = request.getAttribute(BearerTokenFilter.CALLER_ATTRIBUTE);
        Matcher repo = REPOSITORY.matcher(uri);
        String txn = request.getHeader(SegstoreHeaders.TRANSACTION);
        if (txn == null) {
            Matcher m = TRANSACTION.matcher(uri);
            if (m.find()) {
                txn = m.group(1);
            } else if (response.getHeader("Location") != null && response.getHeader("Location").contains("/transactions/")) {
                txn = response.getHeader("Location").replaceAll(".*/transactions/", "");
            }
        }
        String committed = response.getHeader("Segstore-Committed-Transaction");
        return "caller=" + (caller == null ? "-" : caller)
                + " repo=" + (repo.find() ? clean(repo.group(1)) : "-")
                + " op=\"" + request.getMethod() + " " + clean(uri) + "\""
                + " txn=" + (txn == null ? "-" : clean(txn))
                + " status=" + status
                + (committed == null ? "" : " committed=" + committed)
                + " ms=" + millis
                + " from=" + request.getRemoteAddr();
    }

    /** Keeps a client-chosen string from forging or breaking audit lines. */
    private static String clean(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(c < 0x21 || c == 0x7f || c == '"' ? '_' : c);
        }
        return b.toString();
    }
}
