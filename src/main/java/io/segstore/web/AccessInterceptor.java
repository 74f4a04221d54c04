package io.segstore.web;

import io.segstore.security.AccessPolicy;
import io.segstore.service.Names;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import org.springframework.context.event.ContextRefreshedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Checks each request against its handler's {@link Requires} before the handler runs: the name
 * is validated first (a bad name is 400 for everyone), then the caller's role in that repository.
 */
@Component
public class AccessInterceptor implements HandlerInterceptor {

    private final AccessPolicy access;

    public AccessInterceptor(AccessPolicy access) {
        this.access = access;
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (!(handler instanceof HandlerMethod method) || !ours(method)) {
            return true;
        }
        Requires requires = method.getMethodAnnotation(Requires.class);
        if (requires == null) {
            throw new IllegalStateException("handler " + method + " has no @Requires"); // the start-up check prevents this
        }
        if (requires.perRepository()) {
            @SuppressWarnings("unchecked")
            Map<String, String> vars = (Map<String, String>) request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
            String repo = vars == null ? null : vars.get("repo");
            access.require(Names.repository(repo), requires.value());
            String txn = vars.get("txn") != null ? vars.get("txn") : request.getHeader(SegstoreHeaders.TRANSACTION);
            if (txn != null) {
                access.requireOwnTransaction(repo, txn);
            }
        }
        return true;
    }

    /** Every handler of Segstore's own packages (web, restic, ...): none is left unchecked by living elsewhere. */
    private static boolean ours(HandlerMethod method) {
        return method.getBeanType().getPackageName().startsWith("io.segstore.");
    }

    /** Refuses to start when a handler of ours lacks @Requires: no endpoint is open by omission. */
    @EventListener
    public void checkEveryHandler(ContextRefreshedEvent event) {
        for (RequestMappingHandlerMapping mapping : event.getApplicationContext().getBeansOfType(RequestMappingHandlerMapping.class).values()) {
            for (Map.Entry<RequestMappingInfo, HandlerMethod> e : mapping.getHandlerMethods().entrySet()) {
                HandlerMethod m = e.getValue();
                if (ours(m) && m.getMethodAnnotation(Requires.class) == null) {
                    throw new IllegalStateException("handler " + m + " (" + e.getKey() + ") has no @Requires: every endpoint "
                            + "must say what it needs");
                }
            }
        }
    }
}
