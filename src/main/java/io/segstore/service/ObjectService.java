package io.segstore.service;

import io.segstore.engine.CommittedView;
import io.segstore.engine.ObjectEntry;
import io.segstore.engine.ObjectId;
import io.segstore.engine.Repository;
import io.segstore.engine.StoredObject;
import io.segstore.engine.Transaction;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import net.openhft.hashing.LongHashFunction;
import org.springframework.stereotype.Service;

/**
 * Objects of a repository: reads and writes inside a client's transaction (named by its lease
 * id) or, without one, reads of committed data and grouped autocommit writes; listings in index
 * or disk order; the batch existence query and the binary index download.
 */
@Service
public class ObjectService {

    private final RepositoryService repositories;
    private final SegstoreProperties properties;

    private final ObjectTraffic traffic;

    public ObjectService(RepositoryService repositories, SegstoreProperties properties, ObjectTraffic traffic) {
        this.repositories = repositories;
        this.properties = properties;
        this.traffic = traffic;
    }

    /** Runs {@code work} inside the named lease (which it keeps alive), or with null for none. */
    private <T> T within(ManagedRepository m, String transaction, Function<Transaction, T> work) {
        if (transaction == null) {
            return work.apply(null);
        }
        WriterLease lease = m.enter(transaction);
        try {
            return work.apply(lease.transaction());
        } finally {
            m.exit(lease);
        }
    }

    /** What a PUT did. */
    public record PutOutcome(boolean replaced, Long transactionId) {
    }

    /**
     * Stores an object. With {@code mayOverwrite} false (a client that may only add) an id that
     * already exists is refused, Borg's manifest id excepted; the test and the write happen under
     * the writer, so two such clients cannot both pass it.
     */
    public PutOutcome put(String repo, String transaction, ObjectId id, StagedBody body, Duration lockWait, boolean mayOverwrite) {
        ManagedRepository m = repositories.get(repo);
        if ("sha256".equals(m.verify()) && !id.isManifest()) {
            byte[] digest = body.sha256Digest();
            if (!MessageDigest.isEqual(digest, id.toBytes())) {
                throw new ServiceException(ServiceException.Kind.VERIFICATION_FAILED, "The body's SHA-256 is "
                        + java.util.HexFormat.of().formatHex(digest) + ", not the object id " + id.hex() + "; nothing was stored.");
            }
        }
        long started = System.nanoTime();
        if (transaction == null) {
            AutoCommitter.Result r = m.autoPut(id, body, lockWait, !mayOverwrite && !id.isManifest());
            traffic.wrote(repo, body.length(), System.nanoTime() - started);
            return new PutOutcome(r.replaced(), r.transactionId());
        }
        return within(m, transaction, txn -> {
            boolean existed = txn.contains(id);
            if (existed && !mayOverwrite && !id.isManifest()) {
                throw overwriteRefused(id);
            }
            txn.put(id, body);
            traffic.wrote(repo, body.length(), System.nanoTime() - started);
            return new PutOutcome(existed, null);
        });
    }

    static ServiceException overwriteRefused(ObjectId id) {
        return new ServiceException(ServiceException.Kind.FORBIDDEN, "Object " + id.hex() + " exists, and this token may only "
                + "add new objects (role append): it may not overwrite one.");
    }

    /** Deletes; returns the transaction that committed it for an autocommit, null inside a transaction. */
    public Long delete(String repo, String transaction, ObjectId id, Duration lockWait) {
        ManagedRepository m = repositories.get(repo);
        if (transaction == null) {
            return m.autoDelete(id, lockWait).transactionId();
        }
        return within(m, transaction, txn -> {
            txn.delete(id);
            return null;
        });
    }

    /** Opens an object for streaming; the caller closes it. */
    public StoredObject open(String repo, String transaction, ObjectId id) {
        ManagedRepository m = repositories.get(repo);
        long started = System.nanoTime();
        StoredObject o = within(m, transaction, txn -> txn == null ? m.repository().open(id) : txn.open(id));
        traffic.read(repo, o.length(), System.nanoTime() - started);
        return o;
    }

    /** The object's length, or -1 when absent. */
    public long size(String repo, String transaction, ObjectId id) {
        ManagedRepository m = repositories.get(repo);
        return within(m, transaction, txn -> txn == null ? m.repository().size(id) : txn.size(id));
    }

    /** Which of {@code ids} exist, in the order given. */
    public List<ObjectId> present(String repo, String transaction, List<ObjectId> ids) {
        ManagedRepository m = repositories.get(repo);
        return within(m, transaction, txn -> {
            List<ObjectId> out = new ArrayList<>();
            for (ObjectId id : ids) {
                if (txn == null ? m.repository().contains(id) : txn.contains(id)) {
                    out.add(id);
                }
            }
            return out;
        });
    }

    /** A page of a listing and the opaque marker of the next page (null: none). */
    public record Listing(List<ObjectEntry> objects, String next) {
    }

