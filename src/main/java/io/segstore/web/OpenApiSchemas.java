package io.segstore.web;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.media.JsonSchema;
import io.swagger.v3.oas.models.media.Schema;
import java.util.List;
import java.util.Map;

/**
 * What the body schemas' fields mean, which of them may be null, and their allowed values, in
 * one place (the records stay plain; some of them belong to the service). A field named here
 * that the generated schema lacks fails the document, so the two cannot drift apart silently.
 */
final class OpenApiSchemas {

    private OpenApiSchemas() {
    }

    static void describe(Components c) {
        schema(c, "RepositoryBody", "A repository as the API shows it")
                .field("name", "The repository's name (its directory under segstore.data-dir)")
                .nullable("id", "Borg's repository id, 64 hex digits; null in a listing when the repository could not be opened")
                .nullable("transactionId", "The last committed transaction; null before the first commit")
                .field("objects", "Committed objects")
                .field("segments", "Segment files")
                .field("sparseBytes", "Bytes in segments that compaction could free")
                .field("quotaUsed", "Storage quota use in bytes, counted as Borg counts it (written data stays counted until "
                        + "compaction frees it)")
                .field("quotaLimit", "The storage quota in bytes; 0 for none")
                .field("appendOnly", "Borg's append-only mode")
                .nullable("verify", "`none` or `sha256` (see create)")
                .nullable("lastCheck", "The last check that finished; null if none ran")
                .field("additionalFreeSpace", "Free disk space in bytes each commit that adds data leaves beyond its own needs")
                .field("maxSegmentSize", "Segment file size limit in bytes")
                .field("segmentsPerDir", "Segment files per directory under data/")
                .field("openTransaction", "Whether a transaction holds the writer")
                .field("writersWaiting", "Requests waiting for the writer right now")
                .nullable("checkNeeded", "Why only a check can run (an inconsistency was found) or, in a listing, why the "
                        + "repository could not be opened; null when all is well")
                .nullable("lastCompaction", "The last compaction that finished; null if none ran")
                .nullable("maintenance", "Scheduled maintenance (null in a listing when the repository could not be opened)")
                .field("storage", "Where its segments live: `local` (the data directory) or the object store's name");
        schema(c, "LastCompaction", "The last compaction that finished, as recorded in the repository's config")
                .field("time", "When it finished (ISO-8601)")
                .field("bytesFreed", "Bytes of segment files it removed")
                .field("durationMillis", "How long it ran");
        schema(c, "MaintenanceSchedule", "Scheduled maintenance: 0 turns an interval off")
                .field("checkIntervalSeconds", "A check starts this long after the last one finished")
                .field("checkMaxDurationSeconds", "0: full checks; otherwise partial checks that stop after this long and "
                        + "resume where the last one stopped")
                .field("compactionIntervalSeconds", "A compaction starts this long after the last one finished (never in an "
                        + "append-only repository, never beside a repair)")
                .field("compactionThreshold", "Segments whose freeable share is above this are compacted");
        schema(c, "MaintenancePatch", "Scheduled maintenance to change; absent fields stay as they are")
                .field("checkIntervalSeconds", "Seconds between checks; 0 for none")
                .field("checkMaxDurationSeconds", "0: full checks; otherwise partial checks of at most this long")
                .field("compactionIntervalSeconds", "Seconds between compactions; 0 for none")
                .field("compactionThreshold", "Freeable share (0 to 1) above which a segment is compacted");
        schema(c, "RestoreRequest", "An earlier transaction to bring back as a new repository")
                .field("transactionId", "A transaction of the repository's history (GET /repos/{repo}/history)")
                .field("into", "The name of the new repository; it must not exist");
        schema(c, "RepositoryList", "Every repository, sorted by name")
                .field("repositories", "The repositories");
        schema(c, "RepositoryPatch", "Settings that may change after creation; absent fields stay as they are")
                .field("appendOnly", "Borg's append-only mode")
                .field("storageQuota", "Storage quota in bytes; 0 for none")
                .field("additionalFreeSpace", "Free disk space in bytes to keep beyond each commit's needs")
                .oneOf("verify", "`none` or `sha256`: with sha256 a PUT's body must hash to its id", "none", "sha256")
                .field("maintenance", "Scheduled checks and compactions");
        schema(c, "CreateRequest", "Settings of a new repository; every field is optional (absent: Borg's default)")
                .field("appendOnly", "Borg's append-only mode: nothing is ever physically removed (default false)")
                .field("storageQuota", "Storage quota in bytes, counted as Borg counts it; 0 for none (default 0)")
                .field("maxSegmentSize", "Segment file size limit in bytes, 1024 to 4273995775 (default 524288000)")
                .field("segmentsPerDir", "Segment files per directory under data/, at least 1 (default 1000)")
                .field("additionalFreeSpace", "Free disk space in bytes to keep beyond each commit's needs (default 0)")
                .oneOf("verify", "With `sha256` a PUT's body must hash to its id (Borg's manifest id exempt); default `none`",
                        "none", "sha256")
                .field("storage", "The object store (segstore.s3.stores.<name>) the repository lives in, or `local` for the data directory; absent: segstore.s3.default-storage if set, else local");
        schema(c, "LastCheck", "The last check that finished, as recorded in the repository's config")
                .field("time", "When it finished (ISO-8601)")
                .oneOf("mode", "What it did", "full", "partial", "repair")
                .field("errors", "How many errors it found")
                .field("durationMillis", "How long it ran");
        schema(c, "Entry", "One object of a listing")
                .field("id", "Object id, 64 lower-case hex digits")
                .field("size", "The object's length in bytes");
        schema(c, "ListingBody", "A page of a listing")
                .field("objects", "This page, in the order asked for")
                .nullable("next", "The marker of the next page (opaque); null when this was the last");
        schema(c, "ExistsRequest", "The ids to look for")
                .field("ids", "Up to 10000 object ids, 64 hex digits each");
        schema(c, "ExistsBody", "The ids that exist")
                .field("present", "Those of the ids asked for that exist, in the order given, in lower case");
        schema(c, "BeginRequest", "The lease wanted; the body is optional")
                .field("leaseSeconds", "The transaction is rolled back after this long without a request naming it; 1 to "
                        + "segstore.lease.max-length (default 3600); absent: segstore.lease.default-length (default 60)");
        schema(c, "TransactionBody", "A transaction and its lease")
                .field("id", "Opaque id: name it in Segstore-Transaction")
                .oneOf("state", "Where it stands (a request naming an ended one answers 409)", "open", "committed",
                        "rolled_back", "expired")
                .field("leaseSeconds", "The lease length")
                .field("expiresAt", "When the lease runs out if no request comes")
                .nullable("baseTransactionId", "The committed transaction it started from; null before the first commit")
                .field("puts", "Objects it wrote so far")
                .field("deletes", "Objects it deleted so far");
        schema(c, "CommitRequest", "How to commit; the body is optional")
                .field("keep", "Keep the writer: go on in a new transaction with the same id, returned as next");
        schema(c, "CommitBody", "A commit's outcome")
                .field("transactionId", "The new committed transaction id; the data is durable")
                .nullable("next", "With keep: the transaction that goes on holding the writer; else null");
        schema(c, "CompactionRequest", "The body is optional")
                .field("threshold", "Compact segments whose freeable share exceeds this ratio, 0 to 1 (default 0.1)");
        schema(c, "CheckRequest", "The body is optional; without any field a full check runs")
                .field("repair", "Repair what the check finds: salvage every intact entry, rebuild index and hints (not with "
                        + "maxDurationSeconds, not in an append-only repository)")
                .field("maxDurationSeconds", "A partial check of at most this long, resuming where the last one stopped; "
                        + "absent or 0: a full check")
                .field("into", "With repair, for a repository in object storage (required there, refused elsewhere): the name "
                        + "of the new repository in the same store that receives the repaired copy; the damaged one stays as it is");
        schema(c, "JobBody", "A maintenance job")
                .field("id", "Opaque id; the job's Location is /repos/{repo}/jobs/{id}")
                .oneOf("kind", "What it does", "compaction", "check", "repair", "restore")
                .oneOf("state", "Where it stands", "queued", "running", "succeeded", "failed")
                .field("progress", "Percent done, 0 to 100")
                .field("phase", "What it is doing now (empty before it starts)")
                .nullable("result", "When it succeeded: a check's mode, ok, errors (a list of messages), segmentsChecked, "
                        + "finished, entriesSalvaged and durationMillis; a compaction's segmentsCompacted, bytesFreed, "
                        + "quotaFreed, steps and durationMillis")
                .nullable("error", "When it failed: why")
                .field("created", "When it was started")
                .nullable("finished", "When it ended; null while it runs");
        schema(c, "NonceBody", "Borg's nonce counter")
                .nullable("nonce", "16 hex digits; null before the first reservation");
        schema(c, "NonceRequest", "A reservation")
                .field("next", "Reserve up to this value, 16 hex digits")
                .nullable("expected", "The current value, 16 hex digits; absent or null when none was reserved yet");
        schema(c, "HistoryBody", "Borg's transactions log")
                .field("transactions", "Every logged commit, oldest first");
        schema(c, "HistoryEntry", "One logged commit")
                .field("id", "The transaction id")
                .field("time", "When it was committed");
    }

