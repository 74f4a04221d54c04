package io.segstore.web;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.servers.Server;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The served OpenAPI document. Its server URL is pinned to "/" so that the document does not
 * depend on the host and port it is fetched from, and the checked-in openapi.yaml can be
 * identical to it.
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfiguration {

    @Bean
    OpenAPI segstoreOpenApi() {
        return new OpenAPI()
                .info(new Info()
                        .title("Segstore")
                        .version("1")
                        .description("Borg 1.2 repositories (a transactional, log-structured chunk store) served over HTTP."))
                .servers(List.of(new Server().url("/")));
    }
}
