package io.segstore.web;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.JsonSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.servers.Server;
import io.swagger.v3.oas.models.tags.Tag;
import java.math.BigDecimal;
import java.util.List;
import java.util.TreeMap;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The served OpenAPI document. Its server URL is pinned to "/" so that the document does not
 * depend on the host and port it is fetched from, and the checked-in openapi.yaml can be
 * identical to it. Nothing in it depends on configuration either (tests run with other limits).
 *
 * <p>What every operation shares is added here by rule rather than annotated on each method:
 * descriptions of the common path variables and headers, the error responses that follow from
 * an operation's signature (see {@link OpenApiProblems}), the ProblemDetail schema with an
 * example per problem type, and the response headers.
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfiguration {

    static final String JSON = "application/json";
    static final String HEADER_REF = "#/components/headers/";

    /** Response headers, referenced by operations as {@code #/components/headers/<name>}. */
    static final String LOCATION = "Location";
    static final String ETAG = "ETag";
    static final String CONTENT_LENGTH = "Content-Length";

    private static final String DESCRIPTION = """
            Borg 1.2 repositories (a transactional, log-structured chunk store) served over HTTP.

            **Names.** A repository name is `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`; an object id is 64 hex digits \
            (32 bytes), answered in lower case.

            **Bodies.** Objects are `application/octet-stream` (at most 20971479 bytes each); every other body is \
            JSON; every error is `application/problem+json` (RFC 9457) with a stable `type` per kind of error.

            **Transactions.** A repository has one writer at a time, held as a lease by a transaction \
            (`POST /repos/{repo}/transactions`). A write names its transaction with `Segstore-Transaction: <id>`; \
            a read with that header sees the transaction's own writes. A write without it is an *autocommit*: \
            durable before the answer, grouped with concurrent ones into one commit, and answered with \
            `Segstore-Committed-Transaction`. While a transaction holds the writer, autocommits and other begins \
            answer 423 with `Retry-After`, unless `Segstore-Lock-Wait: <seconds>` lets them wait. A lease that sees \
            no request for its `leaseSeconds` is rolled back.

            **Jobs.** Compaction and check run in the background: starting one answers 202 with a `Location` to poll.

            **restic.** restic's REST backend protocol (versions 1 and 2) is served under `/restic/{repo}/` on the same \
            repositories, with HTTP Basic credentials whose password is a token; its status codes are rest-server's.

            ## Problem types

            """;

    @Bean
    OpenAPI segstoreOpenApi() {
        return new OpenAPI()
                .info(new Info()
                        .title("Segstore")
                        .version("1")
                        .description(DESCRIPTION + OpenApiProblems.table()))
                .servers(List.of(new Server().url("/")))
                .tags(List.of(
                        new Tag().name("repositories").description("Create, describe, change and destroy repositories"),
                        new Tag().name("objects").description("Read, write, delete and list objects; the deduplication "
                                + "query and the binary index download"),
                        new Tag().name("transactions").description("The writer lease: begin, inspect, renew, commit, roll back"),
                        new Tag().name("maintenance").description("Compaction and check jobs, Borg's key and nonce, the "
                                + "append-only history, lock break"),
                        new Tag().name("restic").description("restic's REST backend protocol (v1 and v2) on the same "
                                + "repositories: `rest:https://NAME:TOKEN@HOST/restic/REPO/`")));
    }

    /** Per operation: shared parameter descriptions, error responses by rule, JSON for what Spring answers. */
    @Bean
    OperationCustomizer segstoreOperations() {
        return (operation, method) -> {
            describeParameters(operation);
            jsonInsteadOfAnything(operation);
            tidy(operation);
            OpenApiProblems.addResponses(operation, method);
            sortResponses(operation);
            return operation;
        };
    }

    /** Components every operation refers to: the problem schema and examples, the response headers. */
    @Bean
    OpenApiCustomizer segstoreComponents() {
        return openApi -> {
            Components c = openApi.getComponents() == null ? new Components() : openApi.getComponents();
            OpenApiProblems.addComponents(c);
            c.addHeaders(LOCATION, new Header()
                    .description("Where the created resource (or the started job) can be read")
                    .schema(schema("string").format("uri-reference")));
            c.addHeaders(ETAG, new Header()
                    .description("Names the committed state the index download shows (repository id and transaction id)")
                    .schema(schema("string"))
                    .example("\"cbd71363cb41e92d\""));
            c.addHeaders(CONTENT_LENGTH, new Header()
                    .description("The object's length in bytes")
                    .schema(schema("integer").format("int64")));
            c.addHeaders(ObjectController.COMMITTED, new Header()
                    .description("Autocommit only (no Segstore-Transaction): the transaction id of the commit that made this "
                            + "write durable")
                    .schema(schema("integer").format("int64"))
                    .example(3));
            OpenApiSchemas.describe(c);
            c.addSecuritySchemes("token", new io.swagger.v3.oas.models.security.SecurityScheme()
                    .type(io.swagger.v3.oas.models.security.SecurityScheme.Type.HTTP)
                    .scheme("bearer")
                    .description("A token from segstore.security.tokens (configured there as its SHA-256). A service "
                            + "without tokens listens on loopback only and needs none."));
            openApi.setSecurity(List.of(new io.swagger.v3.oas.models.security.SecurityRequirement().addList("token")));
            openApi.setComponents(sorted(c));
        };
    }

    /** A JSON Schema (OpenAPI 3.1) of one type. */
    static Schema<Object> schema(String type) {
        Schema<Object> s = new JsonSchema();
        s.typesItem(type);
        return s;
    }

    private static void describeParameters(Operation operation) {
        if (operation.getParameters() == null) {
            return;
        }
        for (Parameter p : operation.getParameters()) {
            switch (p.getIn() + " " + p.getName()) {
                case "path repo" -> p.description("Repository name: 1 to 64 characters of `A-Z a-z 0-9 . _ -`, "
                                + "starting with a letter or digit")
                        .schema(schema("string").pattern("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))
                        .example("demo");
                case "path id" -> p.description("Object id: 64 hex digits (32 bytes)")
                        .schema(schema("string").pattern("^[0-9A-Fa-f]{64}$"))
                        .example("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
                case "path txn" -> p.description("Transaction id, as begin returned it")
                        .example("J6k0scKJLa7CMEKfDLry_g");
                case "path job" -> p.description("Job id, as the start of the job returned it (its Location)")
                        .example("P8vIxWJRu5yjhKVs");
                case "header " + SegstoreHeaders.TRANSACTION -> p.description("The transaction this request works in (its "
                                + "id from begin); the request keeps its lease alive. A write without it is an autocommit. "
                                + "A read with it sees the transaction's own writes.")
                        .example("J6k0scKJLa7CMEKfDLry_g");
                case "header " + SegstoreHeaders.LOCK_WAIT -> p.description("Seconds to wait for the writer while another "
                                + "transaction holds it, instead of answering 423 at once; 0 to segstore.max-lock-wait "
                                + "(default 300), fractions allowed")
                        .schema(schema("number").minimum(BigDecimal.ZERO))
                        .example(10);
                case "query lockWait" -> p.description("The same as the " + SegstoreHeaders.LOCK_WAIT
                                + " header, for clients that cannot set headers (the header wins)")
                        .schema(schema("number").minimum(BigDecimal.ZERO));
                case "header If-None-Match" -> p.description("An ETag of an earlier download: 304 while the repository's "
                                + "committed state is still the one it names (`*` always matches)")
                        .example("\"cbd71363cb41e92d\"");
                default -> {
                }
            }
        }
    }

    /** Spring answers a JSON body to any Accept that allows it: say application/json, not any type. */
    private static void jsonInsteadOfAnything(Operation operation) {
        if (operation.getResponses() == null) {
            return;
        }
        for (ApiResponse r : operation.getResponses().values()) {
            Content content = r.getContent();
            if (content != null && content.containsKey("*/*")) {
                MediaType any = content.remove("*/*");
                content.putIfAbsent(JSON, any);
            }
        }
    }

    /**
     * What the annotations leave behind that the document does not need: an example's
     * description repeating its name, and a style next to a header's $ref.
     */
    private static void tidy(Operation operation) {
        if (operation.getRequestBody() != null) {
            tidy(operation.getRequestBody().getContent());
        }
        if (operation.getResponses() == null) {
            return;
        }
        for (ApiResponse r : operation.getResponses().values()) {
            tidy(r.getContent());
            if (r.getHeaders() != null) {
                r.getHeaders().values().stream().filter(h -> h.get$ref() != null).forEach(h -> h.setStyle(null));
            }
        }
    }

    private static void tidy(Content content) {
        if (content == null) {
            return;
        }
        for (MediaType m : content.values()) {
            if (m.getExamples() != null) {
                m.getExamples().forEach((name, e) -> {
                    if (name.equals(e.getDescription())) {
                        e.setDescription(null);
                    }
                });
            }
        }
    }

    private static void sortResponses(Operation operation) {
        ApiResponses sorted = new ApiResponses();
        new TreeMap<>(operation.getResponses()).forEach(sorted::addApiResponse);
        operation.setResponses(sorted);
    }

    /** Schemas and headers in name order (examples stay in order of status), the same on every start. */
    private static Components sorted(Components c) {
        if (c.getSchemas() != null) {
            c.setSchemas(new TreeMap<>(c.getSchemas()));
        }
        if (c.getHeaders() != null) {
            c.setHeaders(new TreeMap<>(c.getHeaders()));
        }
        return c;
    }
}
