package io.segstore.security;

import io.segstore.web.ProblemWriter;
import io.segstore.web.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates a request by its token: {@code Authorization: Bearer <token>}, or HTTP Basic
 * with the token as the password (restic puts credentials in its URL). A request without
 * credentials goes on unauthenticated (the authorization rules then answer 401 where a token is
 * needed); one with malformed or unknown credentials is answered 401 here. Without configured
 * tokens every request is the local caller's.
 */
public final class BearerTokenFilter extends OncePerRequestFilter {

    /** Request attribute with the authenticated caller's name, for the audit line. */
    public static final String CALLER_ATTRIBUTE = "segstore.caller";
    private static final int MAX_CREDENTIALS = 4096;

    private final TokenRegistry tokens;

    public BearerTokenFilter(TokenRegistry tokens) {
        this.tokens = tokens;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!tokens.enabled()) {
            authenticate(request, Caller.LOCAL);
            chain.doFilter(request, response);
            return;
        }
        String header = request.getHeader("Authorization");
        if (header == null) {
            chain.doFilter(request, response);
            return;
        }
        String secret = secret(header);
        if (secret == null) {
            refuse(request, response, "invalid_request",
                    "The Authorization header must be \"Bearer <token>\" (or HTTP Basic with the token as the password).");
            return;
        }
        Caller caller = tokens.authenticate(secret);
        if (caller == null) {
            refuse(request, response, "invalid_token", "The token is not valid.");
            return;
        }
        authenticate(request, caller);
        chain.doFilter(request, response);
    }

    private static void authenticate(HttpServletRequest request, Caller caller) {
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(new CallerAuthentication(caller));
        SecurityContextHolder.setContext(context);
        request.setAttribute(CALLER_ATTRIBUTE, caller.name());
    }

    /** The token in a Bearer or Basic header, or null when the header is malformed. */
    static String secret(String header) {
        if (header.length() > MAX_CREDENTIALS) {
            return null;
        }
        int space = header.indexOf(' ');
        if (space <= 0) {
            return null;
        }
        String scheme = header.substring(0, space);
        String value = header.substring(space + 1);
        if (value.isEmpty() || value.indexOf(' ') >= 0 || !printableAscii(value)) {
            return null;
        }
        if (scheme.equalsIgnoreCase("Bearer")) {
            return value;
        }
        if (scheme.equalsIgnoreCase("Basic")) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
            int colon = decoded.indexOf(':');
            return colon < 0 || colon == decoded.length() - 1 ? null : decoded.substring(colon + 1);
        }
        return null;
    }

    private static boolean printableAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    static void challenge(HttpServletRequest request, HttpServletResponse response, String error) {
        String scheme = request.getRequestURI().startsWith("/restic/") ? "Basic realm=\"segstore\", charset=\"UTF-8\""
                : "Bearer realm=\"segstore\"" + (error == null ? "" : ", error=\"" + error + "\"");
        response.setHeader("WWW-Authenticate", scheme);
    }

    private static void refuse(HttpServletRequest request, HttpServletResponse response, String error, String detail) throws IOException {
        challenge(request, response, error);
        ProblemWriter.write(request, response, Problems.UNAUTHORIZED, detail);
    }
}
