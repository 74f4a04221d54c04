package io.segstore.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * helm/segstore, linted and rendered in process by helm-java (Helm's Go code as a native library:
 * no helm binary, no cluster, no chart repository), and the rendered manifests as YAML trees.
 */
final class HelmChart {

    static final Path DIR = Path.of("helm", "segstore");
    /** The Kubernetes version the templates are rendered for (Helm's default, 1.20, is below the chart's kubeVersion). */
    static final String KUBE_VERSION = "1.30.0";
    static final String RELEASE = "backup";
    static final String NAMESPACE = "storage";

    private HelmChart() {
    }

    static LintResult lint() {
        return new Helm(DIR).lint().strict().call();
    }

    /** Renders the chart with these values (YAML text, "" for the defaults). */
    static Manifests render(String valuesYaml) throws IOException {
        Path values = Files.createTempFile("segstore-values", ".yaml");
        try {
            Files.writeString(values, valuesYaml, StandardCharsets.UTF_8);
            TemplateCommand template = new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE)
                    .withKubeVersion(KUBE_VERSION).withValuesFile(values);
            return Manifests.parse(template.call());
        } finally {
            Files.deleteIfExists(values);
        }
    }

    static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    /** The objects of one rendering. */
    record Manifests(String text, List<Map<String, Object>> objects) {

        static Manifests parse(String text) {
            List<Map<String, Object>> objects = new ArrayList<>();
            for (Object doc : yaml().loadAll(text)) {
                if (doc != null) {
                    objects.add(Tree.map(doc));
                }
            }
            return new Manifests(text, objects);
        }

        List<Map<String, Object>> all(String kind) {
            return objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        }

        Map<String, Object> one(String kind) {
            List<Map<String, Object>> found = all(kind);
            if (found.size() != 1) {
                throw new AssertionError("expected one " + kind + ", rendered " + found.size() + ":\n" + text);
            }
            return found.get(0);
        }

        Map<String, Object> named(String kind, String name) {
            return all(kind).stream().filter(o -> name.equals(Tree.at(o, "metadata", "name"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in:\n" + text));
        }

        Map<String, Object> statefulSet() {
            return one("StatefulSet");
        }

        Map<String, Object> podSpec() {
            return Tree.map(Tree.at(statefulSet(), "spec", "template", "spec"));
        }

        Map<String, Object> container() {
            List<Object> containers = Tree.list(Tree.at(podSpec(), "containers"));
            if (containers.size() != 1) {
                throw new AssertionError("expected one container: " + containers);
            }
            return Tree.map(containers.get(0));
        }

        /** The container's env as name -> value (valueFrom entries map to null). */
        Map<String, String> env() {
            Map<String, String> env = new java.util.LinkedHashMap<>();
            for (Object e : Tree.list(container().get("env"))) {
                Map<String, Object> var = Tree.map(e);
                env.put((String) var.get("name"), var.get("value") == null ? null : String.valueOf(var.get("value")));
            }
            return env;
        }

        Map<String, Object> volumeMount(String name) {
            return Tree.list(container().get("volumeMounts")).stream().map(Tree::map)
                    .filter(m -> name.equals(m.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no volume mount " + name + ": " + container().get("volumeMounts")));
        }

        Map<String, Object> volume(String name) {
            return Tree.list(podSpec().get("volumes")).stream().map(Tree::map)
                    .filter(v -> name.equals(v.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no volume " + name + ": " + podSpec().get("volumes")));
        }
    }

    /** Walking parsed YAML. */
    static final class Tree {

        private Tree() {
        }

        /** The node at this path of map keys (String) and list indices (Integer); null when absent. */
        static Object at(Object node, Object... path) {
            Object current = node;
            for (Object step : path) {
                if (current instanceof Map<?, ?> map) {
                    current = map.get(step);
                } else if (current instanceof List<?> list && step instanceof Integer i) {
                    current = i < list.size() ? list.get(i) : null;
                } else {
                    return null;
                }
            }
            return current;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> map(Object node) {
            if (!(node instanceof Map)) {
                throw new AssertionError("not a map: " + node);
            }
            return (Map<String, Object>) node;
        }

        @SuppressWarnings("unchecked")
        static List<Object> list(Object node) {
            if (!(node instanceof List)) {
                throw new AssertionError("not a list: " + node);
            }
            return (List<Object>) node;
        }

        static String string(Object node, Object... path) {
            return Objects.toString(at(node, path), null);
        }
    }
}
