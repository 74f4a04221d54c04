# syntax=docker/dockerfile:1
#
# Segstore's container image: a Maven build stage, then a JRE-only runtime that runs as a fixed
# non-root user with its repositories on the /data volume.
#
#   docker build -t segstore .
#   docker run -d --name segstore -p 8080:8080 --stop-timeout 60 \
#     -v segstore-data:/data -v "$PWD/tokens.yaml:/etc/segstore/tokens/tokens.yaml:ro" segstore
#
# The service listens on 0.0.0.0 here, so it needs bearer tokens: mount them as the file that
# segstore.security.tokens-file names (SEGSTORE_SECURITY_TOKENS_FILE below). README.md, section
# "Running in containers and Kubernetes", describes the file and every setting.
#
# No Docker engine runs in this project's CI: src/test/java/io/segstore/deploy/DockerfileTest
# checks this file statically, and DockerEntrypointIT runs its ENTRYPOINT and HEALTHCHECK
# commands, with the same environment, outside Docker.

ARG JAVA_VERSION=17

# ---- build: the Maven wrapper builds target/segstore.jar, which is then split into layers ----
FROM eclipse-temurin:${JAVA_VERSION}-jdk-noble AS build
WORKDIR /build
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY src/main/ src/main/
# Tests need Debian's borg and real services: CI runs them (./mvnw verify); the image build
# neither compiles nor runs them (src/test is not in the build context, see .dockerignore).
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -ntp -Dmaven.test.skip=true package \
 && java -Djarmode=tools -jar target/segstore.jar extract --layers --destination /build/extracted

# ---- runtime: a JRE, the application as a thin jar plus lib/, and nothing else ----
FROM eclipse-temurin:${JAVA_VERSION}-jre-noble AS runtime
LABEL org.opencontainers.image.title="segstore" \
      org.opencontainers.image.description="Borg 1.2 repositories served over HTTP"

# A fixed uid/gid (10001), so that volume ownership, Kubernetes' runAsUser/fsGroup and the
# runAsNonRoot check agree with the image. /data belongs to it; everything else is read-only to it.
RUN groupadd --system --gid 10001 segstore \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin segstore \
 && mkdir -p /data /etc/segstore/tokens \
 && chown 10001:10001 /data \
 && chmod 0750 /data

WORKDIR /app
# Least changing first: dependencies, then the application's own classes (/app/segstore.jar, whose
# manifest puts lib/*.jar on the class path). A thin jar starts faster than the nested fat jar,
# which matters for the health probe below (a fresh JVM every interval).
COPY --from=build /build/extracted/dependencies/ ./
COPY --from=build /build/extracted/spring-boot-loader/ ./
COPY --from=build /build/extracted/snapshot-dependencies/ ./
COPY --from=build /build/extracted/application/ ./

# Standard Spring Boot binding: any property can be overridden with -e NAME=value.
#  SERVER_ADDRESS   all interfaces (inside the container); tokens are then required
#  SERVER_PORT      the HTTP port; the health probe reads it too
#  SEGSTORE_DATA_DIR  one sub-directory per repository, on the volume
#  SEGSTORE_SECURITY_TOKENS_FILE  the mounted tokens file (segstore.security.tokens-file)
ENV SERVER_ADDRESS=0.0.0.0 \
    SERVER_PORT=8080 \
    SEGSTORE_DATA_DIR=/data \
    SEGSTORE_SECURITY_TOKENS_FILE=/etc/segstore/tokens/tokens.yaml

VOLUME ["/data"]
EXPOSE 8080
USER 10001:10001

# SIGTERM starts Spring's graceful shutdown (spring.lifecycle.timeout-per-shutdown-phase, 30s):
# give `docker stop` more than that (--stop-timeout 60 or docker stop -t 60).
STOPSIGNAL SIGTERM

# The liveness group, probed by the jar's own health command (a JRE image has no curl). A small,
# quickly started JVM that leaves no perf-data file behind: it exits 0 on UP and 1 otherwise,
# and prints the status it saw.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx32m", "-XX:-UsePerfData", "-jar", "/app/segstore.jar", "health"]

# Heap from the container's memory limit (the rest is for metaspace, threads, direct buffers);
# an OutOfMemoryError ends the process so that the orchestrator restarts it (every acknowledged
# commit is durable, and start-up recovers the rest). More JVM options: JDK_JAVA_OPTIONS.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75.0", "-XX:InitialRAMPercentage=25.0", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/segstore.jar"]
