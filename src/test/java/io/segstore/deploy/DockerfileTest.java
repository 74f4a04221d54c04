package io.segstore.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.segstore.deploy.Dockerfile.Instruction;
import io.segstore.deploy.Dockerfile.Stage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile, checked statically (no Docker engine here): a Maven build stage and a JRE-only
 * runtime, a fixed non-root user, the data directory on a volume, exec-form ENTRYPOINT and a
 * HEALTHCHECK that runs the jar's own health command. DockerEntrypointIT runs those commands.
 */
class DockerfileTest {

    static Dockerfile dockerfile;

    @BeforeAll
    static void parse() throws Exception {
        dockerfile = Dockerfile.read();
    }

    @Test
    void buildsWithTheMavenWrapperInOneStageAndRunsOnAJreInAnother() throws Exception {
        assertThat(dockerfile.stages).hasSizeGreaterThanOrEqualTo(2);
        Stage build = dockerfile.stage("build").orElseThrow(() -> new AssertionError("no stage named build"));
        assertThat(dockerfile.resolve(build.image())).startsWith("eclipse-temurin:").contains("-jdk");
        List<Instruction> runs = build.all("RUN");
        assertThat(runs).anySatisfy(run -> assertThat(run.arguments()).contains("./mvnw ").contains(" package"));
        assertThat(runs).anySatisfy(run -> assertThat(run.arguments())
                .contains("java -Djarmode=tools -jar target/segstore.jar extract --layers --destination /build/extracted"));

        Stage runtime = dockerfile.finalStage();
        assertThat(runtime).isNotSameAs(build);
        String image = dockerfile.resolve(runtime.image());
        assertThat(image).startsWith("eclipse-temurin:").contains("-jre").doesNotContain("jdk").doesNotEndWith(":latest");
        // The runtime has nothing of the build but what it copies from it.
        assertThat(runtime.all("RUN")).noneSatisfy(run -> assertThat(run.arguments()).contains("mvnw"));

        // The images' Java is the one the project compiles for.
        String pom = Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8);
        Matcher javaVersion = Pattern.compile("<java.version>(\\d+)</java.version>").matcher(pom);
        assertThat(javaVersion.find()).isTrue();
        assertThat(Integer.parseInt(dockerfile.globalArgs.get("JAVA_VERSION"))).isGreaterThanOrEqualTo(Integer.parseInt(javaVersion.group(1)));
    }

    @Test
    void runtimeHoldsTheExtractedLayersUnderItsWorkdir() {
        Stage runtime = dockerfile.finalStage();
        assertThat(runtime.last("WORKDIR").orElseThrow().arguments()).isEqualTo("/app");
        List<Instruction> copies = runtime.all("COPY");
        assertThat(copies).allSatisfy(copy -> assertThat(copy.flags()).containsEntry("from", "build"));
        assertThat(copies.stream().map(c -> c.words().get(0)).toList()).containsExactly(
                "/build/extracted/dependencies/", "/build/extracted/spring-boot-loader/",
                "/build/extracted/snapshot-dependencies/", "/build/extracted/application/");
        assertThat(copies).allSatisfy(copy -> assertThat(copy.words().get(1)).isEqualTo("./"));
    }

    @Test
    void runsAsAFixedNonRootUser() {
        Stage runtime = dockerfile.finalStage();
        String user = runtime.last("USER").orElseThrow(() -> new AssertionError("no USER: the image would run as root")).arguments();
        assertThat(user).as("numeric uid:gid, so that Kubernetes' runAsNonRoot can check it").matches("\\d+:\\d+");
        int uid = Integer.parseInt(user.split(":")[0]);
        int gid = Integer.parseInt(user.split(":")[1]);
        assertThat(uid).isNotZero();
        assertThat(gid).isNotZero();
        String setup = String.join("\n", runtime.all("RUN").stream().map(Instruction::arguments).toList());
        assertThat(setup).contains("groupadd --system --gid " + gid + " ").contains("--uid " + uid + " --gid " + gid);
        // The data directory belongs to that user; USER comes after every RUN that needs root.
        assertThat(setup).contains("chown " + uid + ":" + gid + " /data");
        int userLine = runtime.last("USER").orElseThrow().line();
        assertThat(runtime.all("RUN")).allSatisfy(run -> assertThat(run.line()).isLessThan(userLine));
    }

    @Test
    void dataDirectoryIsTheVolumeAndTheServiceListensOnAllInterfaces() {
        Stage runtime = dockerfile.finalStage();
        Map<String, String> env = runtime.env();
        List<String> volumes = runtime.last("VOLUME").orElseThrow().execForm().orElseThrow();
        assertThat(volumes).containsExactly(env.get("SEGSTORE_DATA_DIR"));
        assertThat(env.get("SEGSTORE_DATA_DIR")).isEqualTo("/data");
        assertThat(env).containsEntry("SERVER_ADDRESS", "0.0.0.0");
        assertThat(runtime.last("EXPOSE").orElseThrow().arguments()).isEqualTo(env.get("SERVER_PORT"));
        // Listening beyond loopback needs tokens: the image names the mounted tokens file.
        assertThat(env.get("SEGSTORE_SECURITY_TOKENS_FILE")).startsWith("/etc/segstore/tokens/");
    }

    @Test
    void entrypointIsExecFormJavaWithContainerAwareMemory() {
        Stage runtime = dockerfile.finalStage();
        List<String> entrypoint = runtime.last("ENTRYPOINT").orElseThrow().execForm()
                .orElseThrow(() -> new AssertionError("ENTRYPOINT in shell form: java would not get SIGTERM"));
        assertThat(entrypoint.get(0)).isEqualTo("java");
        assertThat(entrypoint).contains("-XX:+ExitOnOutOfMemoryError");
        assertThat(entrypoint).anySatisfy(flag -> assertThat(flag).startsWith("-XX:MaxRAMPercentage="));
        assertThat(entrypoint).noneSatisfy(flag -> assertThat(flag).startsWith("-Xmx"));
        assertThat(entrypoint.subList(entrypoint.size() - 2, entrypoint.size())).containsExactly("-jar", "/app/segstore.jar");
        assertThat(runtime.all("CMD")).isEmpty();
        assertThat(runtime.last("STOPSIGNAL").orElseThrow().arguments()).isEqualTo("SIGTERM");
    }

    @Test
    void healthcheckRunsTheJarsHealthCommand() {
        Stage runtime = dockerfile.finalStage();
        Instruction healthcheck = runtime.last("HEALTHCHECK").orElseThrow();
        List<String> command = healthcheck.execForm().orElseThrow(() -> new AssertionError("HEALTHCHECK CMD in shell form"));
        List<String> entrypoint = runtime.last("ENTRYPOINT").orElseThrow().execForm().orElseThrow();
        assertThat(command.get(0)).isEqualTo("java");
        int jar = command.indexOf("-jar");
        assertThat(jar).isPositive();
        assertThat(command.get(jar + 1)).isEqualTo(entrypoint.get(entrypoint.size() - 1));
        assertThat(command.subList(jar + 2, command.size())).containsExactly("health");
        // A probe JVM must be small: it must not take the service's heap share of the container.
        assertThat(command).contains("-Xmx32m");
        assertThat(healthcheck.flags()).containsKeys("interval", "timeout", "start-period", "retries");
        assertThat(seconds(healthcheck.flags().get("timeout"))).as("longer than the command's own 5 s timeout").isGreaterThan(5);
    }

    @Test
    void dockerignoreLetsInOnlyWhatTheBuildCopies() throws Exception {
        List<String> rules = Files.readAllLines(Path.of(".dockerignore"), StandardCharsets.UTF_8).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertThat(rules.get(0)).as("everything excluded first, then what the build needs").isEqualTo("*");
        List<String> allowed = rules.stream().filter(r -> r.startsWith("!")).map(r -> r.substring(1)).toList();
        Stage build = dockerfile.stage("build").orElseThrow();
        for (Instruction copy : build.all("COPY")) {
            List<String> words = copy.words();
            for (String source : words.subList(0, words.size() - 1)) {
                assertThat(allowed).as("COPY " + source + " needs it in the build context")
                        .anySatisfy(a -> assertThat(a.startsWith(source) || source.startsWith(a)).isTrue());
                assertThat(Path.of(source)).exists();
            }
        }
        assertThat(allowed).noneMatch(a -> a.startsWith("target") || a.startsWith("data") || a.startsWith(".git") || a.startsWith("src/test"));
    }

    private static int seconds(String duration) {
        assertThat(duration).matches("\\d+s");
        return Integer.parseInt(duration.substring(0, duration.length() - 1));
    }
}