    public Listing list(String repo, String transaction, String order, Integer limitParam, String marker) {
        ManagedRepository m = repositories.get(repo);
        int limit = limit(limitParam);
        if (order == null || order.equals("index")) {
            ObjectId after = marker == null ? null : Markers.indexMarker(marker);
            Repository.Page page = within(m, transaction, txn -> m.repository().page(txn, limit, after));
            return new Listing(page.objects(), page.next() == null ? null : Markers.index(page.next()));
        }
        if (!order.equals("disk")) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "order is \"index\" or \"disk\", not \"" + Names.printable(order) + "\".");
        }
        if (transaction != null) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER,
                    "A disk-order listing shows committed data only; list in index order to include a transaction's writes.");
        }
        String session;
        long from;
        if (marker == null) {
            session = m.startListing();
            from = 0;
        } else {
            Markers.Disk d = Markers.diskMarker(marker);
            session = d.session();
            from = d.location();
        }
        ManagedRepository.ListingSession s = m.listing(session);
        try {
            CommittedView.ScanPage page = s.view.scan(from, limit);
            if (page.next() < 0) {
                m.endListing(session);
                return new Listing(page.objects(), null);
            }
            return new Listing(page.objects(), Markers.disk(session, page.next()));
        } catch (IOException e) {
            m.endListing(session);
            throw new io.segstore.engine.RepositoryIOException("cannot list " + repo, e);
        }
    }

    private int limit(Integer limit) {
        if (limit == null) {
            return properties.listing().defaultLimit();
        }
        if (limit < 1 || limit > properties.listing().maxLimit()) {
            throw new ServiceException(ServiceException.Kind.BAD_PARAMETER, "limit must be 1.." + properties.listing().maxLimit() + ".");
        }
        return limit;
    }

    /** The whole committed index as records of id (32 bytes) and size (u32, little-endian). */
    public static final class IndexDownload implements AutoCloseable {
        public static final int RECORD = 36;
        private final CommittedView view;
        private final String etag;

        IndexDownload(CommittedView view, String etag) {
            this.view = view;
            this.etag = etag;
        }

        public String etag() {
            return etag;
        }

        public long length() {
            return view.objectCount() * RECORD;
        }

        public void writeTo(java.io.OutputStream out) throws IOException {
            ByteBuffer record = ByteBuffer.allocate(64 * 1024 - (64 * 1024) % RECORD).order(ByteOrder.LITTLE_ENDIAN);
            view.forEach(null, (id, size) -> {
                if (record.remaining() < RECORD) {
                    out.write(record.array(), 0, record.position());
                    record.clear();
                }
                record.put(id).putInt((int) size);
                return true;
            });
            out.write(record.array(), 0, record.position());
        }

        @Override
        public void close() {
            view.close();
        }
    }

    /** The ETag the index download of the repository's current commit has. */
    public String indexEtag(String repo) {
        Repository r = repositories.get(repo).repository();
        return etag(r, r.transactionId() == null ? -1 : r.transactionId());
    }

    public IndexDownload index(String repo) {
        Repository r = repositories.get(repo).repository();
        CommittedView view = r.view();
        return new IndexDownload(view, etag(r, view.transactionId()));
    }

    /** The repository id and the transaction name one committed state; its format version is the "1". */
    private static String etag(Repository r, long transaction) {
        ByteBuffer b = ByteBuffer.allocate(32 + 8 + 1).order(ByteOrder.LITTLE_ENDIAN);
        b.put(r.id()).putLong(transaction).put((byte) 1);
        return String.format(Locale.ROOT, "\"%016x\"", LongHashFunction.xx().hashBytes(b.array()));
    }

    /** Opaque listing markers: base64url of "i" + id, or "d" + session + location. */
    static final class Markers {
        record Disk(String session, long location) {
        }

        private Markers() {
        }

        static String index(ObjectId id) {
            byte[] b = new byte[33];
            b[0] = 'i';
            System.arraycopy(id.toBytes(), 0, b, 1, 32);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        }

        static String disk(String session, long location) {
            byte[] s = Base64.getUrlDecoder().decode(session);
            ByteBuffer b = ByteBuffer.allocate(1 + s.length + 8).order(ByteOrder.LITTLE_ENDIAN);
            b.put((byte) 'd').put(s).putLong(location);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
        }

        static ObjectId indexMarker(String marker) {
            byte[] b = decode(marker);
            if (b.length != 33 || b[0] != 'i') {
                throw bad();
            }
            return ObjectId.of(java.util.Arrays.copyOfRange(b, 1, 33));
        }

        static Disk diskMarker(String marker) {
            byte[] b = decode(marker);
            if (b.length != 25 || b[0] != 'd') {
                throw bad();
            }
            String session = Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOfRange(b, 1, 17));
            long location = ByteBuffer.wrap(b, 17, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return new Disk(session, location);
        }

        private static byte[] decode(String marker) {
            try {
                return Base64.getUrlDecoder().decode(marker);
            } catch (IllegalArgumentException e) {
                throw bad();
            }
        }

        private static ServiceException bad() {
            return new ServiceException(ServiceException.Kind.BAD_MARKER,
                    "This marker was not returned by a listing of this order; pass the \"next\" value of the previous page unchanged.");
        }
    }
}
