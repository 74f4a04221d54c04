package io.segstore.web;

import io.segstore.security.AccessPolicy;
import io.segstore.security.Action;

import io.segstore.engine.ObjectEntry;
import io.segstore.engine.ObjectId;
import io.segstore.engine.ObjectNotFoundException;
import io.segstore.engine.StoredObject;
import io.segstore.service.Names;
import io.segstore.service.ObjectService;
import io.segstore.service.RepositoryService;
import io.segstore.service.SegstoreProperties;
import io.segstore.service.ServiceException;
import io.segstore.service.StagedBody;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Objects: read, write, delete, list, ask which exist, download the whole index. */
@RestController
@RequestMapping("/repos/{repo}")
@Tag(name = "objects")
public class ObjectController {

    /** An autocommit's transaction id, so a client knows what made its write durable. */
    public static final String COMMITTED = "Segstore-Committed-Transaction";
    private static final int MAX_EXISTS_IDS = 10_000;

    private final ObjectService objects;
    private final RepositoryService repositories;
    private final SegstoreHeaders headers;
    private final SegstoreProperties properties;

    private final AccessPolicy access;

    public ObjectController(ObjectService objects, RepositoryService repositories, SegstoreHeaders headers, SegstoreProperties properties,
                            AccessPolicy access) {
        this.access = access;
        this.objects = objects;
        this.repositories = repositories;
        this.headers = headers;
        this.properties = properties;
    }

    /** One object in a listing. */
    public record Entry(String id, long size) {
    }

    /** A page of a listing; pass {@code next} as the marker of the following request (null: done). */
    public record ListingBody(List<Entry> objects, String next) {
    }

    /** The ids to look for. */
    public record ExistsRequest(List<String> ids) {
    }

    /** The ones that exist. */
    public record ExistsBody(List<String> present) {
    }

