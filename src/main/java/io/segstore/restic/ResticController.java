package io.segstore.restic;

import io.segstore.security.AccessPolicy;
import io.segstore.security.Action;
import io.segstore.service.Names;
import io.segstore.web.ApiProblems;
import io.segstore.web.Requires;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * restic's REST backend protocol, versions 1 and 2, under {@code /restic/{repo}/}: the status
 * codes are those of restic's rest-server, the errors problem documents (restic only looks at
 * the status). Credentials: HTTP Basic with a Segstore token as the password. The roles follow
 * rest-server's modes: {@code read} reads; {@code append} is {@code --append-only} (new files,
 * and lock files removed); {@code write} everything; {@code admin} also creates and deletes
 * repositories.
 */
@RestController
@RequestMapping("/restic/{repo}")
@Tag(name = "restic")
public class ResticController {

    static final String V1 = "application/vnd.x.restic.rest.v1";
    static final String V2 = "application/vnd.x.restic.rest.v2";
    private static final String OCTETS = MediaType.APPLICATION_OCTET_STREAM_VALUE;
    private static final String NAME_PATTERN = "^[0-9a-f]{64}$";
    private static final String NAME_EXAMPLE = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    private static final String V1_EXAMPLE = "[\"" + NAME_EXAMPLE + "\"]";
    private static final String V2_EXAMPLE = "[{\"name\":\"" + NAME_EXAMPLE + "\",\"size\":2341058}]";

    private final ResticFiles files;
    private final AccessPolicy access;

    public ResticController(ResticFiles files, AccessPolicy access) {
        this.files = files;
        this.access = access;
    }

    /** One file of a version 2 listing. */
    public record Listed(String name, long size) {
    }

    // ---- the repository ---------------------------------------------------------------------------

    @PostMapping("/")
    @Operation(operationId = "resticCreateRepository", summary = "restic: create the repository",
            description = "`?create=true` creates the Segstore repository (Borg's defaults) unless it exists; 200 either "
                    + "way, as rest-server answers. Creating needs `admin` on the name; when the repository exists, `append` "
                    + "is enough (restic init asks for it on every init).")
    @Parameter(in = ParameterIn.QUERY, name = "create", required = true, description = "Must be `true`",
            schema = @Schema(type = "string", allowableValues = "true"))
    @ApiResponse(responseCode = "200", description = "The repository exists (now)")
    @ApiProblems(value = {"bad-parameter", "repository-exists", "storage-error"}, except = "repository-not-found")
    @Requires(Action.PUT_OBJECT)
    public ResponseEntity<Void> create(@PathVariable String repo, @RequestParam(name = "create", required = false) String create) {
        if (!"true".equals(create)) {
            throw ResticException.badRequest("POST /restic/" + repo + "/ creates the repository: add ?create=true.");
        }
        if (!files.exists(repo)) {
            access.require(repo, Action.CREATE);
        }
        files.create(repo);
        return ResponseEntity.ok().build();
    }

    @DeleteMapping("/")
    @Operation(operationId = "resticDeleteRepository", summary = "restic: delete the repository",
            description = "Destroys the Segstore repository and everything in it (needs `admin`); 403 `append-only` for an "
                    + "append-only repository.")
    @ApiResponse(responseCode = "200", description = "Deleted")
    @ApiProblems({"append-only", "storage-error"})
    @Requires(Action.DESTROY)
    public ResponseEntity<Void> destroy(@PathVariable String repo) {
        Names.repository(repo);
        files.destroy(repo);
        return ResponseEntity.ok().build();
    }

    // ---- the config -------------------------------------------------------------------------------

