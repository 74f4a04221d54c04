package io.segstore.tier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The writer lease of one repository in a bucket: a small JSON object {@code <repository>/lease}
 * ({@code {"holder","url","epoch","expiresAt"}}) created with If-None-Match and changed only with
 * If-Match, so that of two instances racing for it one gets 412. A lease is taken over only when
 * it expired more than {@code grace} ago; its holder stops writing once its last renewal is older
 * than {@code ttl - margin} (fencing), before anyone else may take it.
 */
public final class BucketLease {

    public static final String NAME = "lease";

    /** What the lease object says. */
    public record State(String holder, String url, long epoch, long expiresAt, String etag) {
        boolean expired(long now, long grace) {
            return now > expiresAt + grace;
        }
    }

    private final ObjectStore store;
    private final String key;
    private final String me;
    private final String myUrl;
    private final long ttl;
    private final long grace;
    private final long margin;
    private volatile State mine;
    private volatile long renewedAt;

    public BucketLease(ObjectStore store, String repository, String me, String myUrl, Duration ttl) {
        this.store = store;
        this.key = repository + "/" + NAME;
        this.me = me;
        this.myUrl = myUrl == null ? "" : myUrl;
        this.ttl = ttl.toMillis();
        this.grace = Math.max(1000, this.ttl / 5);
        this.margin = Math.max(500, this.ttl / 5);
    }

    public String me() {
        return me;
    }

    /** The lease as the bucket has it now, or null when there is none. */
    public State read() throws IOException {
        ObjectStore.Fetched f = store.get(key);
        return f == null ? null : parse(new String(f.data(), StandardCharsets.UTF_8), f.etag());
    }

    /** Whether this instance took the lease and has not lost or released it (renewal due or not). */
    public boolean mine() {
        return mine != null;
    }

    /** Whether this instance holds the lease and may still write (its renewal is recent enough). */
    public boolean held() {
        return mine != null && System.currentTimeMillis() - renewedAt < ttl - margin;
    }

    /**
     * Takes the lease if nobody holds it, it expired, or this instance holds it already; returns
     * the lease's state afterwards (someone else's when they hold it).
     */
    public State take() throws IOException {
        long now = System.currentTimeMillis();
        State current = read();
        if (current == null) {
            State next = new State(me, myUrl, 1, now + ttl, null);
            if (store.create(key, json(next))) {
                return acquired(next, now);
            }
            return read(); // another instance was quicker
        }
        if (current.holder().equals(me) || current.expired(now, grace)) {
            State next = new State(me, myUrl, current.holder().equals(me) && mine != null ? current.epoch() : current.epoch() + 1, now + ttl, null);
            String etag = store.replace(key, json(next), current.etag());
            if (etag != null) {
                return acquired(new State(next.holder(), next.url(), next.epoch(), next.expiresAt(), etag), now);
            }
            return read();
        }
        mine = null;
        return current;
    }

    private State acquired(State s, long now) throws IOException {
        if (s.etag() == null) {
            State read = read();
            s = new State(s.holder(), s.url(), s.epoch(), s.expiresAt(), read == null ? null : read.etag());
        }
        mine = s;
        renewedAt = now;
        return s;
    }

    /** Extends the lease; false when it was lost (taken by another instance), which stops writing. */
    public boolean renew() throws IOException {
        State s = mine;
        if (s == null) {
            return false;
        }
        long now = System.currentTimeMillis();
        State next = new State(me, myUrl, s.epoch(), now + ttl, null);
        String etag = store.replace(key, json(next), s.etag());
        if (etag == null) {
            mine = null;
            return false;
        }
        mine = new State(next.holder(), next.url(), next.epoch(), next.expiresAt(), etag);
        renewedAt = now;
        return true;
    }

    /** Gives the lease up (expired at once), so another instance may take it without waiting. */
    public void release() throws IOException {
        State s = mine;
        mine = null;
        if (s != null) {
            store.replace(key, json(new State(me, myUrl, s.epoch(), 0, null)), s.etag());
        }
    }

    public long ttlMillis() {
        return ttl;
    }

    /** The object's content: the state without the entity tag, which is the bucket's. */
    private record Content(String holder, String url, long epoch, long expiresAt) {
    }

    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES) // later versions may add fields
            .build();

    static byte[] json(State s) {
        return JSON.writeValueAsBytes(new Content(s.holder(), s.url(), s.epoch(), s.expiresAt()));
    }

    static State parse(String text, String etag) throws IOException {
        Content c;
        try {
            c = JSON.readValue(text, Content.class);
        } catch (JacksonException e) {
            throw new IOException("the lease object is not understood: " + text, e);
        }
        if (c == null || c.holder() == null) {
            throw new IOException("the lease object is not understood: " + text);
        }
        return new State(c.holder(), c.url() == null ? "" : c.url(), c.epoch(), c.expiresAt(), etag);
    }
}
