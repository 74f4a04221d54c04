package io.segstore.cluster;

import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.segstore.tier.BucketLease;
import io.segstore.tier.S3Properties;
import io.segstore.tier.S3RepositoryTier;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * One writer per repository across instances sharing a bucket. A repository in a bucket is open
 * read-only here until a write reaches this instance: then either another live instance holds
 * the repository's {@link BucketLease} (the write is forwarded to it), or this instance takes the
 * lease and reopens the repository writable. The holder renews the lease every third of its
 * length and drops to read-only if it lost it. Instances that do not hold the lease look for new
 * commits in the bucket every {@code segstore.s3.refresh-interval} and reopen from the bucket when
 * there are any.
 */
@Component
public class LeaseCoordinator implements DisposableBean,
        org.springframework.context.ApplicationListener<org.springframework.boot.web.server.context.WebServerInitializedEvent> {

    private static final System.Logger LOG = System.getLogger(LeaseCoordinator.class.getName());

    /** Where a write goes: here, or to the holder's URL. */
    public record Route(boolean local, String holderUrl) {
        static final Route LOCAL = new Route(true, null);
    }

    private final RepositoryService repositories;
    private final S3Properties properties;
    private final String me;
    private volatile String myUrl;
    private final boolean advertised;
    private final Map<String, BucketLease> leases = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile long lastRefresh;

    public LeaseCoordinator(RepositoryService repositories, S3Properties properties,
                            @Value("${server.port:8080}") int port, @Value("${server.address:127.0.0.1}") String address) {
        this.repositories = repositories;
        this.properties = properties;
        this.me = UUID.randomUUID().toString();
        String url = properties.advertiseUrl();
        this.advertised = url != null && !url.isBlank();
        this.myUrl = advertised ? url.replaceAll("/+$", "") : "http://" + address + ":" + port;
        repositories.fences(name -> () -> {
            BucketLease l = leases.get(name);
            return l != null && l.held();
        });
        repositories.onCreatedInBucket(name -> {
            try {
                synchronized (locks.computeIfAbsent(name, n -> new Object())) {
                    lease(name).take();
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not take the writer lease of new repository {0}: {1}", name, e.getMessage());
            }
        });
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "segstore-leases");
            t.setDaemon(true);
            return t;
        });
        if (!repositories.objectStores().names().isEmpty()) {
            long tick = Math.max(100, Math.min(properties.leaseTtl().toMillis() / 3, properties.refreshInterval().toMillis()));
            timer.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
        }
    }

    /** Without segstore.s3.advertise-url, the port the server really listens on (it may be chosen at random). */
    @Override
    public void onApplicationEvent(org.springframework.boot.web.server.context.WebServerInitializedEvent event) {
        if (!advertised) {
            String host = myUrl.substring("http://".length(), myUrl.lastIndexOf(':'));
            myUrl = "http://" + host + ":" + event.getWebServer().getPort();
        }
    }

    /** This instance's URL as other instances reach it. */
    public String url() {
        return myUrl;
    }

    private BucketLease lease(String name) {
        return leases.computeIfAbsent(name, n -> {
            S3RepositoryTier tier = repositories.newTier(n);
            return tier.lease(me, myUrl, properties.leaseTtl());
        });
    }

    /**
     * Where a write to {@code name} must be served. Repositories that are not in a bucket are
     * always served here. {@code forwarded}: the request already came from another instance,
     * which found this one holding the lease; it is served here whatever happens (taking the
     * lease if it is free), never forwarded again.
     */
    public Route route(String name, boolean forwarded) throws IOException {
        if (repositories.storageOf(name) == null) {
            try {
                repositories.get(name); // one created by another instance is found in the bucket
            } catch (RuntimeException e) {
                return Route.LOCAL; // the service answers (404, ...)
            }
            if (repositories.storageOf(name) == null) {
                return Route.LOCAL;
            }
        }
        try {
            // Outside the per-repository lock: a create of this repository in progress here holds
            // the service's lock and then wants the per-repository one (to take the lease).
            repositories.get(name);
        } catch (RuntimeException e) {
            return Route.LOCAL; // the service answers
        }
        BucketLease lease = lease(name);
        if (lease.held() && writable(name)) {
            return Route.LOCAL;
        }
        synchronized (locks.computeIfAbsent(name, n -> new Object())) {
            if (lease.held() && writable(name)) {
                return Route.LOCAL;
            }
            BucketLease.State s = lease.take();
            if (s != null && s.holder().equals(me)) {
                if (!writable(name)) {
                    LOG.log(System.Logger.Level.INFO, "took the writer lease of {0} (epoch {1})", name, s.epoch());
                    repositories.reopen(name, true);
                }
                return Route.LOCAL;
            }
            if (forwarded || s == null || s.url() == null || s.url().isBlank() || s.url().equals(myUrl)) {
                return Route.LOCAL; // served here read-only: a write answers as a read-only repository does
            }
            return new Route(false, s.url());
        }
    }

    private boolean writable(String name) {
        try {
            ManagedRepository m = repositories.get(name);
            return !m.repository().isReadOnly();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Renews held leases, drops lost ones, and brings followed repositories up to the bucket. */
    private void tick() {
        for (Map.Entry<String, BucketLease> e : leases.entrySet()) {
            String name = e.getKey();
            BucketLease lease = e.getValue();
            if (repositories.storageOf(name) == null) {
                leases.remove(name);
                continue;
            }
            try {
                synchronized (locks.computeIfAbsent(name, n -> new Object())) {
                    if (lease.mine()) {
                        if (!lease.renew()) {
                            LOG.log(System.Logger.Level.WARNING, "lost the writer lease of {0}: following the bucket again", name);
                            repositories.reopen(name, false);
                        }
                    } else if (writable(name)) {
                        LOG.log(System.Logger.Level.WARNING, "{0} is writable here without the writer lease: following the bucket", name);
                        repositories.reopen(name, false);
                    }
                }
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "renewing the writer lease of {0}: {1}", name, ex.toString());
            }
        }
        long now = System.currentTimeMillis();
        if (now - lastRefresh < properties.refreshInterval().toMillis()) {
            return;
        }
        lastRefresh = now;
        for (String name : repositories.openNames()) {
            if (repositories.storageOf(name) == null) {
                continue;
            }
            BucketLease lease = leases.get(name);
            if (lease != null && lease.held()) {
                continue;
            }
            try {
                followBucket(name);
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "following {0} in the bucket: {1}", name, ex.toString());
            }
        }
    }

    /**
     * Brings a followed repository up to the bucket: new commits are applied to the open state in
     * place (one listing when nothing changed); when that cannot be done (a compaction elsewhere
     * replaced segments it stands on, or the config changed) it is reopened from the bucket's
     * newest checkpoint. A repository whose config is gone was destroyed through another instance.
     */
    private void followBucket(String name) throws IOException {
        S3RepositoryTier tier = repositories.newTier(name);
        if (tier == null) {
            return;
        }
        ManagedRepository m = repositories.get(name);
        if (!m.repository().isReadOnly()) {
            return; // writable here: its own commits are its state
        }
        io.segstore.engine.Repository.Followed followed = m.repository().followCommits();
        if (followed == io.segstore.engine.Repository.Followed.UNCHANGED) {
            if (m.repository().transactionId() == null && !tier.existsInBucket()) {
                forget(name); // never committed to, and destroyed through another instance
            }
            return;
        }
        if (followed == io.segstore.engine.Repository.Followed.APPLIED) {
            boolean configChanged;
            synchronized (locks.computeIfAbsent(name, n -> new Object())) {
                if (repositories.get(name) != m || !m.repository().isReadOnly()) {
                    return; // taken over (or reopened) here meanwhile: its files are the holder's now
                }
                configChanged = tier.refreshSmallFiles(repositories.dataDir().resolve(name));
            }
            if (!configChanged) {
                repositories.objectStores().metrics().followed(true);
                return; // same config: the applied state is the bucket's
            }
        } else if (!tier.existsInBucket()) {
            forget(name); // destroyed through another instance
            return;
        }
        synchronized (locks.computeIfAbsent(name, n -> new Object())) {
            BucketLease lease = leases.get(name);
            if (lease != null && lease.held() || repositories.get(name) != m) {
                return; // holding the lease now, or reopened meanwhile
            }
            repositories.reopen(name, false);
            repositories.objectStores().metrics().followed(false);
        }
    }

    private void forget(String name) {
        synchronized (locks.computeIfAbsent(name, n -> new Object())) {
            repositories.forgetDestroyed(name);
            leases.remove(name);
        }
    }

    @Override
    public void destroy() {
        timer.shutdownNow();
        releaseAll(); // another instance may take over at once instead of waiting for expiry
    }

    /** Gives up every held lease (after the repositories were closed at shutdown). */
    public void releaseAll() {
        for (Map.Entry<String, BucketLease> e : leases.entrySet()) {
            try {
                e.getValue().release();
            } catch (IOException ex) {
                LOG.log(System.Logger.Level.DEBUG, "releasing the lease of {0}: {1}", e.getKey(), ex.toString());
            }
        }
    }
}
