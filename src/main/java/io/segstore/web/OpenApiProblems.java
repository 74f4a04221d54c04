package io.segstore.web;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.JsonSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.springframework.core.MethodParameter;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.method.HandlerMethod;

/**
 * The problem types in the OpenAPI document: a shared ProblemDetail schema, one example per
 * type, and the error responses of each operation. The responses that follow from an
 * operation's signature are added by rule (see {@link #problemsOf}); those that follow from
 * what the service does are named on the method with {@link ApiProblems}.
 */
final class OpenApiProblems {

    static final String PROBLEM_JSON = "application/problem+json";
    static final String SCHEMA = "ProblemDetail";
    static final String SCHEMA_REF = "#/components/schemas/" + SCHEMA;
    static final String EXAMPLE_REF = "#/components/examples/";

    /** How one problem type is documented: when it happens, and a real example of it. */
    record Doc(Problems.Type type, String when, String instance, String detail, Map<String, Object> extra, String retryAfter) {
    }

    private static final Map<String, Doc> DOCS = new LinkedHashMap<>();

    private static final String OBJ = "/repos/demo/objects/";
    private static final String ID1 = "0000000000000000000000000000000000000000000000000000000000000001";
    private static final String TXN = "J6k0scKJLa7CMEKfDLry_g";
    private static final String RESTIC = "/restic/demo/";
    private static final String NAME = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    static {
        doc(Problems.BAD_REPOSITORY_NAME, "The repository name in the path is not 1 to 64 characters of `A-Z a-z 0-9 . _ -` "
                        + "starting with a letter or digit (an encoded slash or dot segment included).", "/repos/b%2Fd",
                "A repository name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit; got \"b/d\".");
        doc(Problems.BAD_OBJECT_ID, "An object id, in the path or in a request body, is not 64 hexadecimal digits.", OBJ + "xyz",
                "An object id is 64 hexadecimal digits (32 bytes); got \"xyz\".");
        doc(Problems.BAD_PARAMETER, "A parameter, header or body field is out of range or inconsistent (`limit`, `order`, "
                        + "`leaseSeconds`, `Segstore-Lock-Wait`, `threshold`, `maxDurationSeconds`, `verify`, `storageQuota`, "
                        + "`maxSegmentSize`, `segmentsPerDir`, a nonce, too many ids...).", "/repos/demo/objects",
                "limit must be 1..10000.");
        doc(Problems.BAD_MARKER, "A listing `marker` that no listing of this order returned.", "/repos/demo/objects",
                "This marker was not returned by a listing of this order; pass the \"next\" value of the previous page unchanged.");
        doc(Problems.BAD_REQUEST, "The request could not be read: malformed JSON, a missing required body, a query parameter "
                + "of the wrong type, or a malformed request line.", "/repos/demo", "Failed to read request");
        doc(Problems.UPLOAD_INCOMPLETE, "An object body ended before `Content-Length` bytes arrived (the client went away, or "
                        + "sent nothing for `segstore.upload-idle-timeout`); nothing was stored.", OBJ + ID1,
                "The upload ended after 1024 of 4096 bytes; nothing was stored.");
        doc(Problems.BAD_FILE_NAME, "restic protocol: a file name that is not valid for its type (64 lower-case hex digits; "
                        + "the config is `config` alone).", RESTIC + "data/XYZ",
                "A restic data file is named by 64 lower-case hex digits; got \"XYZ\".");
        doc(Problems.HASH_MISMATCH, "restic protocol: the SHA-256 of an uploaded file is not its name (restic names every "
                        + "file but the config by the hash of its content); nothing was stored.", RESTIC + "data/" + NAME,
                "The body's SHA-256 is " + ID1 + ", not the file name " + NAME + "; nothing was stored.");
        doc(Problems.UNAUTHORIZED, "No credentials, or a token that is not configured (or malformed): send "
                + "`Authorization: Bearer <token>`. `WWW-Authenticate` names the scheme.", "/repos/demo",
                "A valid bearer token is required: Authorization: Bearer <token>.");
        doc(Problems.FORBIDDEN, "The token's role in this repository does not allow the operation (or it has no grant on "
                        + "the repository at all: a repository it cannot see answers the same whether it exists or not).",
                OBJ + ID1, "Token \"backup-host\" (role append in demo) may not overwrite an existing object.");
        doc(Problems.APPEND_ONLY, "Destroy or repair of an append-only repository (deletes, overwrites and compaction are "
                        + "logged and answered normally, as in Borg).", "/repos/demo",
                "Destroying the repository is not allowed: the repository is in append-only mode.");
        doc(Problems.FILE_EXISTS, "restic protocol: a POST of a file that exists (files are never overwritten, as with "
                        + "restic's rest-server; delete it first, with a role that may).", RESTIC + "keys/" + NAME,
                "keys/" + NAME + " exists in repository demo; restic files are never overwritten.");
        doc(Problems.REPOSITORY_NOT_FOUND, "There is no repository of that name.", "/repos/nope", "There is no repository nope.");
        doc(Problems.OBJECT_NOT_FOUND, "There is no object with that id (committed, or as the named transaction sees it).",
                OBJ + ID1, "Object with key " + ID1 + " not found in repository.");
        doc(Problems.FILE_NOT_FOUND, "restic protocol: there is no file of that type and name.", RESTIC + "snapshots/" + NAME,
                "There is no file snapshots/" + NAME + " in repository demo.");
        doc(Problems.TRANSACTION_NOT_FOUND, "The transaction named by the path or `Segstore-Transaction` is unknown (never "
                + "begun, or begun before a restart).", OBJ + ID1, "There is no transaction nope in repository demo.");
        doc(Problems.JOB_NOT_FOUND, "There is no job of that id in this repository (job records do not survive a restart and "
                        + "are forgotten `segstore.jobs.keep-finished` after they end).", "/repos/demo/jobs/nope",
                "There is no job nope in repository demo (job records do not survive a restart).");
        doc(Problems.NOT_FOUND, "No operation has this path.", "/nothing-here", "No static resource nothing-here for request '/nothing-here'.");
        doc(Problems.METHOD_NOT_ALLOWED, "The path exists, but not with this method; `Allow` lists the methods it has.",
                "/repos/demo", "Request method 'POST' is not supported");
        doc(Problems.NOT_ACCEPTABLE, "`Accept` excludes the only media type the operation answers with.", "/repos",
                "No acceptable representation");
        doc(Problems.REPOSITORY_EXISTS, "Create of a name that is taken (also by a repository that could not be opened, or by "
                + "another file in the data directory).", "/repos/demo", "Repository demo already exists.");
        doc(Problems.TRANSACTION_EXPIRED, "The transaction's lease expired: it saw no request for `leaseSeconds` and was "
                        + "rolled back.", OBJ + ID1,
                "Transaction " + TXN + " expired: it saw no request for its lease time and was rolled back.");
        doc(Problems.TRANSACTION_ENDED, "The transaction was already committed or rolled back.",
                "/repos/demo/transactions/" + TXN + "/commit", "Transaction " + TXN + " was already committed.");
        doc(Problems.TRANSACTION_DOOMED, "An earlier write of the transaction failed (over the storage quota, or an I/O "
                        + "error): it can only be rolled back. Its commit rolls it back and answers this.",
                "/repos/demo/transactions/" + TXN + "/commit",
                "The transaction is doomed by an earlier error and can only be rolled back: The storage quota (1000 bytes) has "
                        + "been exceeded (1082 bytes). Try deleting some archives.");
        doc(Problems.NONCE_CONFLICT, "`expected` is not the current nonce: another client reserved nonces meanwhile.",
                "/repos/demo/nonce", "nonce space reservation with mismatched previous state");
        doc(Problems.LISTING_EXPIRED, "A disk-order listing's snapshot was released (idle longer than "
                        + "`segstore.listing.snapshot-idle-timeout`, or the service restarted): start again without a marker.",
                "/repos/demo/objects", "This listing's snapshot expired (idle for longer than 300 s) or the service restarted; "
                        + "start the listing again without a marker.");
        doc(Problems.LENGTH_REQUIRED, "A PUT of an object without `Content-Length` (chunked uploads are not accepted).",
                OBJ + ID1, "A PUT of an object needs a Content-Length (chunked uploads are not accepted).");
        doc(Problems.OBJECT_TOO_LARGE, "An object body longer than 20971479 bytes (Borg's maximum); refused before it is read.",
                OBJ + ID1, "More than allowed put data [20971480 > 20971479]");
        doc(Problems.PAYLOAD_TOO_LARGE, "The servlet container refused a request body as too large before the application saw it.",
                "/repos/demo", "Maximum upload size exceeded");
        doc(Problems.FILE_TOO_LARGE, "restic protocol: a file larger than 1 GiB (a config larger than 20971479 bytes); "
                        + "refused before it is read.", RESTIC + "data/" + NAME,
                "A restic file is at most 1073741824 bytes; this one has 2147483648.");
        doc(Problems.UNSUPPORTED_MEDIA_TYPE, "A JSON body sent with a `Content-Type` other than `application/json`.",
                "/repos/demo", "Content-Type 'text/plain;charset=UTF-8' is not supported");
        doc(Problems.RANGE_NOT_SATISFIABLE, "restic protocol: a `Range` that starts beyond the end of the file, or that "
                        + "cannot be parsed. `Content-Range: bytes */<size>` gives the file's size.", RESTIC + "data/" + NAME,
                "The range bytes=5000- starts beyond the end of the file (4096 bytes).");
        doc(Problems.VERIFICATION_FAILED, "In a repository created with `verify: sha256`, a body whose SHA-256 is not its id "
                        + "(Borg's manifest id, 32 zero bytes, is exempt); nothing was stored.", OBJ + ID1,
                "The body's SHA-256 is 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, not the object id "
                        + ID1 + "; nothing was stored.");
        doc(Problems.LOCKED, "Another transaction holds the repository's writer (after waiting `Segstore-Lock-Wait`, if "
                        + "given), or Borg's lock could not be taken in time.", "/repos/demo/transactions",
                "Another transaction holds the writer of repository demo.", Map.of(),
                "seconds until the current lease could expire (5 when Borg's lock timed out)");
        doc(Problems.TOO_MANY_JOBS, "The repository already has `segstore.jobs.max-per-repository` maintenance jobs queued or "
                        + "running.", "/repos/demo/checks",
                "Repository demo already has 4 maintenance jobs queued or running; wait for one to finish.", Map.of(), "10");
        doc(Problems.TOO_MANY_REQUESTS, "A disk-order listing was asked to start while `segstore.listing.max-snapshots` "
                        + "of them are in progress in the repository (each pins a snapshot): finish one, or wait for one to expire.",
                "/repos/demo/objects", "Repository demo already has 64 disk-order listings in progress; finish one (or let it "
                        + "expire after 300 s idle) and start again.", Map.of(), "5");
        doc(Problems.INTEGRITY_ERROR, "Stored data failed its CRC check, or a segment it needs is missing: run a check, "
                        + "with repair if it finds errors.", OBJ + ID1,
                "Segment entry checksum mismatch [segment 12, offset 8]");
        doc(Problems.STORAGE_ERROR, "The file system failed a read or write (the message names the file).", "/repos/demo",
                "cannot write the config of /srv/segstore/demo: java.nio.file.AccessDeniedException: config");
        doc(Problems.INTERNAL_ERROR, "An unexpected error; it was logged.", "/repos/demo",
                "An unexpected error occurred; it was logged.");
        doc(Problems.CHECK_NEEDED, "The engine found an inconsistency in this repository: only a check (and a repair) can "
                + "run until it is repaired.", OBJ + ID1, "Inconsistency detected in /srv/segstore/demo: "
                + "Corrupted segment reference count - corrupted index or hints (segment 3).");
        doc(Problems.REPOSITORY_UNAVAILABLE, "The repository exists but could not be opened (e.g. Borg's lock is held by "
                        + "another process, or its config is invalid), or it is closing. `POST /repos/{repo}/lock/break` "
                        + "clears a stale lock.", "/repos/demo",
                "Repository demo exists but could not be opened: Failed to create/acquire the lock /srv/segstore/demo/lock.exclusive "
                        + "(timeout).", Map.of(), "30");
        doc(Problems.READ_ONLY, "The repository is open read-only (Borg's shared lock): writes are refused, reads work. "
                + "The service does not open repositories read-only yet, so no operation answers with it today.", OBJ + ID1,
                "Writing is not possible: the repository is open read-only.");
        doc(Problems.QUOTA_EXCEEDED, "A write would take the repository over its `storageQuota` (counted as Borg counts it); "
                        + "inside a transaction it dooms the transaction. `quota` and `used` are in bytes.", OBJ + ID1,
                "The storage quota (100 bytes) has been exceeded (287 bytes). Try deleting some archives.",
                orderedMap("quota", 100L, "used", 287L), null);
        doc(Problems.INSUFFICIENT_STORAGE, "A commit that adds data lacks free disk space (its bytes, plus "
                        + "`additionalFreeSpace`, plus a reserve): it is rolled back. `required` and `available` are in bytes.",
                "/repos/demo/transactions/" + TXN + "/commit",
                "Insufficient free space to complete transaction (required: 5368709120 bytes, available: 1048576 bytes).",
                orderedMap("required", 5368709120L, "available", 1048576L), null);
        for (Problems.Type t : declared()) {
            if (!DOCS.containsKey(t.name())) {
                throw new IllegalStateException("problem type " + t.name() + " has no documentation in OpenApiProblems");
            }
        }
    }

