package io.segstore.service;

import java.time.Instant;
import java.util.Map;

/** A maintenance job (compaction, check, repair): where it stands and, when done, what it found. */
public final class Job {

    /** Job states, as the API reports them. */
    public enum State { QUEUED, RUNNING, SUCCEEDED, FAILED }

    private final String id;
    private final String repository;
    private final String kind;
    private final Instant created = Instant.now();
    private volatile State state = State.QUEUED;
    private volatile int progress;
    private volatile String phase = "";
    private volatile Map<String, Object> result;
    private volatile String error;
    private volatile Instant finished;

    Job(String id, String repository, String kind) {
        this.id = id;
        this.repository = repository;
        this.kind = kind;
    }

    public String id() {
        return id;
    }

    public String repository() {
        return repository;
    }

    public String kind() {
        return kind;
    }

    public State state() {
        return state;
    }

    public int progress() {
        return progress;
    }

    public String phase() {
        return phase;
    }

    public Map<String, Object> result() {
        return result;
    }

    public String error() {
        return error;
    }

    public Instant created() {
        return created;
    }

    public Instant finished() {
        return finished;
    }

    void running() {
        state = State.RUNNING;
    }

    void progress(String phase, long done, long total) {
        this.phase = phase;
        this.progress = total <= 0 ? 0 : (int) Math.min(99, 100 * done / total);
    }

    void succeeded(Map<String, Object> result) {
        this.result = result;
        this.progress = 100;
        this.finished = Instant.now();
        this.state = State.SUCCEEDED;
    }

    void failed(String error) {
        this.error = error;
        this.finished = Instant.now();
        this.state = State.FAILED;
    }

    boolean done() {
        return state == State.SUCCEEDED || state == State.FAILED;
    }
}
