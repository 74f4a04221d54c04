package io.segstore.bridge;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.ConnectException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The server side of Borg 1.2's repository RPC ({@code borg serve}), answering each call by
 * forwarding it to a Segstore service.
 *
 * <p>Calls are read one at a time from the client; object calls (put, delete, get) run on a
 * {@link Pipeline} and answer when their HTTP request is done, every other call waits for those
 * and is answered in turn. The session's writer lease lives in a {@link WriterSession}.
 *
 * <p>Method by method: {@code negotiate} answers Borg's version handshake and switches log lines
 * to JSON; {@code open} maps the path to a repository (creating it for {@code borg init}) and,
 * for an exclusive open, takes the writer lease; {@code put}, {@code get}, {@code delete} are
 * object requests inside the lease's transaction; {@code list} and {@code scan} page through
 * index and disk order; {@code commit} commits and keeps the lease, or, to compact, commits,
 * runs a compaction job and waits for it; {@code check} runs a check (or repair) job and logs
 * its findings as Borg does; {@code rollback}, {@code save_key}, {@code load_key},
 * {@code get_free_nonce}, {@code commit_nonce_reservation}, {@code break_lock}, {@code destroy}
 * and {@code __len__} map one to one.
 */
final class BorgRpcServer {

    /** The borg serve version the bridge answers as (its RPC is that of every 1.2 release). */
    static final String VERSION = "1.2.4";
    static final List<Object> SERVER_VERSION = List.of(1L, 2L, 4L, -1L);
    private static final long END_DRAIN_MILLIS = 5000;
    private static final int LEGACY_PROTOCOL = 2;
    private static final long JOB_POLL_MAX_MILLIS = 500;
    private static final java.util.regex.Pattern QUOTA_DOOMED =
            java.util.regex.Pattern.compile("storage quota \\((\\d+) bytes\\) has been exceeded \\((\\d+) bytes\\)");

    private final ServeOptions options;
    private final SegstoreClient client;
    private final BorgLog log;
    private final RpcCodec.Reader reader;
    private final RpcCodec.Writer writer;
    private final Pipeline pipeline;
    private final long leaseSeconds;

    /** The open repository (null until open). */
    private String repo;
    private String path;
    private String lockName;
    private boolean repoAppendOnly;
    /** Session append-only: borg serve --append-only on a repository that is not (deletes logged, nothing compacted). */
    private boolean sessionAppendOnly;
    private WriterSession session;
    private IdPager listPager;
    private IdPager scanPager;
    /** The quota error that doomed the transaction, reported again by its commit as borg does. */
    private volatile BorgError doomedBy;

    BorgRpcServer(ServeOptions options, SegstoreClient client, BorgLog log, InputStream in, OutputStream out, int maxCalls,
                  long maxBytes, long leaseSeconds) {
        this.options = options;
        this.client = client;
        this.log = log;
        this.reader = new RpcCodec.Reader(in);
        this.writer = new RpcCodec.Writer(out, "Segstore borg bridge to " + client.baseUrl() + ", Java " + System.getProperty("java.version"));
        this.pipeline = new Pipeline(maxCalls, maxBytes);
        this.leaseSeconds = leaseSeconds;
    }

