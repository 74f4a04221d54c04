package io.segstore.engine;

import io.segstore.engine.format.LockDirectory;
import io.segstore.engine.format.LockRoster;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Borg's repository lock, in Borg's files, so that Borg and Segstore never write one repository
 * at once. An exclusive holder keeps {@code lock.exclusive} for as long as it holds the lock and
 * is named under "exclusive" in {@code lock.roster}; shared holders are named under "shared" and
 * keep the directory only while they edit the roster.
 *
 * <p>A holder on another host is assumed alive (Borg's rule). On this host id, a holder whose
 * process is gone is stale and removed; so is one that carries this very process id but is not
 * held by this process: a previous incarnation in a container, where every start has the same
 * pid.
 */
final class RepositoryLock implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RepositoryLock.class.getName());
    private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();
    /** Shared holds of this process per repository (they all carry the same holder name). */
    private static final Map<Path, Integer> SHARED_HERE = new ConcurrentHashMap<>();
    private static final long POLL_MILLIS = 200;

    private final Path repository;
    private final LockDirectory directory;
    private final LockRoster roster;
    private final LockDirectory.Holder me;
    private final boolean exclusive;
    private boolean released;

    private RepositoryLock(Path repository, LockDirectory.Holder me, boolean exclusive) {
        this.repository = repository;
        this.directory = new LockDirectory(repository);
        this.roster = new LockRoster(repository);
        this.me = me;
        this.exclusive = exclusive;
    }

    static LockDirectory.Holder holder(String hostId) {
        return new LockDirectory.Holder(hostId, ProcessHandle.current().pid(), 0);
    }

    /** Takes the lock, waiting up to {@code wait} for other holders to go. */
    static RepositoryLock acquire(Path repository, boolean exclusive, Duration wait, String hostId) {
        Path key = repository.toAbsolutePath().normalize();
        RepositoryLock lock = new RepositoryLock(key, holder(hostId), exclusive);
        long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
        try {
            while (true) {
                if (lock.tryOnce()) {
                    if (exclusive) {
                        HELD_HERE.add(key);
                    } else {
                        SHARED_HERE.merge(key, 1, Integer::sum);
                    }
                    return lock;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new LockTimeoutException("Failed to create/acquire the lock " + key.resolve("lock") + " (timeout).");
                }
                sleep(Math.min(POLL_MILLIS, Math.max(1, left / 1_000_000)));
            }
        } catch (IOException e) {
            throw new LockFailedException("Failed to create/acquire the lock " + key.resolve("lock") + " (" + e.getMessage() + ").", e);
        }
    }

    private boolean tryOnce() throws IOException {
        if (HELD_HERE.contains(repository)) {
            // this process holds it exclusively: the lock files cannot tell two holders in one process apart
            return false;
        }
        if (!directory.tryCreate(me) && !(removeStaleHolders() && directory.tryCreate(me))) {
            return false;
        }
        boolean keepDirectory = false;
        try {
            Map<String, Set<LockDirectory.Holder>> r = roster.load();
            boolean changed = r.get(LockRoster.SHARED).removeIf(this::isStale) | r.get(LockRoster.EXCLUSIVE).removeIf(this::isStale);
            if (exclusive) {
                if (!r.get(LockRoster.SHARED).isEmpty()) {
                    if (changed) {
                        roster.save(r);
                    }
                    return false; // readers still there: try again later
                }
                r.get(LockRoster.EXCLUSIVE).add(me);
                roster.save(r);
                keepDirectory = true;
                return true;
            }
            r.get(LockRoster.SHARED).add(me);
            roster.save(r);
            return true;
        } finally {
            if (!keepDirectory) {
                directory.remove(me.fileName());
            }
        }
    }

    /** Removes holders of the lock directory that are gone; true when it is free now. */
    private boolean removeStaleHolders() throws IOException {
        for (String name : directory.holderNames()) {
            LockDirectory.Holder h = LockDirectory.Holder.parse(name);
            if (h == null) {
                LOG.log(System.Logger.Level.ERROR, "Found malformed lock {0} in {1}. Please check/fix manually.", name, directory.path());
                return false;
            }
            if (!isStale(h)) {
                return false;
            }
            LOG.log(System.Logger.Level.WARNING, "Killed stale lock {0}.", name);
            directory.remove(name);
        }
        return directory.removeIfEmpty();
    }

    private boolean isStale(LockDirectory.Holder h) {
        if (!h.host().equals(me.host())) {
            return false;
        }
        if (h.pid() == me.pid()) {
            return !(h.equals(me) && (HELD_HERE.contains(repository) || SHARED_HERE.containsKey(repository)));
        }
        return ProcessHandle.of(h.pid()).map(p -> !p.isAlive()).orElse(true);
    }

    boolean isExclusive() {
        return exclusive;
    }

    /** True while the lock files still name this holder (another process did not break it). */
    boolean stillHeld() {
        return !exclusive || directory.isHeldBy(me);
    }

    @Override
    public synchronized void close() {
        if (released) {
            return;
        }
        released = true;
        try {
            if (exclusive) {
                Map<String, Set<LockDirectory.Holder>> r = roster.load();
                r.get(LockRoster.EXCLUSIVE).remove(me);
                roster.save(r);
                directory.remove(me.fileName());
                HELD_HERE.remove(repository);
            } else {
                while (!directory.tryCreate(me)) {
                    removeStaleHolders();
                    sleep(POLL_MILLIS);
                }
                try {
                    // the last shared hold of this process removes its (common) roster entry
                    if (SHARED_HERE.computeIfPresent(repository, (k, n) -> n == 1 ? null : n - 1) == null) {
                        Map<String, Set<LockDirectory.Holder>> r = roster.load();
                        r.get(LockRoster.SHARED).remove(me);
                        roster.save(r);
                    }
                } finally {
                    directory.remove(me.fileName());
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not release the lock of {0}: {1}", repository, e.toString());
        }
    }

    /** Borg's break-lock: removes the roster and the lock directory whoever holds them. */
    static void breakLock(Path repository) throws IOException {
        new LockRoster(repository).remove();
        new LockDirectory(repository).breakLock();
        HELD_HERE.remove(repository.toAbsolutePath().normalize());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LockTimeoutException("interrupted while waiting for the repository lock");
        }
    }
}