    private static Described schema(Components c, String name, String description) {
        Schema<?> s = c.getSchemas() == null ? null : c.getSchemas().get(name);
        if (s == null) {
            throw new IllegalStateException("schema " + name + " is not in the document any more");
        }
        s.setDescription(description);
        return new Described(name, s);
    }

    /** One schema whose fields are being described. */
    private record Described(String name, Schema<?> schema) {

        @SuppressWarnings("unchecked")
        private Schema<Object> property(String field) {
            Map<String, Schema> properties = schema.getProperties();
            Schema<Object> p = properties == null ? null : (Schema<Object>) properties.get(field);
            if (p == null) {
                throw new IllegalStateException("schema " + name + " has no field " + field);
            }
            return p;
        }

        Described field(String field, String description) {
            property(field).setDescription(description);
            return this;
        }

        /** A field that may be null: its type gains "null" (a $ref becomes a choice of it or null). */
        Described nullable(String field, String description) {
            Schema<Object> p = property(field);
            if (p.getOneOf() != null) {
                p.setDescription(description); // made nullable by an earlier build of the document
            } else if (p.get$ref() != null) {
                Schema<Object> either = new JsonSchema();
                either.setOneOf(List.of(new JsonSchema().$ref(p.get$ref()), OpenApiConfiguration.schema("null")));
                either.setDescription(description);
                schema.getProperties().put(field, either);
            } else {
                p.typesItem("null");
                p.setDescription(description);
            }
            return this;
        }

        Described oneOf(String field, String description, String... values) {
            Schema<Object> p = property(field);
            p.setDescription(description);
            p.setEnum(List.of((Object[]) values));
            return this;
        }
    }
}
