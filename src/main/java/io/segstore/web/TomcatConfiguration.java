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
        return factory -> {
            factory.addContextCustomizers(context -> {
                if (context.getParent() instanceof org.apache.catalina.core.StandardHost host) {
                    host.setErrorReportValveClass(ProblemErrorReportValve.class.getName());
                }
            });
            factory.addConnectorCustomizers(connector -> {
            connector.setEncodedSolidusHandling("passthrough");
            connector.setEncodedReverseSolidusHandling("passthrough");
            connector.setProperty("connectionTimeout", Long.toString(properties.uploadIdleTimeout().toMillis()));
            // a refused upload's body (up to a little over the largest object) is read and thrown away, so
            // the client receives the refusal instead of a reset connection; bigger bodies close it
            connector.setProperty("maxSwallowSize", Integer.toString(io.segstore.engine.format.SegmentFile.MAX_ENTRY_SIZE + (1 << 20)));
            });
        };
    }
}