    private OpenApiProblems() {
    }

    private static void doc(Problems.Type t, String when, String instance, String detail) {
        doc(t, when, instance, detail, Map.of(), null);
    }

    private static void doc(Problems.Type t, String when, String instance, String detail, Map<String, Object> extra, String retryAfter) {
        DOCS.put(t.name(), new Doc(t, when, instance, detail, extra, retryAfter));
    }

    private static Map<String, Object> orderedMap(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    /** Every type declared in {@link Problems}. */
    private static List<Problems.Type> declared() {
        List<Problems.Type> out = new ArrayList<>();
        for (Field f : Problems.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == Problems.Type.class) {
                try {
                    out.add((Problems.Type) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return out;
    }

    /** Every documented type, in order of status. */
    static List<Doc> all() {
        return List.copyOf(DOCS.values());
    }

    static Doc doc(String name) {
        Doc d = DOCS.get(name);
        if (d == null) {
            throw new IllegalStateException("unknown problem type \"" + name + "\" (see Problems)");
        }
        return d;
    }

    // ---- components ---------------------------------------------------------------------------

    /** The ProblemDetail schema and one named example per problem type. */
    static void addComponents(Components components) {
        components.addSchemas(SCHEMA, problemSchema());
        for (Doc d : DOCS.values()) {
            components.addExamples(d.type().name(), new Example()
                    .summary(d.type().status() + " " + d.type().title())
                    .description(d.when())
                    .value(exampleValue(d)));
        }
    }

    private static Schema<Object> problemSchema() {
        Schema<Object> s = OpenApiConfiguration.schema("object")
                .description("An RFC 9457 problem document. `type` is stable per kind of error; clients may branch on it.");
        s.addProperty("type", OpenApiConfiguration.schema("string").format("uri")
                .description("`https://segstore.io/problems/<name>`, one per kind of error (see the table in the description)"));
        s.addProperty("title", OpenApiConfiguration.schema("string").description("Short, fixed summary of the type"));
        s.addProperty("status", OpenApiConfiguration.schema("integer").format("int32").description("The HTTP status"));
        s.addProperty("detail", OpenApiConfiguration.schema("string").description("What went wrong in this request"));
        s.addProperty("instance", OpenApiConfiguration.schema("string").format("uri-reference")
                .description("The request path"));
        s.addProperty("quota", OpenApiConfiguration.schema("integer").format("int64")
                .description("quota-exceeded only: the repository's storage quota, in bytes"));
        s.addProperty("used", OpenApiConfiguration.schema("integer").format("int64")
                .description("quota-exceeded only: what the quota use would have been, in bytes"));
        s.addProperty("required", OpenApiConfiguration.schema("integer").format("int64")
                .description("insufficient-storage only: free space the commit needed, in bytes"));
        s.addProperty("available", OpenApiConfiguration.schema("integer").format("int64")
                .description("insufficient-storage only: free space there was, in bytes"));
        s.setRequired(List.of("type", "title", "status"));
        return s;
    }

    private static Map<String, Object> exampleValue(Doc d) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("type", d.type().uri());
        v.put("title", d.type().title());
        v.put("status", d.type().status());
        v.put("detail", d.detail());
        v.put("instance", d.instance());
        v.putAll(d.extra());
        return v;
    }

    /** A markdown table of every problem type: type, status, when. */
    static String table() {
        StringBuilder b = new StringBuilder("| type | status | when |\n| --- | --- | --- |\n");
        for (Doc d : DOCS.values()) {
            b.append("| `").append(d.type().name()).append("` | ").append(d.type().status()).append(" | ").append(d.when()).append(" |\n");
        }
        return b.toString();
    }

    // ---- responses of one operation ---------------------------------------------------------------

    /**
     * The problem types an operation answers with: those its signature implies, plus those its
     * {@link ApiProblems} names, minus those it excludes.
     */
    static Set<String> problemsOf(HandlerMethod method) {
        Set<String> pathVariables = new LinkedHashSet<>();
        Set<String> headers = new LinkedHashSet<>();
        boolean jsonBody = false;
        for (MethodParameter p : method.getMethodParameters()) {
            PathVariable pv = p.getParameterAnnotation(PathVariable.class);
            if (pv != null) {
                pathVariables.add(!pv.value().isEmpty() ? pv.value() : !pv.name().isEmpty() ? pv.name() : p.getParameterName());
            }
            RequestHeader rh = p.getParameterAnnotation(RequestHeader.class);
            if (rh != null) {
                headers.add(rh.name().isEmpty() ? rh.value() : rh.name());
            }
            if (p.hasParameterAnnotation(RequestBody.class) && p.getParameterType() != byte[].class) {
                jsonBody = true;
            }
        }
        Set<String> names = new LinkedHashSet<>();
        if (pathVariables.contains("repo")) {
            names.addAll(List.of(Problems.BAD_REPOSITORY_NAME.name(), Problems.REPOSITORY_NOT_FOUND.name(),
                    Problems.REPOSITORY_UNAVAILABLE.name()));
        }
        if (pathVariables.contains("id")) {
            names.add(Problems.BAD_OBJECT_ID.name());
        }
        if (pathVariables.contains("txn") || headers.contains(SegstoreHeaders.TRANSACTION)) {
            names.addAll(List.of(Problems.TRANSACTION_NOT_FOUND.name(), Problems.TRANSACTION_EXPIRED.name(),
                    Problems.TRANSACTION_ENDED.name()));
        }
        if (headers.contains(SegstoreHeaders.LOCK_WAIT)) {
            names.addAll(List.of(Problems.BAD_PARAMETER.name(), Problems.LOCKED.name()));
        }
        if (jsonBody) {
            names.addAll(List.of(Problems.BAD_REQUEST.name(), Problems.UNSUPPORTED_MEDIA_TYPE.name()));
        }
        if (returnsConvertedBody(method)) {
            names.add(Problems.NOT_ACCEPTABLE.name());
        }
        // with tokens configured every operation needs one, and a role that allows it
        names.addAll(List.of(Problems.UNAUTHORIZED.name(), Problems.FORBIDDEN.name()));
        names.add(Problems.INTERNAL_ERROR.name());
        ApiProblems declared = method.getMethodAnnotation(ApiProblems.class);
        if (declared != null) {
            for (String n : declared.value()) {
                names.add(doc(n).type().name());
            }
            for (String n : declared.except()) {
                names.remove(doc(n).type().name());
            }
        }
        return names;
    }

    /** Whether the handler's result is written by a message converter (so Accept can refuse it). */
    private static boolean returnsConvertedBody(HandlerMethod method) {
        Class<?> type = method.getReturnType().getParameterType();
        if (type == void.class) {
            return false;
        }
        if (ResponseEntity.class.isAssignableFrom(type)) {
            return method.getReturnType().getGenericParameterType() instanceof java.lang.reflect.ParameterizedType pt
                    && pt.getActualTypeArguments()[0] != Void.class;
        }
        return true;
    }

    private static boolean isHead(HandlerMethod method) {
        RequestMapping m = AnnotatedElementUtils.findMergedAnnotation(method.getMethod(), RequestMapping.class);
        return m != null && List.of(m.method()).contains(RequestMethod.HEAD);
    }

    /** Adds one response per error status, each listing its problem types with an example of each. */
    static void addResponses(Operation operation, HandlerMethod method) {
        Map<Integer, List<Doc>> byStatus = new TreeMap<>();
        Set<String> names = problemsOf(method);
        for (Doc d : DOCS.values()) {
            if (names.contains(d.type().name())) {
                byStatus.computeIfAbsent(d.type().status(), s -> new ArrayList<>()).add(d);
            }
        }
        boolean head = isHead(method);
        ApiResponses responses = operation.getResponses() == null ? new ApiResponses() : operation.getResponses();
        byStatus.forEach((status, docs) -> {
            StringBuilder description = new StringBuilder(head ? "Problem (a HEAD answer has no body):" : "Problem:");
            List<String> retryAfter = new ArrayList<>();
            MediaType media = new MediaType().schema(new JsonSchema().$ref(SCHEMA_REF));
            for (Doc d : docs) {
                description.append("\n- `").append(d.type().name()).append("`: ").append(d.when());
                media.addExamples(d.type().name(), new Example().$ref(EXAMPLE_REF + d.type().name()));
                if (d.retryAfter() != null) {
                    retryAfter.add("`" + d.type().name() + "`: " + d.retryAfter());
                }
            }
            ApiResponse r = new ApiResponse().description(description.toString());
            if (!head) {
                r.content(new Content().addMediaType(PROBLEM_JSON, media));
            }
            if (!retryAfter.isEmpty()) {
                r.addHeaderObject("Retry-After", new Header()
                        .description("Seconds to wait before trying again. Sent with " + String.join("; ", retryAfter) + ".")
                        .schema(OpenApiConfiguration.schema("integer").format("int64")));
            }
            responses.addApiResponse(Integer.toString(status), r);
        });
        operation.setResponses(responses);
    }
}
