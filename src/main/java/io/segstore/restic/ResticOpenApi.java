package io.segstore.restic;

import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The restic operations in the OpenAPI document authenticate with HTTP Basic (the token as the password). */
@Configuration(proxyBeanMethods = false)
class ResticOpenApi {

    static final String SCHEME = "resticBasic";

    @Bean
    OpenApiCustomizer resticSecurity() {
        return openApi -> {
            if (openApi.getComponents() != null) {
                // sorted, whichever customizer adds its scheme first: the document is the same on every start
                openApi.getComponents().setSecuritySchemes(new TreeMap<>(openApi.getComponents().getSecuritySchemes() == null
                        ? Map.of() : openApi.getComponents().getSecuritySchemes()));
                openApi.getComponents().addSecuritySchemes(SCHEME, new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP)
                        .scheme("basic")
                        .description("restic's credentials, from its repository URL `rest:https://NAME:TOKEN@HOST/restic/REPO/`: "
                                + "any user name, a token from segstore.security.tokens as the password (a Bearer token works "
                                + "too). A service without tokens needs none."));
            }
            if (openApi.getPaths() == null) {
                return;
            }
            openApi.getPaths().forEach((path, item) -> {
                if (path.startsWith("/restic/")) {
                    for (Operation o : operations(item)) {
                        o.setSecurity(List.of(new SecurityRequirement().addList(SCHEME)));
                    }
                }
            });
        };
    }

    private static List<Operation> operations(PathItem item) {
        return item.readOperations();
    }
}