    @GetMapping("/objects/{id}")
    @Operation(operationId = "getObject", summary = "Read an object", description = "The stored bytes, checked against their CRC. With "
            + SegstoreHeaders.TRANSACTION + " the transaction's own writes are seen.")
    @ApiResponse(responseCode = "200", description = "The object's bytes",
            headers = @Header(name = "Content-Length", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.CONTENT_LENGTH),
            content = @Content(mediaType = ApiExamples.OCTETS, schema = @Schema(type = "string", format = "binary"),
                    examples = @ExampleObject(name = "bytes", value = ApiExamples.OBJECT_BYTES)))
    @ApiProblems({"object-not-found", "check-needed", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public void get(@PathVariable String repo, @PathVariable String id,
                    @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn,
                    HttpServletResponse response) throws IOException {
        ObjectId oid = parse(repo, id);
        try (StoredObject o = objects.open(repo, txn, oid)) {
            response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
            response.setContentLengthLong(o.length());
            o.writeTo(response.getOutputStream());
        }
    }

    @RequestMapping(path = "/objects/{id}", method = RequestMethod.HEAD)
    @Operation(operationId = "headObject", summary = "An object's size", description = "Content-Length is the object's length in "
            + "bytes; no body. With " + SegstoreHeaders.TRANSACTION + " the transaction's own writes are seen.")
    @ApiResponse(responseCode = "200", description = "The object exists",
            headers = @Header(name = "Content-Length", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.CONTENT_LENGTH))
    @ApiProblems({"object-not-found", "check-needed", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public ResponseEntity<Void> head(@PathVariable String repo, @PathVariable String id,
                                     @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn) {
        ObjectId oid = parse(repo, id);
        long size = objects.size(repo, txn, oid);
        if (size < 0) {
            throw new ObjectNotFoundException(oid);
        }
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_OCTET_STREAM).contentLength(size).build();
    }

    @PutMapping("/objects/{id}")
    @Operation(operationId = "putObject", summary = "Store an object", description = "201 when the id was new, 204 when it "
            + "replaced an object. Content-Length is required; at most 20971479 bytes. The body is received in full before the "
            + "writer is needed. Without " + SegstoreHeaders.TRANSACTION + " the write is committed (durably) before the answer, "
            + "grouped with concurrent ones, and " + COMMITTED + " names the commit.")
    @Parameter(in = ParameterIn.HEADER, name = "Content-Length", required = true, description = "The body's length in bytes, "
            + "0 to 20971479 (chunked uploads are refused with 411)", schema = @Schema(type = "integer", format = "int64"), example = "5")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, description = "The object's bytes",
            content = @Content(mediaType = ApiExamples.OCTETS, schema = @Schema(type = "string", format = "binary"),
                    examples = @ExampleObject(name = "bytes", value = ApiExamples.OBJECT_BYTES)))
    @ApiResponse(responseCode = "201", description = "Stored under a new id", headers = {
            @Header(name = "Location", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.LOCATION),
            @Header(name = COMMITTED, ref = OpenApiConfiguration.HEADER_REF + COMMITTED)})
    @ApiResponse(responseCode = "204", description = "Replaced an object of the same id",
            headers = @Header(name = COMMITTED, ref = OpenApiConfiguration.HEADER_REF + COMMITTED))
    @ApiProblems({"upload-incomplete", "transaction-doomed", "length-required", "object-too-large", "verification-failed",
            "repository-unavailable", "integrity-error", "storage-error", "check-needed", "quota-exceeded", "insufficient-storage"})
    @Requires(Action.PUT_OBJECT)
    public ResponseEntity<Void> put(@PathVariable String repo, @PathVariable String id,
                                    @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn,
                                    @RequestHeader(name = SegstoreHeaders.LOCK_WAIT, required = false) String lockWaitHeader,
                                    @RequestParam(name = "lockWait", required = false) String lockWaitQuery,
                                    HttpServletRequest request) throws IOException {
        ObjectId oid = parse(repo, id);
        long length = request.getContentLengthLong();
        if (length < 0) {
            throw new ServiceException(ServiceException.Kind.LENGTH_REQUIRED,
                    "A PUT of an object needs a Content-Length (chunked uploads are not accepted).");
        }
        repositories.get(repo);
        try (StagedBody body = StagedBody.receive(request.getInputStream(), length, properties.inMemoryBodyLimit(), repositories.stagingDir())) {
            ObjectService.PutOutcome outcome = objects.put(repo, txn, oid, body, headers.lockWait(lockWaitHeader, lockWaitQuery),
                    access.allows(repo, Action.OVERWRITE_OBJECT));
            ResponseEntity.BodyBuilder b = outcome.replaced() ? ResponseEntity.status(HttpStatus.NO_CONTENT)
                    : ResponseEntity.created(URI.create("/repos/" + repo + "/objects/" + oid.hex()));
            if (outcome.transactionId() != null) {
                b.header(COMMITTED, Long.toString(outcome.transactionId()));
            }
            return b.build();
        }
    }

    @DeleteMapping("/objects/{id}")
    @Operation(operationId = "deleteObject", summary = "Delete an object", description = "204; 404 if there is none. Without "
            + SegstoreHeaders.TRANSACTION + " the delete is committed before the answer (grouped with concurrent writes) and "
            + COMMITTED + " names the commit. In an append-only repository the delete is logged, as in Borg.")
    @ApiResponse(responseCode = "204", description = "Deleted",
            headers = @Header(name = COMMITTED, ref = OpenApiConfiguration.HEADER_REF + COMMITTED))
    @ApiProblems({"object-not-found", "transaction-doomed", "repository-unavailable", "integrity-error", "storage-error",
            "check-needed", "insufficient-storage"})
    @Requires(Action.DELETE_OBJECT)
    public ResponseEntity<Void> delete(@PathVariable String repo, @PathVariable String id,
                                       @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn,
                                       @RequestHeader(name = SegstoreHeaders.LOCK_WAIT, required = false) String lockWaitHeader,
                                       @RequestParam(name = "lockWait", required = false) String lockWaitQuery) {
        ObjectId oid = parse(repo, id);
        Long tid = objects.delete(repo, txn, oid, headers.lockWait(lockWaitHeader, lockWaitQuery));
        ResponseEntity.HeadersBuilder<?> b = ResponseEntity.noContent();
        if (tid != null) {
            b.header(COMMITTED, Long.toString(tid));
        }
        return b.build();
    }

    @GetMapping("/objects")
    @Operation(operationId = "listObjects", summary = "List objects with their sizes", description = "order=index (Borg's list, "
            + "stable across changes) or disk (Borg's scan: the order data lies in the log; pages come from one committed state). "
            + "Pass the answer's next as marker. Paging returns every object that stayed committed from the first page to the "
            + "last exactly once. `size` is the object's length in bytes.")
    @ApiResponse(responseCode = "200", description = "A page", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = ListingBody.class), examples = {
                    @ExampleObject(name = "more to come", value = ApiExamples.LISTING),
                    @ExampleObject(name = "last page", value = ApiExamples.LISTING_LAST)}))
    @ApiProblems({"bad-parameter", "bad-marker", "bad-request", "listing-expired", "too-many-requests", "check-needed", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public ListingBody list(@PathVariable String repo,
                            @Parameter(description = "Page size, 1 to segstore.listing.max-limit (default 10000); absent: "
                                    + "segstore.listing.default-limit (default 1000)", example = "1000")
                            @RequestParam(required = false) Integer limit,
                            @Parameter(description = "The `next` of the previous page, unchanged (opaque)")
                            @RequestParam(required = false) String marker,
                            @Parameter(description = "`index` (default; may include the writes of the transaction named by "
                                    + SegstoreHeaders.TRANSACTION + ") or `disk` (committed data only)",
                                    schema = @Schema(type = "string", allowableValues = {"index", "disk"}, defaultValue = "index"))
                            @RequestParam(required = false) String order,
                            @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn) {
        Names.repository(repo);
        ObjectService.Listing page = objects.list(repo, txn, order, limit, marker);
        List<Entry> entries = new ArrayList<>(page.objects().size());
        for (ObjectEntry e : page.objects()) {
            entries.add(new Entry(e.id().hex(), e.size()));
        }
        return new ListingBody(entries, page.next());
    }

    @PostMapping("/objects/exists")
    @Operation(operationId = "objectsExist", summary = "Which of these ids exist", description = "The deduplication query: up to "
            + "10000 ids per request; the answer lists those present, in the order given. With " + SegstoreHeaders.TRANSACTION
            + " the transaction's own writes count.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = ApiExamples.JSON,
            examples = @ExampleObject(name = "two ids", value = ApiExamples.EXISTS_REQUEST)))
    @ApiResponse(responseCode = "200", description = "The ids that exist", content = @Content(mediaType = ApiExamples.JSON,
            schema = @Schema(implementation = ExistsBody.class), examples = @ExampleObject(name = "one present", value = ApiExamples.EXISTS)))
    @ApiProblems({"bad-object-id", "bad-parameter", "check-needed"})
    @Requires(Action.READ)
    public ExistsBody exists(@PathVariable String repo, @RequestBody ExistsRequest body,
                             @RequestHeader(name = SegstoreHeaders.TRANSACTION, required = false) String txn) {
        Names.repository(repo);
        if (body == null || body.ids() == null) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "The body is {\"ids\": [\"<64 hex digits>\", ...]}.");
        }
        if (body.ids().size() > MAX_EXISTS_IDS) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "At most " + MAX_EXISTS_IDS + " ids per request.");
        }
        List<ObjectId> ids = new ArrayList<>(body.ids().size());
        for (String s : body.ids()) {
            ids.add(Names.objectId(s));
        }
        List<String> present = new ArrayList<>();
        for (ObjectId id : objects.present(repo, txn, ids)) {
            present.add(id.hex());
        }
        return new ExistsBody(present);
    }

    @GetMapping("/index")
    @Operation(operationId = "downloadIndex", summary = "Download every id with its size", description = "Records of 32-byte id "
            + "and 4-byte little-endian size (36 bytes each, committed objects only), for clients that deduplicate against the "
            + "whole repository. The ETag names the committed state; If-None-Match with it answers 304 while nothing was committed.")
    @ApiResponse(responseCode = "200", description = "The records", headers = {
            @Header(name = "ETag", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.ETAG),
            @Header(name = "Content-Length", description = "36 bytes per object", schema = @Schema(type = "integer", format = "int64"))},
            content = @Content(mediaType = ApiExamples.OCTETS, schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "304", description = "Nothing was committed since the download If-None-Match names",
            headers = @Header(name = "ETag", ref = OpenApiConfiguration.HEADER_REF + OpenApiConfiguration.ETAG))
    @ApiProblems({"check-needed"})
    @Requires(Action.READ)
    public void index(@PathVariable String repo, @RequestHeader(name = HttpHeaders.IF_NONE_MATCH, required = false) String ifNoneMatch,
                      HttpServletResponse response) throws IOException {
        Names.repository(repo);
        if (ifNoneMatch != null && etagMatches(ifNoneMatch, objects.indexEtag(repo))) {
            response.setStatus(HttpStatus.NOT_MODIFIED.value());
            response.setHeader(HttpHeaders.ETAG, objects.indexEtag(repo));
            return;
        }
        try (ObjectService.IndexDownload download = objects.index(repo)) {
            response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
            response.setHeader(HttpHeaders.ETAG, download.etag());
            response.setContentLengthLong(download.length());
            download.writeTo(response.getOutputStream());
        }
    }

    private static boolean etagMatches(String ifNoneMatch, String etag) {
        for (String candidate : ifNoneMatch.split(",")) {
            String c = candidate.strip();
            if (c.equals("*") || c.equals(etag) || c.equals("W/" + etag)) {
                return true;
            }
        }
        return false;
    }

    private static ObjectId parse(String repo, String id) {
        Names.repository(repo);
        return Names.objectId(id);
    }
}
