package io.segstore.web;

import io.segstore.service.SegstoreProperties;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Tomcat settings the API relies on: encoded slashes and dots in a path reach the application
 * (which answers them with its own 400 problem, instead of Tomcat's HTML page), and a request
 * body that stalls longer than segstore.upload-idle-timeout is cut off.
 */
@Configuration(proxyBeanMethods = false)
public class TomcatConfiguration {

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> segstoreTomcat(SegstoreProperties properties) {
        return factory -> factory.addConnectorCustomizers(connector -> {
            connector.setEncodedSolidusHandling("passthrough");
            connector.setEncodedReverseSolidusHandling("passthrough");
            connector.setProperty("connectionTimeout", Long.toString(properties.uploadIdleTimeout().toMillis()));
            // a refused upload's body is read and thrown away up to this size, then the connection is closed
            connector.setProperty("maxSwallowSize", Integer.toString(2 * 1024 * 1024));
        });
    }
}