    /** Serves until the client closes its end; returns the exit status. */
    int serve() throws IOException {
        try {
            while (true) {
                RpcCodec.Request r;
                try {
                    r = reader.next();
                } catch (RpcCodec.ProtocolException e) {
                    log.error("Borg " + version() + ": Got unexpected RPC data format from client.");
                    return 2;
                }
                if (r == null) {
                    if (repo == null) {
                        log.raw("Borg " + version() + ": Got connection close before repository was opened.\n");
                    }
                    return 0;
                }
                dispatch(r);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            end();
        }
    }

    /** Gives the lease back when the process is told to stop (SIGTERM) in the middle of a session. */
    void abort() {
        WriterSession s = session;
        if (s != null) {
            s.close();
        }
    }

    private static String version() {
        return VERSION;
    }

    /** The client is gone: calls still running get a moment to finish, then the lease is given back regardless. */
    private void end() {
        try {
            if (!pipeline.drain(END_DRAIN_MILLIS)) {
                log.debug("object calls still running after " + END_DRAIN_MILLIS + " ms; rolling back regardless");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pipeline.close();
        if (session != null) {
            session.close(); // uncommitted writes are discarded, as borg serve's close does
        }
    }

    private void dispatch(RpcCodec.Request r) throws IOException, InterruptedException {
        switch (r.method()) {
            case "put", "delete", "get" -> {
                try {
                    switch (r.method()) {
                        case "put" -> put(r);
                        case "delete" -> delete(r);
                        default -> get(r);
                    }
                } catch (RuntimeException e) {
                    answer(r, translate(e, null)); // a malformed call: borg gets an error, the session goes on
                }
            }
            default -> {
                pipeline.drain();
                Object result;
                try {
                    result = call(r);
                } catch (BorgError e) {
                    answer(r, e);
                    return;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    answer(r, translate(e, null));
                    return;
                }
                writer.result(r, result);
            }
        }
    }

    // ---- pipelined object calls ---------------------------------------------------------------

    private void put(RpcCodec.Request r) throws IOException, InterruptedException {
        byte[] id = required(r, "id");
        byte[] data = required(r, "data");
        String txn = writable(r);
        if (txn == null) {
            return;
        }
        pipeline.submit(id, data.length, () -> objectCall(r, id, () -> {
            client.put(repo, txn, id, data);
            return null;
        }));
    }

    private void delete(RpcCodec.Request r) throws IOException, InterruptedException {
        byte[] id = required(r, "id");
        String txn = writable(r);
        if (txn == null) {
            return;
        }
        pipeline.submit(id, 0, () -> objectCall(r, id, () -> {
            client.delete(repo, txn, id);
            return null;
        }));
    }

    private void get(RpcCodec.Request r) throws IOException, InterruptedException {
        byte[] id = required(r, "id");
        if (repo == null) {
            answer(r, notOpen());
            return;
        }
        String txn = session == null ? null : session.current();
        pipeline.submit(id, 0, () -> objectCall(r, id, () -> client.get(repo, txn, id)));
    }

    private static byte[] required(RpcCodec.Request r, String name) {
        byte[] b = r.bytes(name);
        if (b == null) {
            throw BorgError.other("TypeError", r.method() + "() missing required argument: '" + name + "'");
        }
        return b;
    }

    /** The lease's transaction for a write, taken now if needed; null after answering an error. */
    private String writable(RpcCodec.Request r) throws IOException {
        if (repo == null) {
            answer(r, notOpen());
            return null;
        }
        try {
            return session.acquire();
        } catch (BorgError e) {
            answer(r, e);
        } catch (Exception e) {
            answer(r, translate(e, null));
        }
        return null;
    }

    private interface HttpCall {
        Object run() throws IOException;
    }

    private void objectCall(RpcCodec.Request r, byte[] id, HttpCall call) {
        try {
            Object result = call.run();
            if (session != null && session.current() != null) {
                session.touch();
            }
            writer.result(r, result);
        } catch (Exception e) {
            try {
                answer(r, translate(e, id));
            } catch (IOException gone) {
                // the client went away; the session ends when the reader sees it
            }
        }
    }

    // ---- the other calls ------------------------------------------------------------------------

    private Object call(RpcCodec.Request r) throws Exception {
        String m = r.method();
        if (!m.equals("negotiate") && !m.equals("open") && !m.equals("inject_exception") && repo == null
                && List.of("check", "commit", "rollback", "destroy", "__len__", "list", "scan", "save_key", "load_key",
                "break_lock", "get_free_nonce", "commit_nonce_reservation").contains(m)) {
            throw notOpen();
        }
        switch (m) {
            case "negotiate":
                return negotiate(r);
            case "open":
                return open(r);
            case "commit":
                return commit(r);
            case "rollback":
                rollback();
                return null;
            case "check":
                return check(r);
            case "list":
                return listPager.page(limit(r), r.bytes("marker"), session.current());
            case "scan":
                return scanPager.page(limit(r), r.bytes("marker"), null);
            case "__len__":
                return ((Number) client.repository(repo).get("objects")).longValue();
            case "save_key":
                client.saveKey(repo, r.bytes("keydata"));
                return null;
            case "load_key":
                return client.loadKey(repo);
            case "get_free_nonce":
                return freeNonce();
            case "commit_nonce_reservation":
                return commitNonceReservation(r);
            case "break_lock":
                client.breakLock(repo);
                session.forget();
                return null;
            case "destroy":
                return destroy();
            case "inject_exception":
                throw injected(r.text("kind"));
            default:
                throw BorgError.invalidRpcMethod(m);
        }
    }

    private Object negotiate(RpcCodec.Request r) {
        Object clientData = r.args().get("client_data");
        if (clientData instanceof Number n && n.longValue() == LEGACY_PROTOCOL) {
            return (long) LEGACY_PROTOCOL;
        }
        if (clientData instanceof Map) {
            log.useJson();
            log.debug("Initialized logging system for JSON-based protocol");
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("server_version", SERVER_VERSION);
        return answer;
    }

    private Object open(RpcCodec.Request r) throws IOException {
        String borgPath = r.text("path");
        boolean create = r.flag("create", false);
        boolean lock = r.flag("lock", true);
        Object exclusiveArg = r.args().get("exclusive");
        boolean exclusive = exclusiveArg == null || Boolean.TRUE.equals(exclusiveArg); // None: an old client that upgrades its lock
        boolean appendOnly = r.flag("append_only", false);
        Double lockWait = r.number("lock_wait");
        log.debug("Resolving repository path " + borgPath);
        if (session != null) {
            close();
        }
        String name = RepositoryPath.name(borgPath);
        if (name == null) {
            log.error("Segstore: \"" + borgPath + "\" names no repository: a Segstore repository is one name of 1 to 64 "
                    + "letters, digits, '.', '_' or '-' (e.g. ssh://segstore/myrepo).");
            throw BorgError.pathNotAllowed(borgPath);
        }
        if (!RepositoryPath.allowed(name, options.restrictToPaths, options.restrictToRepositories)) {
            throw BorgError.pathNotAllowed(borgPath);
        }
        String display = "/" + name;
        path = display;
        lockName = client.baseUrl() + "/repos/" + name + " (writer lease)";
        Map<String, Object> info;
        try {
            if (create) {
                // borg init through serve --append-only makes a normal repository unless init asks for append-only
                info = client.createRepository(name, appendOnly, options.storageQuota);
                log.debug("created Segstore repository " + name);
            } else {
                info = client.repository(name);
            }
        } catch (SegstoreClient.ApiProblem p) {
            if (lock || !p.is("repository-unavailable")) {
                throw translate(p, null);
            }
            info = Map.of(); // break-lock of a repository the service could not open: go on without its id
        }
        repo = name;
        repoAppendOnly = Boolean.TRUE.equals(info.get("appendOnly"));
        sessionAppendOnly = !create && options.appendOnly;
        if (!create && options.storageQuota != null) {
            log.info("Segstore: --storage-quota applies to repositories created through this bridge; the quota of " + name
                    + " is set on the service (PATCH /repos/" + name + ").");
        }
        session = new WriterSession(client, name, lockName, leaseSeconds, log);
        session.lockWait(lockWait);
        listPager = new IdPager(client, name, "index");
        scanPager = new IdPager(client, name, "disk");
        doomedBy = null;
        if (lock && exclusive) {
            try {
                session.acquire();
            } catch (SegstoreClient.ApiProblem p) {
                if (!p.is("check-needed")) {
                    throw translate(p, null);
                }
                // a repository that needs a check opens for borg check (--repair); writes fail until it is repaired
                log.debug("the repository needs a check: opened without the writer lease");
            }
        }
        Object id = info.get("id");
        return id instanceof String hex ? HexFormat.of().parseHex(hex) : new byte[32];
    }

    /** Ends the session on the repository (a second open in one connection). */
    private void close() throws IOException {
        try {
            pipeline.drain();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
        session.close();
        session = null;
        repo = null;
    }

    private Object commit(RpcCodec.Request r) throws IOException {
        boolean compact = r.flag("compact", true);
        Double threshold = r.number("threshold");
        listPager.reset();
        try {
            if (compact && !repoAppendOnly && !sessionAppendOnly) {
                session.commit(false); // compaction takes the writer step by step: let the lease go
                doomedBy = null;
                compact(threshold == null ? 0.1 : threshold);
            } else {
                session.commit(true);
                doomedBy = null;
            }
        } catch (SegstoreClient.ApiProblem p) {
            BorgError doomed = doomedBy;
            doomedBy = null;
            if (p.is("transaction-doomed") && doomed != null) {
                throw doomed;
            }
            throw p;
        }
        return null;
    }

    private void compact(double threshold) throws IOException {
        Map<String, Object> job = waitFor(startJob(() -> client.startCompaction(repo, threshold)));
        Map<?, ?> result = (Map<?, ?>) job.get("result");
        long freed = result == null ? 0 : ((Number) result.get("quotaFreed")).longValue();
        log.info("compaction freed about " + BorgError.FileSizes.format(freed) + " repository space.");
        log.debug("compaction completed.");
    }

    private Object check(RpcCodec.Request r) throws IOException {
        boolean repair = r.flag("repair", false);
        Double maxDuration = r.number("max_duration");
        long max = maxDuration == null ? 0 : (long) Math.ceil(maxDuration);
        if (repair && (repoAppendOnly || sessionAppendOnly)) {
            throw BorgError.appendOnly(path);
        }
        log.info("Starting repository check");
        if (repair) {
            session.rollback(); // the repair takes the writer itself
        }
        Map<String, Object> job = waitFor(startJob(() -> client.startCheck(repo, repair, repair ? 0 : max)));
        Map<?, ?> result = (Map<?, ?>) job.get("result");
        boolean partial = result == null ? max > 0 : "partial".equals(result.get("mode"));
        String mode = partial ? "partial" : "full"; // Borg's words: a repair is a full check
        List<?> errors = result == null ? List.of() : (List<?>) result.get("errors");
        for (Object e : errors) {
            log.error(String.valueOf(e));
        }
        if (result != null && Boolean.FALSE.equals(result.get("finished"))) {
            log.info("finished partial segment check (the next partial check resumes where this one stopped)");
        }
        if (!errors.isEmpty()) {
            if (repair) {
                log.info("Finished " + mode + " repository check, errors found and repaired.");
            } else {
                log.error("Finished " + mode + " repository check, errors found.");
            }
        } else {
            log.info("Finished " + mode + " repository check, no problems found.");
        }
        return errors.isEmpty() || repair;
    }

    private interface JobStart {
        String start() throws IOException;
    }

    /** Starts a job, waiting while the repository already has its share of jobs (429). */
    private String startJob(JobStart start) throws IOException {
        long delay = 100;
        while (true) {
            try {
                return start.start();
            } catch (SegstoreClient.ApiProblem p) {
                if (!p.is("too-many-jobs")) {
                    throw p;
                }
                pause(delay);
                delay = Math.min(2000, delay * 2);
            }
        }
    }

    /** Polls a job until it ends; a failed job becomes borg's error. */
    private Map<String, Object> waitFor(String jobPath) throws IOException {
        long delay = 20;
        while (true) {
            Map<String, Object> job = client.job(jobPath);
            String state = String.valueOf(job.get("state"));
            if (state.equals("succeeded")) {
                return job;
            }
            if (state.equals("failed")) {
                String error = String.valueOf(job.get("error"));
                if (error.toLowerCase(Locale.ROOT).contains("append-only") || error.toLowerCase(Locale.ROOT).contains("append only")) {
                    throw BorgError.appendOnly(path);
                }
                throw BorgError.other("Exception", "Segstore " + job.get("kind") + " job failed: " + error);
            }
            pause(delay);
            delay = Math.min(JOB_POLL_MAX_MILLIS, delay * 2);
        }
    }

    private static void pause(long millis) throws InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
    }

    private void rollback() throws IOException {
        listPager.reset();
        doomedBy = null;
        session.rollback();
    }

    private Object freeNonce() throws IOException {
        String hex = client.freeNonce(repo);
        return hex == null ? null : (Object) new BigInteger(hex, 16);
    }

    private Object commitNonceReservation(RpcCodec.Request r) throws IOException {
        BigInteger next = r.integer("next_unreserved");
        BigInteger start = r.integer("start_nonce");
        String txn = session.acquire();
        try {
            client.reserveNonces(repo, txn, hex16(next), start == null ? null : hex16(start));
            session.touch();
        } catch (SegstoreClient.ApiProblem p) {
            if (p.is("nonce-conflict")) {
                throw BorgError.other("Exception", "nonce space reservation with mismatched previous state");
            }
            throw p;
        }
        return null;
    }

    private static String hex16(BigInteger v) {
        if (v.signum() < 0 || v.bitLength() > 64) {
            throw BorgError.other("ValueError", "nonce out of range: " + v);
        }
        return String.format(Locale.ROOT, "%016x", v.longValue());
    }

    private Object destroy() throws IOException {
        if (repoAppendOnly || sessionAppendOnly) {
            throw BorgError.appendOnly(path);
        }
        session.rollback();
        client.destroyRepository(repo);
        session.forget();
        return null;
    }

    private static BorgError injected(String kind) {
        String s1 = "test string";
        return switch (kind == null ? "" : kind) {
            case "DoesNotExist" -> BorgError.doesNotExist(s1);
            case "AlreadyExists" -> BorgError.alreadyExists(s1);
            case "CheckNeeded" -> BorgError.checkNeeded(s1);
            case "IntegrityError" -> BorgError.integrityError(s1);
            case "PathNotAllowed" -> BorgError.pathNotAllowed("foo");
            case "ObjectNotFound" -> BorgError.objectNotFound(s1, "test string2");
            case "InvalidRPCMethod" -> BorgError.invalidRpcMethod(s1);
            default -> BorgError.other("ZeroDivisionError", "integer division or modulo by zero");
        };
    }

    private static Integer limit(RpcCodec.Request r) {
        Double l = r.number("limit");
        return l == null ? null : (int) Math.min(Integer.MAX_VALUE, l.longValue());
    }

    private static BorgError notOpen() {
        return BorgError.other("AttributeError", "'NoneType' object has no attribute (the repository is not open)");
    }

    // ---- errors -------------------------------------------------------------------------------

    private void answer(RpcCodec.Request r, BorgError e) throws IOException {
        log.debug("RPC " + r.method() + " failed: " + e.className() + ": " + e.getMessage());
        writer.error(r, e);
    }

    /** What borg serve would have raised for this failure. */
    private BorgError translate(Exception e, byte[] id) {
        if (e instanceof BorgError b) {
            return b;
        }
        if (e instanceof SegstoreClient.ApiProblem p) {
            return translate(p, id);
        }
        if (e instanceof ConnectException c) {
            return BorgError.other("ConnectionRefusedError", c.getMessage());
        }
        if (e instanceof IOException io) {
            return BorgError.other("OSError", "Segstore service at " + client.baseUrl() + ": " + io);
        }
        log.debug("unexpected: " + e);
        return BorgError.other(e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
    }

    private BorgError translate(SegstoreClient.ApiProblem p, byte[] id) {
        String where = path == null ? "" : path;
        switch (p.type) {
            case "repository-not-found":
                return BorgError.doesNotExist(where);
            case "repository-exists":
                return BorgError.alreadyExists(where);
            case "object-not-found":
                return BorgError.objectNotFound(id == null ? "?" : HexFormat.of().formatHex(id), where);
            case "check-needed":
                return BorgError.checkNeeded(where);
            case "integrity-error":
            case "object-too-large":
            case "verification-failed":
                return BorgError.integrityError(p.getMessage());
            case "locked":
                return BorgError.lockTimeout(lockName);
            case "quota-exceeded": {
                BorgError q = BorgError.storageQuotaExceeded(p.number("quota"), p.number("used"));
                doomedBy = q;
                return q;
            }
            case "insufficient-storage":
                return BorgError.insufficientFreeSpace(p.number("required"), p.number("available"));
            case "transaction-doomed": {
                BorgError doomed = doomedBy;
                if (doomed != null) {
                    return doomed;
                }
                // a concurrent put was answered first: the detail names the quota error that doomed the transaction
                java.util.regex.Matcher m = QUOTA_DOOMED.matcher(p.getMessage());
                if (m.find()) {
                    doomed = BorgError.storageQuotaExceeded(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
                    doomedBy = doomed;
                    return doomed;
                }
                return BorgError.other("TransactionDoomed", p.getMessage());
            }
            case "transaction-expired":
            case "transaction-ended":
            case "transaction-not-found":
                if (session != null) {
                    session.lostLease(p.getMessage());
                }
                return BorgError.lockFailed(lockName, "the writer lease was lost: " + p.getMessage());
            case "append-only":
                return BorgError.appendOnly(where);
            case "repository-unavailable":
                return BorgError.lockFailed(lockName, p.getMessage());
            default:
                break;
        }
        if (p.status == 401) {
            return BorgError.other("PermissionError", "Segstore refused the credentials (401): set SEGSTORE_TOKEN to a valid token. "
                    + p.getMessage());
        }
        if (p.status == 403) {
            String detail = p.getMessage();
            boolean removal = detail.contains("delete") || detail.contains("overwrite") || detail.contains("compact");
            return BorgError.other("PermissionError", "Segstore refused this (403): " + detail
                    + (removal && !repoAppendOnly && repo != null ? " A token with the append role may delete, prune and compact "
                    + "only in an append-only repository, where nothing is really removed (as with borg serve --append-only): "
                    + "ask the operator to make repository " + repo + " append-only, or use a token with the write role." : ""));
        }
        return BorgError.other("Exception", "Segstore answered " + p.status + " (" + p.type + "): " + p.getMessage());
    }
}
