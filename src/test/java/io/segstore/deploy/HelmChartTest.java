package io.segstore.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.LintResult;
import io.segstore.deploy.HelmChart.Manifests;
import io.segstore.deploy.HelmChart.Tree;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * helm/segstore is linted and rendered in process (helm-java), and the rendered manifests are
 * checked against the service and the image: the probes call actuator paths that this running
 * service answers UP, the volume is mounted where SEGSTORE_DATA_DIR points, the pod runs as the
 * image's non-root user on a read-only root file system, Kubernetes waits longer than Spring's
 * graceful shutdown, the tokens Secret is mounted as the tokens file, and the optional objects
 * appear only when enabled.
 */
class HelmChartTest extends RunningServiceTestBase {

    static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    static final String TOKENS = """
            tokens:
              entries:
                - name: backup-client
                  sha256: %s
                  grants:
                    - repos: "host-*"
                      role: append
                - name: operator
                  sha256: %s
                  grants:
                    - repos: "*"
                      role: admin
            """.formatted(SHA, SHA.replace('0', '1'));

    static Manifests defaults;

    @BeforeAll
    static void renderDefaults() throws Exception {
        defaults = HelmChart.render("");
    }

    @Test
    void chartLintsWithoutWarnings() {
        LintResult lint = HelmChart.lint();
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).allSatisfy(m -> assertThat(m).doesNotContain("[WARNING]").doesNotContain("[ERROR]"));
    }

    @Test
    void defaultsRenderAStatefulSetBehindServicesAndNothingOptional() {
        assertThat(defaults.objects().stream().map(o -> (String) o.get("kind")).sorted().toList())
                .containsExactly("Service", "Service", "ServiceAccount", "StatefulSet");
        Map<String, Object> sts = defaults.statefulSet();
        assertThat(Tree.at(sts, "spec", "replicas")).isEqualTo(1);
        Map<String, Object> headless = defaults.named("Service", Tree.string(sts, "spec", "serviceName"));
        assertThat(Tree.at(headless, "spec", "clusterIP")).isEqualTo("None");
        Map<String, Object> service = defaults.named("Service", "backup-segstore");
        Map<String, Object> podLabels = Tree.map(Tree.at(sts, "spec", "template", "metadata", "labels"));
        assertThat(podLabels).containsAllEntriesOf(Tree.map(Tree.at(service, "spec", "selector")));
        assertThat(podLabels).containsAllEntriesOf(Tree.map(Tree.at(sts, "spec", "selector", "matchLabels")));
        assertThat(Tree.at(service, "spec", "ports", 0, "targetPort")).isEqualTo("http");
        assertThat(Tree.at(defaults.container(), "image")).isEqualTo("segstore:0.1.0");
        assertThat(defaults.container().get("resources")).isNotNull();
        // Without tokens the chart still renders, and says why the pod will not start.
        assertThat(defaults.all("Secret")).isEmpty();
        assertThat(defaults.env()).doesNotContainKey("SEGSTORE_SECURITY_TOKENS_FILE");
    }

    @Test
    void probesCallActuatorPathsThatTheServiceAnswersUp() throws Exception {
        Map<String, Object> container = defaults.container();
        String portName = Tree.string(container, "ports", 0, "name");
        Object containerPort = Tree.at(container, "ports", 0, "containerPort");
        assertThat(defaults.env()).containsEntry("SERVER_PORT", String.valueOf(containerPort));
        Map<String, String> paths = Map.of(
                "startupProbe", "/actuator/health/liveness",
                "livenessProbe", "/actuator/health/liveness",
                "readinessProbe", "/actuator/health/readiness");
        for (Map.Entry<String, String> probe : paths.entrySet()) {
            Map<String, Object> httpGet = Tree.map(Tree.at(container, probe.getKey(), "httpGet"));
            assertThat(httpGet).as(probe.getKey()).containsEntry("path", probe.getValue()).containsEntry("port", portName);
            HttpResponse<String> answer = get(probe.getValue());
            assertThat(answer.statusCode()).as("GET " + probe.getValue()).isEqualTo(200);
            assertThat(answer.body()).contains("\"status\":\"UP\"");
        }
        // The kubelet gives up on start-up only after a generous time (a long log replay after a crash).
        int startup = (Integer) Tree.at(container, "startupProbe", "failureThreshold") * (Integer) Tree.at(container, "startupProbe", "periodSeconds");
        assertThat(startup).isGreaterThanOrEqualTo(120);
        // A path that does not exist is not UP: the check above would catch a wrong probe path.
        assertThat(get("/actuator/health/startup").statusCode()).isEqualTo(404);
    }

    @Test
    void dataVolumeIsMountedWhereTheDataDirectoryIsConfigured() throws Exception {
        String dataDir = defaults.env().get("SEGSTORE_DATA_DIR");
        assertThat(dataDir).isEqualTo("/data");
        assertThat(defaults.volumeMount("data")).containsEntry("mountPath", dataDir);
        Map<String, Object> claim = Tree.map(Tree.at(defaults.statefulSet(), "spec", "volumeClaimTemplates", 0));
        assertThat(Tree.at(claim, "metadata", "name")).isEqualTo("data");
        assertThat(Tree.list(Tree.at(claim, "spec", "accessModes"))).containsExactly("ReadWriteOnce");
        assertThat(Tree.at(claim, "spec", "resources", "requests", "storage")).isEqualTo("10Gi");
        // The same directory as the image's VOLUME.
        Dockerfile dockerfile = Dockerfile.read();
        assertThat(dockerfile.finalStage().last("VOLUME").orElseThrow().execForm().orElseThrow()).containsExactly(dataDir);
        assertThat(defaults.env()).containsEntry("SERVER_ADDRESS", "0.0.0.0");

        Manifests moved = HelmChart.render("""
                persistence:
                  mountPath: /srv/segstore
                  size: 200Gi
                  storageClassName: fast
                """);
        assertThat(moved.env()).containsEntry("SEGSTORE_DATA_DIR", "/srv/segstore");
        assertThat(moved.volumeMount("data")).containsEntry("mountPath", "/srv/segstore");
        assertThat(Tree.at(moved.statefulSet(), "spec", "volumeClaimTemplates", 0, "spec", "storageClassName")).isEqualTo("fast");

        Manifests ephemeral = HelmChart.render("persistence:\n  enabled: false\n");
        assertThat(Tree.at(ephemeral.statefulSet(), "spec", "volumeClaimTemplates")).isNull();
        assertThat(ephemeral.volume("data")).containsKey("emptyDir");
        assertThat(ephemeral.volumeMount("data")).containsEntry("mountPath", "/data");
    }

    @Test
    void podRunsAsTheImagesNonRootUserWithAReadOnlyRootFileSystem() throws Exception {
        Map<String, Object> pod = defaults.podSpec();
        Map<String, Object> container = defaults.container();
        String imageUser = Dockerfile.read().finalStage().last("USER").orElseThrow().arguments();
        int uid = Integer.parseInt(imageUser.split(":")[0]);
        int gid = Integer.parseInt(imageUser.split(":")[1]);
        assertThat(Tree.at(pod, "securityContext", "runAsNonRoot")).isEqualTo(true);
        assertThat(Tree.at(pod, "securityContext", "runAsUser")).isEqualTo(uid);
        assertThat(Tree.at(pod, "securityContext", "runAsGroup")).isEqualTo(gid);
        assertThat(Tree.at(pod, "securityContext", "fsGroup")).isEqualTo(gid);
        assertThat(Tree.at(container, "securityContext", "runAsNonRoot")).isEqualTo(true);
        assertThat(Tree.at(container, "securityContext", "runAsUser")).isEqualTo(uid);
        assertThat(Tree.at(container, "securityContext", "readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(Tree.at(container, "securityContext", "allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(Tree.list(Tree.at(container, "securityContext", "capabilities", "drop"))).containsExactly("ALL");
        // With the root file system read-only, /tmp (JVM and Tomcat scratch space) is an emptyDir.
        assertThat(defaults.volumeMount("tmp")).containsEntry("mountPath", "/tmp");
        assertThat(defaults.volume("tmp")).containsKey("emptyDir");
        assertThat(pod).containsEntry("automountServiceAccountToken", false).containsEntry("enableServiceLinks", false);
    }

    @Test
    void kubernetesWaitsLongerThanTheGracefulShutdown() throws Exception {
        Map<String, Object> pod = defaults.podSpec();
        int grace = (Integer) pod.get("terminationGracePeriodSeconds");
        int shutdown = seconds(defaults.env().get("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE"));
        int preStop = Integer.parseInt((String) Tree.list(Tree.at(defaults.container(), "lifecycle", "preStop", "exec", "command")).get(1));
        assertThat(grace).isGreaterThan(shutdown + preStop);

        // The service's own default is graceful with the same timeout.
        Map<String, Object> app = Tree.map(HelmChart.yaml().load(Files.readString(Path.of("src/main/resources/application.yaml"))));
        assertThat(Tree.at(app, "server", "shutdown")).isEqualTo("graceful");
        assertThat(seconds((String) Tree.at(app, "spring", "lifecycle", "timeout-per-shutdown-phase"))).isEqualTo(shutdown);

        Manifests longer = HelmChart.render("shutdown:\n  timeoutSeconds: 100\nterminationGracePeriodSeconds: 150\n");
        assertThat(longer.env()).containsEntry("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE", "100s");
        assertThat(longer.podSpec()).containsEntry("terminationGracePeriodSeconds", 150);

        assertThatThrownBy(() -> HelmChart.render("terminationGracePeriodSeconds: 30\n"))
                .hasMessageContaining("terminationGracePeriodSeconds (30) must be more than");
        Manifests noHook = HelmChart.render("shutdown:\n  preStopSleepSeconds: 0\nterminationGracePeriodSeconds: 31\n");
        assertThat(noHook.container()).doesNotContainKey("lifecycle");
    }

    @Test
    void tokensSecretIsMountedAsTheTokensFile() throws Exception {
        Manifests withTokens = HelmChart.render(TOKENS);
        Map<String, Object> secret = withTokens.one("Secret");
        String secretName = Tree.string(secret, "metadata", "name");
        String file = new String(Base64.getDecoder().decode(Tree.string(secret, "data", "tokens.yaml")), StandardCharsets.UTF_8);
        Map<String, Object> tokens = Tree.map(HelmChart.yaml().load(file));
        List<Object> entries = Tree.list(tokens.get("tokens"));
        assertThat(entries).hasSize(2);
        assertThat(Tree.at(entries, 0, "name")).isEqualTo("backup-client");
        assertThat(Tree.at(entries, 0, "sha256")).isEqualTo(SHA);
        assertThat(Tree.at(entries, 0, "grants", 0, "role")).isEqualTo("append");
        assertThat(Tree.at(entries, 1, "grants", 0, "repos")).isEqualTo("*");

        assertThat(Tree.at(withTokens.volume("tokens"), "secret", "secretName")).isEqualTo(secretName);
        Map<String, Object> mount = withTokens.volumeMount("tokens");
        assertThat(mount).containsEntry("readOnly", true);
        String tokensFile = withTokens.env().get("SEGSTORE_SECURITY_TOKENS_FILE");
        assertThat(tokensFile).isEqualTo(mount.get("mountPath") + "/tokens.yaml");
        assertThat(Tree.at(withTokens.volume("tokens"), "secret", "items", 0, "path")).isEqualTo("tokens.yaml");
        // A change of the tokens rolls the pods.
        assertThat(Tree.string(withTokens.statefulSet(), "spec", "template", "metadata", "annotations", "checksum/tokens")).hasSize(64);

        Manifests existing = HelmChart.render("tokens:\n  existingSecret: segstore-tokens\n  key: tokens.yml\n");
        assertThat(existing.all("Secret")).isEmpty();
        assertThat(Tree.at(existing.volume("tokens"), "secret", "secretName")).isEqualTo("segstore-tokens");
        assertThat(Tree.at(existing.volume("tokens"), "secret", "items", 0, "key")).isEqualTo("tokens.yml");
        assertThat(existing.env()).containsEntry("SEGSTORE_SECURITY_TOKENS_FILE", "/etc/segstore/tokens/tokens.yml");

        assertThatThrownBy(() -> HelmChart.render(TOKENS.replace(SHA, "hunter2")))
                .hasMessageContaining("sha256 must be 64 hex digits");
    }

    @Test
    void containerEnvironmentBindsToTheIntendedSpringProperties() throws Exception {
        // Spring's own relaxed binding of environment variables, applied to the rendered env.
        Manifests rendered = HelmChart.render(TOKENS + "config:\n  segstore:\n    jobs:\n      threads: 4\n");
        Map<String, Object> env = new java.util.HashMap<>(rendered.env());
        env.put("SEGSTORE_LOCK_HOST_ID", "backup-segstore-0"); // valueFrom: the pod's name
        Binder binder = new Binder(ConfigurationPropertySources.from(
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)));
        assertThat(binder.bind("server.address", String.class).get()).isEqualTo("0.0.0.0");
        assertThat(binder.bind("server.port", Integer.class).get()).isEqualTo(8080);
        assertThat(binder.bind("segstore.data-dir", Path.class).get()).isEqualTo(Path.of("/data"));
        assertThat(binder.bind("segstore.lock.host-id", String.class).get()).isEqualTo("backup-segstore-0");
        assertThat(binder.bind("segstore.security.tokens-file", Path.class).get()).isEqualTo(Path.of("/etc/segstore/tokens/tokens.yaml"));
        assertThat(binder.bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class).get()).isEqualTo(Duration.ofSeconds(30));
        assertThat(binder.bind("spring.config.additional-location", String.class).get()).isEqualTo("optional:file:/etc/segstore/config/");
    }

    @Test
    void objectStoreValuesBindToTheTiersPropertiesWithCredentialsOnlyFromTheSecret() throws Exception {
        Manifests rendered = HelmChart.render("""
                replicaCount: 3
                s3:
                  stores:
                    main:
                      endpoint: https://s3.example.com
                      bucket: backups
                      prefix: segstore
                      pathStyle: true
                      existingSecret: segstore-s3
                  leaseTtl: 20s
                  defaultStorage: main
                """);
        Map<String, Object> statefulSet = rendered.one("StatefulSet");
        assertThat(Tree.map(statefulSet.get("spec")).get("replicas")).isEqualTo(3);
        Map<String, Object> env = new java.util.HashMap<>(rendered.env());
        assertThat(env).containsKeys("SEGSTORE_S3_STORES_MAIN_ACCESSKEY", "SEGSTORE_S3_STORES_MAIN_SECRETKEY");
        assertThat(env.get("SEGSTORE_S3_STORES_MAIN_SECRETKEY")).as("from the Secret, not a value").isNull();
        assertThat(env.get("SEGSTORE_S3_ADVERTISEURL")).isEqualTo("http://$(POD_NAME).backup-segstore-headless.$(POD_NAMESPACE).svc:8080");
        env.put("SEGSTORE_S3_STORES_MAIN_ACCESSKEY", "from-secret-a");
        env.put("SEGSTORE_S3_STORES_MAIN_SECRETKEY", "from-secret-s");
        env.put("SEGSTORE_S3_ADVERTISEURL", "http://backup-segstore-1.backup-segstore-headless.ns.svc:8080");
        Binder binder = new Binder(ConfigurationPropertySources.from(
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)));
        io.segstore.tier.S3Properties s3 = binder.bind("segstore.s3", io.segstore.tier.S3Properties.class).get();
        io.segstore.tier.S3Properties.Store main = s3.stores().get("main");
        assertThat(main.endpoint()).hasToString("https://s3.example.com");
        assertThat(main.bucket()).isEqualTo("backups");
        assertThat(main.prefix()).isEqualTo("segstore");
        assertThat(main.pathStyle()).isTrue();
        assertThat(main.accessKey()).isEqualTo("from-secret-a");
        assertThat(main.secretKey()).isEqualTo("from-secret-s");
        assertThat(s3.leaseTtl()).isEqualTo(Duration.ofSeconds(20));
        assertThat(s3.defaultStorage()).isEqualTo("main");
        assertThat(s3.advertiseUrl()).isEqualTo("http://backup-segstore-1.backup-segstore-headless.ns.svc:8080");
        String manifests = rendered.text();
        assertThat(manifests).doesNotContain("from-secret");

        assertThatThrownBy(() -> HelmChart.render("replicaCount: 2\n")).hasMessageContaining("needs s3.stores");
        assertThatThrownBy(() -> HelmChart.render("s3:\n  stores:\n    My-Store:\n      bucket: b\n"))
                .hasMessageContaining("lower-case letters and digits");
    }

    @Test
    void extraConfigurationIsAConfigMapThatSpringReads() throws Exception {
        Manifests configured = HelmChart.render("config:\n  segstore:\n    jobs:\n      threads: 4\n");
        Map<String, Object> configMap = configured.named("ConfigMap", "backup-segstore-config");
        Map<String, Object> application = Tree.map(HelmChart.yaml().load(Tree.string(configMap, "data", "application.yaml")));
        assertThat(Tree.at(application, "segstore", "jobs", "threads")).isEqualTo(4);
        assertThat(configured.volumeMount("config")).containsEntry("mountPath", "/etc/segstore/config");
        assertThat(configured.env()).containsEntry("SPRING_CONFIG_ADDITIONALLOCATION", "optional:file:/etc/segstore/config/");
        assertThat(defaults.all("ConfigMap")).isEmpty();
    }

    @Test
    void serviceMonitorOnlyWhenEnabledWithAConfigurablePath() throws Exception {
        assertThat(defaults.all("ServiceMonitor")).isEmpty();
        Manifests monitored = HelmChart.render("""
                metrics:
                  serviceMonitor:
                    enabled: true
                    path: /metrics/segstore
                    labels:
                      release: prometheus
                    authorization:
                      secretName: scrape-token
                """);
        Map<String, Object> monitor = monitored.one("ServiceMonitor");
        assertThat(monitor.get("apiVersion")).isEqualTo("monitoring.coreos.com/v1");
        assertThat(Tree.at(monitor, "metadata", "labels", "release")).isEqualTo("prometheus");
        Map<String, Object> endpoint = Tree.map(Tree.at(monitor, "spec", "endpoints", 0));
        assertThat(endpoint).containsEntry("path", "/metrics/segstore").containsEntry("port", "http");
        assertThat(Tree.at(endpoint, "authorization", "credentials", "name")).isEqualTo("scrape-token");
        Map<String, Object> service = monitored.named("Service", "backup-segstore");
        assertThat(Tree.map(Tree.at(service, "metadata", "labels"))).containsAllEntriesOf(Tree.map(Tree.at(monitor, "spec", "selector", "matchLabels")));
        assertThat(Tree.at(service, "spec", "ports", 0, "name")).isEqualTo("http");

        Manifests defaultPath = HelmChart.render("metrics:\n  serviceMonitor:\n    enabled: true\n");
        assertThat(Tree.at(defaultPath.one("ServiceMonitor"), "spec", "endpoints", 0, "path")).isEqualTo("/actuator/prometheus");
        assertThat(Tree.at(defaultPath.one("ServiceMonitor"), "spec", "endpoints", 0, "authorization")).isNull();
    }

    @Test
    void podDisruptionBudgetOnlyWhenEnabled() throws Exception {
        assertThat(defaults.all("PodDisruptionBudget")).isEmpty();
        Manifests budget = HelmChart.render("podDisruptionBudget:\n  enabled: true\n");
        Map<String, Object> pdb = budget.one("PodDisruptionBudget");
        assertThat(pdb.get("apiVersion")).isEqualTo("policy/v1");
        assertThat(Tree.map(pdb.get("spec"))).containsEntry("maxUnavailable", 1).doesNotContainKey("minAvailable");
        assertThat(Tree.map(Tree.at(budget.statefulSet(), "spec", "template", "metadata", "labels")))
                .containsAllEntriesOf(Tree.map(Tree.at(pdb, "spec", "selector", "matchLabels")));

        Map<String, Object> strict = HelmChart.render("podDisruptionBudget:\n  enabled: true\n  minAvailable: 1\n").one("PodDisruptionBudget");
        assertThat(Tree.map(strict.get("spec"))).containsEntry("minAvailable", 1).doesNotContainKey("maxUnavailable");
    }

    @Test
    void grafanaDashboardConfigMapOnlyWhenEnabledAndItsJsonPlotsTheServicesMetrics() throws Exception {
        assertThat(defaults.all("ConfigMap")).isEmpty();
        Manifests withDashboard = HelmChart.render("grafana:\n  dashboard:\n    enabled: true\n");
        Map<String, Object> configMap = withDashboard.named("ConfigMap", "backup-segstore-dashboard");
        assertThat(Tree.at(configMap, "metadata", "labels", "grafana_dashboard")).isEqualTo("1");
        String json = Tree.string(configMap, "data", "segstore.json");
        assertThat(json.strip()).isEqualTo(Files.readString(HelmChart.DIR.resolve("dashboards/segstore.json")).strip());

        JsonNode dashboard = JsonMapper.builder().build().readTree(json);
        assertThat(dashboard.get("uid").asString()).isEqualTo("segstore");
        List<String> expressions = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            JsonNode targets = panel.get("targets");
            if (targets != null) {
                targets.forEach(t -> expressions.add(t.get("expr").asString()));
            }
        }
        assertThat(expressions).anySatisfy(e -> assertThat(e).contains("http_server_requests_seconds"));
        assertThat(expressions).anySatisfy(e -> assertThat(e).contains("segstore_repository_quota_used_bytes"));
        assertThat(expressions).anySatisfy(e -> assertThat(e).contains("segstore_repository_segments"));
        assertThat(expressions).anySatisfy(e -> assertThat(e).contains("segstore_commit_seconds"));
        assertThat(expressions).anySatisfy(e -> assertThat(e).contains("segstore_fsync_seconds"));
    }

    @Test
    void everyValueIsDocumentedInTheChartReadme() throws Exception {
        Map<String, Object> values = Tree.map(HelmChart.yaml().load(Files.readString(HelmChart.DIR.resolve("values.yaml"))));
        String readme = Files.readString(HelmChart.DIR.resolve("README.md"));
        List<String> keys = new ArrayList<>();
        leaves("", values, keys);
        assertThat(keys).hasSizeGreaterThan(50);
        assertThat(keys).allSatisfy(key -> assertThat(readme).as("README.md documents " + key).contains("| `" + key + "` |"));
    }

    private static void leaves(String prefix, Map<String, Object> node, List<String> out) {
        for (Map.Entry<String, Object> e : node.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue() instanceof Map<?, ?> child && !child.isEmpty()
                    && !List.of("resources", "podSecurityContext", "securityContext", "startupProbe", "livenessProbe",
                            "readinessProbe", "persistence.retentionPolicy", "grafana.dashboard.labels").contains(key)) {
                leaves(key, Tree.map(child), out);
            } else {
                out.add(key);
            }
        }
    }

    private static int seconds(String duration) {
        assertThat(duration).matches("\\d+s");
        return Integer.parseInt(duration.substring(0, duration.length() - 1));
    }
}
