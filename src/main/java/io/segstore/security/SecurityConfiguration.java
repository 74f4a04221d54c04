package io.segstore.security;

import io.segstore.service.SegstoreProperties;
import io.segstore.web.ProblemWriter;
import io.segstore.web.RequestBodyLimitFilter;
import io.segstore.web.Problems;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.firewall.HttpFirewall;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.security.web.firewall.StrictHttpFirewall;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;

/**
 * The filter chain: stateless, no sessions, no CSRF (no cookies are ever used), tokens read by
 * {@link BearerTokenFilter}. Health probes and the API documentation are open; the rest of the
 * actuator needs an administrator (or the metrics role for metrics); every API request needs a
 * token, and what it may do in each repository is decided by {@link AccessPolicy}.
 */
@Configuration
public class SecurityConfiguration {

    @Bean
    TokenRegistry tokenRegistry(SegstoreProperties properties) {
        return new TokenRegistry(properties.security());
    }

    /**
     * The firewall's usual refusals of encoded slashes, dots and backslashes would answer before
     * the application could say which name or id is bad: names and ids are checked strictly by
     * the application (and never become paths unchecked), so those get through to it. Anything
     * else the firewall refuses still gets a problem document.
     */
    @Bean
    HttpFirewall httpFirewall() {
        StrictHttpFirewall firewall = new StrictHttpFirewall();
        firewall.setAllowUrlEncodedSlash(true);
        firewall.setAllowUrlEncodedPeriod(true);
        firewall.setAllowBackSlash(true);
        firewall.setAllowUrlEncodedPercent(true); // Tomcat passes %2F through undecoded, leaving a "%" in the path
        return firewall;
    }

    @Bean
    RequestRejectedHandler requestRejectedHandler() {
        return (request, response, ex) -> ProblemWriter.write(request, response, Problems.BAD_REQUEST,
                "The request was refused: " + ex.getMessage() + ".");
    }

    /** The audit line wraps the security filters (whose order is -100), so it sees refusals too. */
    @Bean
    FilterRegistrationBean<AuditFilter> auditFilter() {
        FilterRegistrationBean<AuditFilter> registration = new FilterRegistrationBean<>(new AuditFilter());
        registration.setOrder(-101);
        return registration;
    }

    /** Body limits apply after authentication, so that an unknown client learns nothing but 401. */
    @Bean
    FilterRegistrationBean<RequestBodyLimitFilter> bodyLimitFilter(SegstoreProperties properties) {
        FilterRegistrationBean<RequestBodyLimitFilter> registration =
                new FilterRegistrationBean<>(new RequestBodyLimitFilter(properties.maxJsonBody()));
        registration.setOrder(-99);
        return registration;
    }

    @Bean
    SecurityFilterChain filterChain(HttpSecurity http, TokenRegistry tokens) throws Exception {
        http.csrf(c -> c.disable())
                .httpBasic(b -> b.disable())
                .formLogin(f -> f.disable())
                .logout(l -> l.disable())
                .requestCache(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                // not a bean: Boot would register it a second time as a servlet filter
                .addFilterBefore(new BearerTokenFilter(tokens), AnonymousAuthenticationFilter.class)
                .exceptionHandling(e -> e
                        .authenticationEntryPoint((request, response, ex) -> {
                            BearerTokenFilter.challenge(request, response, null);
                            ProblemWriter.write(request, response, Problems.UNAUTHORIZED,
                                    "A valid token is required: Authorization: Bearer <token>.");
                        })
                        .accessDeniedHandler((request, response, ex) -> ProblemWriter.write(request, response, Problems.FORBIDDEN,
                                "This token may not use " + request.getRequestURI() + ".")))
                .authorizeHttpRequests(a -> a
                        .requestMatchers(EndpointRequest.to("health")).permitAll()
                        .requestMatchers(EndpointRequest.to("repositories", "prometheus"))
                        .hasAnyAuthority(CallerAuthentication.METRICS, CallerAuthentication.ADMINISTRATOR)
                        .requestMatchers(EndpointRequest.toAnyEndpoint()).hasAuthority(CallerAuthentication.ADMINISTRATOR)
                        .requestMatchers("/v3/api-docs", "/v3/api-docs/**", "/v3/api-docs.yaml", "/swagger-ui.html", "/swagger-ui/**").permitAll()
                        .requestMatchers("/error").permitAll()
                        .anyRequest().authenticated());
        return http.build();
    }
}