    @RequestMapping(path = "/config", method = RequestMethod.HEAD)
    @Operation(operationId = "resticHeadConfig", summary = "restic: whether the config exists",
            description = "200 with its size as Content-Length, or 404.")
    @ApiResponse(responseCode = "200", description = "The config exists", headers = {
            @Header(name = "Content-Length", description = "The file's size in bytes", schema = @Schema(type = "integer", format = "int64"))})
    @ApiProblems({"file-not-found", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public ResponseEntity<Void> headConfig(@PathVariable String repo) {
        return head(repo, FileName.CONFIG_FILE);
    }

    @GetMapping("/config")
    @Operation(operationId = "resticGetConfig", summary = "restic: read the config",
            description = "Its bytes; a `Range` is honoured as for any file (206).")
    @ApiResponse(responseCode = "200", description = "The config", content = @Content(mediaType = OCTETS,
            schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "206", description = "The range asked for", headers = @Header(name = "Content-Range",
            description = "`bytes <first>-<last>/<size>`", schema = @Schema(type = "string")),
            content = @Content(mediaType = OCTETS, schema = @Schema(type = "string", format = "binary")))
    @ApiProblems({"file-not-found", "range-not-satisfiable", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public void getConfig(@PathVariable String repo, @RequestHeader(name = HttpHeaders.RANGE, required = false) String range,
                          HttpServletResponse response) throws IOException {
        get(repo, FileName.CONFIG_FILE, range, response);
    }

    @PostMapping("/config")
    @Operation(operationId = "resticSaveConfig", summary = "restic: store the config",
            description = "200 when stored and durable; 403 `file-exists` if there is one (as rest-server answers). At most "
                    + "20971479 bytes.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, description = "The config's bytes",
            content = @Content(mediaType = OCTETS, schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "200", description = "Stored (committed before the answer)")
    @ApiProblems({"file-exists", "file-too-large", "upload-incomplete", "locked", "quota-exceeded", "insufficient-storage",
            "check-needed", "integrity-error", "storage-error"})
    @Requires(Action.PUT_OBJECT)
    public ResponseEntity<Void> saveConfig(@PathVariable String repo, HttpServletRequest request) throws IOException {
        return save(repo, FileName.CONFIG_FILE, request);
    }

    @DeleteMapping("/config")
    @Operation(operationId = "resticDeleteConfig", summary = "restic: remove the config",
            description = "200, also when there is none. Needs `write`.")
    @ApiResponse(responseCode = "200", description = "Removed (committed before the answer), or there was none")
    @ApiProblems({"locked", "check-needed", "insufficient-storage", "integrity-error", "storage-error"})
    @Requires(Action.DELETE_FILE)
    public ResponseEntity<Void> deleteConfig(@PathVariable String repo) {
        return remove(repo, FileName.CONFIG_FILE);
    }

    // ---- files ------------------------------------------------------------------------------------

    @GetMapping("/{type}/")
    @Operation(operationId = "resticList", summary = "restic: list the files of a type",
            description = "API version 2 (`Accept: " + V2 + "`): the names with their sizes, answered as `" + V2 + "`. "
                    + "Otherwise version 1: the names, answered as `" + V1 + "`. Reads only this type's catalogue.")
    @ApiResponse(responseCode = "200", description = "The files, in no particular order", content = {
            @Content(mediaType = V1, array = @ArraySchema(schema = @Schema(type = "string", pattern = "^[0-9a-f]{64}$")),
                    examples = @ExampleObject(name = "v1", value = V1_EXAMPLE)),
            @Content(mediaType = V2, array = @ArraySchema(schema = @Schema(implementation = Listed.class)),
                    examples = @ExampleObject(name = "v2", value = V2_EXAMPLE))})
    @ApiProblems({"not-found", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public void list(@PathVariable String repo, @PathVariable @Parameter(description = "data, keys, locks, snapshots or index",
            schema = @Schema(type = "string", allowableValues = {"data", "keys", "locks", "snapshots", "index"})) String type,
                     @RequestHeader(name = HttpHeaders.ACCEPT, required = false) String accept,
                     HttpServletResponse response) throws IOException {
        FileType t = directory(type);
        boolean v2 = accept != null && accept.contains(V2);
        response.setStatus(200);
        response.setContentType(v2 ? V2 : V1);
        // buffered: an error in the first buckets still becomes a problem document (the answer is not committed yet)
        OutputStream out = new BufferedOutputStream(response.getOutputStream(), 64 * 1024);
        ListingWriter writer = new ListingWriter(out, v2);
        files.list(repo, t, writer::add);
        writer.finish();
        out.flush();
    }

    @RequestMapping(path = "/{type}/{name}", method = RequestMethod.HEAD)
    @Operation(operationId = "resticHeadFile", summary = "restic: whether a file exists",
            description = "200 with its size as Content-Length, or 404.")
    @ApiResponse(responseCode = "200", description = "The file exists", headers = {
            @Header(name = "Content-Length", description = "The file's size in bytes", schema = @Schema(type = "integer", format = "int64"))})
    @ApiProblems({"bad-file-name", "not-found", "file-not-found", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public ResponseEntity<Void> headFile(@PathVariable String repo, @PathVariable @Parameter(description = "data, keys, locks, "
            + "snapshots or index", schema = @Schema(type = "string", allowableValues = {"data", "keys", "locks", "snapshots", "index"}))
                                         String type,
                                         @PathVariable @Parameter(description = "64 lower-case hex digits: the SHA-256 of the file",
                                                 example = NAME_EXAMPLE, schema = @Schema(type = "string", pattern = NAME_PATTERN)) String name) {
        return head(repo, file(type, name));
    }

    @GetMapping("/{type}/{name}")
    @Operation(operationId = "resticGetFile", summary = "restic: read a file",
            description = "The file's bytes; with `Range: bytes=<first>-[<last>]` (or `bytes=-<n>`) 206 with that part and "
                    + "`Content-Range`, also across the objects of a file larger than Borg's largest object. Every object the "
                    + "answer needs is checked against its CRC before the first byte is sent.")
    @Parameter(in = ParameterIn.HEADER, name = "Range", description = "One byte range, e.g. `bytes=0-1023`; several ranges "
            + "get the whole file (200)", schema = @Schema(type = "string"), example = "bytes=0-1023")
    @ApiResponse(responseCode = "200", description = "The whole file", headers = @Header(name = "Content-Length",
            description = "The file's size in bytes", schema = @Schema(type = "integer", format = "int64")),
            content = @Content(mediaType = OCTETS, schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "206", description = "The range asked for", headers = @Header(name = "Content-Range",
            description = "`bytes <first>-<last>/<size>`", schema = @Schema(type = "string")),
            content = @Content(mediaType = OCTETS, schema = @Schema(type = "string", format = "binary")))
    @ApiProblems({"bad-file-name", "not-found", "file-not-found", "range-not-satisfiable", "integrity-error", "storage-error"})
    @Requires(Action.READ)
    public void getFile(@PathVariable String repo, @PathVariable @Parameter(description = "data, keys, locks, snapshots or index",
            schema = @Schema(type = "string", allowableValues = {"data", "keys", "locks", "snapshots", "index"})) String type,
                        @PathVariable @Parameter(description = "64 lower-case hex digits: the SHA-256 of the file",
                                example = NAME_EXAMPLE, schema = @Schema(type = "string", pattern = NAME_PATTERN)) String name,
                        @Parameter(hidden = true) @RequestHeader(name = HttpHeaders.RANGE, required = false) String range,
                        HttpServletResponse response) throws IOException {
        get(repo, file(type, name), range, response);
    }

    @PostMapping("/{type}/{name}")
    @Operation(operationId = "resticSaveFile", summary = "restic: store a file",
            description = "200 when stored and durable (grouped with concurrent uploads into one commit). The body's SHA-256 "
                    + "must be the name (400 `hash-mismatch` otherwise, nothing stored); a file that exists is refused with 403 "
                    + "`file-exists`, as rest-server does. Files up to 1 GiB; one larger than 20971479 bytes is stored as "
                    + "several objects, committed together. A body cut off stores nothing.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, description = "The file's bytes",
            content = @Content(mediaType = OCTETS, schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "200", description = "Stored (committed before the answer)")
    @ApiProblems({"bad-file-name", "not-found", "hash-mismatch", "file-exists", "file-too-large", "upload-incomplete", "locked",
            "quota-exceeded", "insufficient-storage", "check-needed", "integrity-error", "storage-error"})
    @Requires(Action.PUT_OBJECT)
    public ResponseEntity<Void> saveFile(@PathVariable String repo, @PathVariable @Parameter(description = "data, keys, locks, "
            + "snapshots or index", schema = @Schema(type = "string", allowableValues = {"data", "keys", "locks", "snapshots", "index"}))
                                         String type,
                                         @PathVariable @Parameter(description = "64 lower-case hex digits: the SHA-256 of the file",
                                                 example = NAME_EXAMPLE, schema = @Schema(type = "string", pattern = NAME_PATTERN)) String name,
                                         HttpServletRequest request) throws IOException {
        return save(repo, file(type, name), request);
    }

    @DeleteMapping("/{type}/{name}")
    @Operation(operationId = "resticDeleteFile", summary = "restic: remove a file",
            description = "200, also when there is none (restic retries removals). Needs `write` (lock files: see the next "
                    + "operation). Its space is reclaimed by the next compaction.")
    @ApiResponse(responseCode = "200", description = "Removed (committed before the answer), or there was none")
    @ApiProblems({"bad-file-name", "not-found", "locked", "check-needed", "insufficient-storage", "integrity-error", "storage-error"})
    @Requires(Action.DELETE_FILE)
    public ResponseEntity<Void> deleteFile(@PathVariable String repo, @PathVariable @Parameter(description = "data, keys, "
            + "snapshots or index (locks: see resticDeleteLock)", schema = @Schema(type = "string",
            allowableValues = {"data", "keys", "locks", "snapshots", "index"})) String type,
                                           @PathVariable @Parameter(description = "64 lower-case hex digits",
                                                   example = NAME_EXAMPLE, schema = @Schema(type = "string", pattern = NAME_PATTERN)) String name) {
        return remove(repo, file(type, name));
    }

    @DeleteMapping("/locks/{name}")
    @Operation(operationId = "resticDeleteLock", summary = "restic: remove a lock file",
            description = "200, also when there is none. Role `append` may remove lock files (as rest-server's --append-only "
                    + "allows) but no other file.")
    @ApiResponse(responseCode = "200", description = "Removed (committed before the answer), or there was none")
    @ApiProblems({"bad-file-name", "locked", "check-needed", "insufficient-storage", "integrity-error", "storage-error"})
    @Requires(Action.DELETE_LOCK_FILE)
    public ResponseEntity<Void> deleteLock(@PathVariable String repo,
                                           @PathVariable @Parameter(description = "64 lower-case hex digits",
                                                   example = NAME_EXAMPLE, schema = @Schema(type = "string", pattern = NAME_PATTERN)) String name) {
        return remove(repo, FileName.of(FileType.LOCKS, name));
    }

    // ---- shared -----------------------------------------------------------------------------------

    private ResponseEntity<Void> head(String repo, FileName file) {
        long size = files.size(repo, file);
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_OCTET_STREAM).contentLength(size)
                .header(HttpHeaders.ACCEPT_RANGES, "bytes").build();
    }

    private void get(String repo, FileName file, String range, HttpServletResponse response) throws IOException {
        try (FileContent content = files.open(repo, file, range)) {
            ByteRange r = content.range();
            response.setStatus(r.partial() ? 206 : 200);
            response.setContentType(OCTETS);
            response.setHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
            if (r.partial()) {
                response.setHeader(HttpHeaders.CONTENT_RANGE, r.contentRange(content.size()));
            }
            response.setContentLengthLong(r.length());
            content.writeTo(response.getOutputStream());
        }
    }

    private ResponseEntity<Void> save(String repo, FileName file, HttpServletRequest request) throws IOException {
        Names.repository(repo);
        files.save(repo, file, request.getInputStream(), request.getContentLengthLong());
        return ResponseEntity.ok().build();
    }

    private ResponseEntity<Void> remove(String repo, FileName file) {
        Names.repository(repo);
        files.remove(repo, file);
        return ResponseEntity.ok().build();
    }

    private static FileType directory(String type) {
        FileType t = FileType.directory(type);
        if (t == null) {
            throw ResticException.noSuchPath("restic's file types are data, keys, locks, snapshots and index (and the config "
                    + "at /config); not \"" + FileName.printable(type) + "\".");
        }
        return t;
    }

    private static FileName file(String type, String name) {
        return FileName.of(directory(type), name);
    }

    /** Writes a listing's JSON as the catalogue is read. */
    static final class ListingWriter {
        private final OutputStream out;
        private final boolean v2;
        private boolean first = true;

        ListingWriter(OutputStream out, boolean v2) throws IOException {
            this.out = out;
            this.v2 = v2;
            out.write('[');
        }

        void add(byte[] name, long size) throws IOException {
            String hex = HexFormat.of().formatHex(name);
            String item = (first ? "" : ",") + (v2 ? "{\"name\":\"" + hex + "\",\"size\":" + size + "}" : "\"" + hex + "\"");
            first = false;
            out.write(item.getBytes(StandardCharsets.US_ASCII));
        }

        void finish() throws IOException {
            out.write(']');
        }
    }
}
