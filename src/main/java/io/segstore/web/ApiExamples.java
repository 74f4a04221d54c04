package io.segstore.web;

/**
 * Example bodies for the OpenAPI document, taken from a running service. Kept here so that the
 * controllers' annotations stay short.
 */
final class ApiExamples {

    static final String JSON = "application/json";
    static final String OCTETS = "application/octet-stream";

    static final String CREATE = """
            {"appendOnly": false, "storageQuota": 0, "maxSegmentSize": 524288000, "segmentsPerDir": 1000,
             "additionalFreeSpace": 0, "verify": "none"}""";

    static final String REPOSITORY = """
            {"name": "demo", "id": "3fcafd9a6681134872dfdf6dec1b86fa4b38072bb1f29d7913977f1183396bb2",
             "transactionId": 4, "objects": 1, "segments": 5, "sparseBytes": 114, "quotaUsed": 92, "quotaLimit": 0,
             "appendOnly": false, "verify": "none",
             "lastCheck": {"time": "2026-11-29T00:46:54.020Z", "mode": "full", "errors": 0, "durationMillis": 12},
             "additionalFreeSpace": 0, "maxSegmentSize": 524288000, "segmentsPerDir": 1000,
             "openTransaction": false, "writersWaiting": 0, "checkNeeded": null, "storage": "local"}""";

    static final String NEW_REPOSITORY = """
            {"name": "demo", "id": "3fcafd9a6681134872dfdf6dec1b86fa4b38072bb1f29d7913977f1183396bb2",
             "transactionId": null, "objects": 0, "segments": 0, "sparseBytes": 0, "quotaUsed": 0, "quotaLimit": 0,
             "appendOnly": false, "verify": "none", "lastCheck": null,
             "additionalFreeSpace": 0, "maxSegmentSize": 524288000, "segmentsPerDir": 1000,
             "openTransaction": false, "writersWaiting": 0, "checkNeeded": null, "storage": "local"}""";

    static final String REPOSITORY_LIST = "{\"repositories\": [" + REPOSITORY + "]}";

    static final String PATCH = """
            {"storageQuota": 10737418240, "verify": "sha256"}""";

    static final String OBJECT_BYTES = "hello";

    static final String LISTING = """
            {"objects": [{"id": "0000000000000000000000000000000000000000000000000000000000000002", "size": 1},
                         {"id": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "size": 5}],
             "next": "aQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC"}""";

    static final String LISTING_LAST = """
            {"objects": [{"id": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "size": 5}],
             "next": null}""";

    static final String EXISTS_REQUEST = """
            {"ids": ["2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                     "0000000000000000000000000000000000000000000000000000000000000001"]}""";

    static final String EXISTS = """
            {"present": ["2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"]}""";

    static final String BEGIN = """
            {"leaseSeconds": 120}""";

    static final String TRANSACTION = """
            {"id": "J6k0scKJLa7CMEKfDLry_g", "state": "open", "leaseSeconds": 120,
             "expiresAt": "2026-11-29T00:48:42.695739552Z", "baseTransactionId": 4, "puts": 1, "deletes": 0}""";

    static final String NEW_TRANSACTION = """
            {"id": "J6k0scKJLa7CMEKfDLry_g", "state": "open", "leaseSeconds": 120,
             "expiresAt": "2026-11-29T00:48:42.695739552Z", "baseTransactionId": 4, "puts": 0, "deletes": 0}""";

    static final String COMMIT_KEEP = """
            {"keep": true}""";

    static final String COMMITTED = """
            {"transactionId": 6, "next": null}""";

    static final String COMMITTED_KEEP = """
            {"transactionId": 6, "next": {"id": "J6k0scKJLa7CMEKfDLry_g", "state": "open", "leaseSeconds": 120,
             "expiresAt": "2026-11-29T00:49:02.121212121Z", "baseTransactionId": 6, "puts": 0, "deletes": 0}}""";

    static final String COMPACTION_REQUEST = """
            {"threshold": 0.1}""";

    static final String CHECK_REQUEST = """
            {"repair": false, "maxDurationSeconds": 60}""";

    static final String REPAIR_REQUEST = """
            {"repair": true}""";

    static final String REPAIR_INTO_REQUEST = """
            {"repair": true, "into": "demo-repaired"}""";

    static final String COMPACTION_STARTED = """
            {"id": "_tNIckT6tIUrYLDD", "kind": "compaction", "state": "queued", "progress": 0, "phase": "",
             "result": null, "error": null, "created": "2026-11-29T00:46:54.032966673Z", "finished": null}""";

    static final String JOB_STARTED = """
            {"id": "P8vIxWJRu5yjhKVs", "kind": "check", "state": "queued", "progress": 0, "phase": "",
             "result": null, "error": null, "created": "2026-11-29T00:46:53.902368875Z", "finished": null}""";

    static final String CHECK_DONE = """
            {"id": "P8vIxWJRu5yjhKVs", "kind": "check", "state": "succeeded", "progress": 100, "phase": "check",
             "result": {"mode": "full", "ok": true, "errors": [], "segmentsChecked": 5, "finished": true,
                        "entriesSalvaged": 0, "durationMillis": 12},
             "error": null, "created": "2026-11-29T00:46:53.902368875Z", "finished": "2026-11-29T00:46:53.921113202Z"}""";

    static final String COMPACTION_DONE = """
            {"id": "_tNIckT6tIUrYLDD", "kind": "compaction", "state": "succeeded", "progress": 100, "phase": "compact",
             "result": {"segmentsCompacted": 6, "bytesFreed": 171, "quotaFreed": 46, "steps": 1, "durationMillis": 64},
             "error": null, "created": "2026-11-29T00:46:54.032966673Z", "finished": "2026-11-29T00:46:54.108047464Z"}""";

    static final String JOB_FAILED = """
            {"id": "Qw3rTy0pLm9nBv2c", "kind": "compaction", "state": "failed", "progress": 0, "phase": "",
             "result": null, "error": "Compaction is not possible: the repository is open read-only.",
             "created": "2026-11-29T00:50:01.000000000Z", "finished": "2026-11-29T00:50:01.002000000Z"}""";

    static final String HISTORY = """
            {"transactions": [{"id": 1, "time": "2026-11-29T00:47:00.820532Z"},
                              {"id": 2, "time": "2026-11-29T00:47:00.851430Z"}]}""";

    static final String KEY = "hqlhbGdvcml0aG2mc2hhMjU2pGRhdGHaAZ5SBg8...";

    static final String NONCE = """
            {"nonce": "0000000000001000"}""";

    static final String NO_NONCE = """
            {"nonce": null}""";

    static final String NONCE_RESERVED = """
            {"nonce": "0000000000002000"}""";

    static final String NONCE_REQUEST = """
            {"next": "0000000000002000", "expected": "0000000000001000"}""";

    private ApiExamples() {
    }
}
