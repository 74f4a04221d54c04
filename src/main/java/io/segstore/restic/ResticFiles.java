package io.segstore.restic;

import io.segstore.engine.ObjectNotFoundException;
import io.segstore.engine.Repository;
import io.segstore.engine.StoredObject;
import io.segstore.service.ManagedRepository;
import io.segstore.service.RepositoryService;
import io.segstore.service.SegstoreProperties;
import io.segstore.service.ServiceException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Service;

/**
 * restic's files in Segstore repositories: each restic repository is a Segstore repository, each
 * file one or more objects listed in a catalogue (see {@link FileIds} and docs/FORMAT.md). Reads
 * see committed data; every upload and delete is committed, grouped with concurrent ones, before
 * it is answered.
 */
@Service
public class ResticFiles {

    private final RepositoryService repositories;
    private final SegstoreProperties properties;
    private final StagingMemory staging;
    private final AtomicLong receiving = new AtomicLong();
    private final Map<Repository, FileCommitter> committers = new ConcurrentHashMap<>();

    public ResticFiles(RepositoryService repositories, SegstoreProperties properties, ResticProperties restic) {
        this.staging = new StagingMemory(restic.stagingMemory());
        this.repositories = repositories;
        this.properties = properties;
    }

    /** Whether a repository of this name exists (open, or present but unavailable). */
    public boolean exists(String repo) {
        try {
            repositories.get(repo);
            return true;
        } catch (ServiceException e) {
            if (e.kind() == ServiceException.Kind.UNKNOWN_REPOSITORY) {
                return false;
            }
            if (e.kind() == ServiceException.Kind.REPOSITORY_UNAVAILABLE) {
                return true;
            }
            throw e;
        }
    }

    /** Creates the repository unless it exists (restic's create is idempotent). Returns whether it was created. */
    public boolean create(String repo) {
        if (exists(repo)) {
            repositories.get(repo); // an unavailable one answers 503
            return false;
        }
        try {
            repositories.create(repo, null);
            return true;
        } catch (ServiceException e) {
            if (e.kind() == ServiceException.Kind.REPOSITORY_EXISTS && exists(repo)) {
                return false; // created meanwhile by a concurrent request
            }
            throw e;
        }
    }

    public void destroy(String repo) {
        repositories.destroy(repo);
    }

    /** The committed size of a file, or file-not-found (404). */
    public long size(String repo, FileName file) {
        long size = Catalogue.sizeOf(repository(repo), null, file);
        if (size < 0) {
            throw ResticException.notFound(repo, file);
        }
        return size;
    }

    /** Opens the range {@code rangeHeader} asks for (all of the file without one); the caller closes it. */
    FileContent open(String repo, FileName file, String rangeHeader) {
        Repository r = repository(repo);
        long size = Catalogue.sizeOf(r, null, file);
        if (size < 0) {
            throw ResticException.notFound(repo, file);
        }
        ByteRange range = ByteRange.parse(rangeHeader, size);
        int first = (int) (range.start() / FileIds.PART_SIZE);
        int last = range.length() == 0 ? first : (int) ((range.start() + range.length() - 1) / FileIds.PART_SIZE);
        List<StoredObject> parts = new ArrayList<>(last - first + 1);
        try {
            for (int i = first; i <= last; i++) {
                parts.add(r.open(FileIds.part(file, i)));
            }
            return new FileContent(size, range, first, parts);
        } catch (ObjectNotFoundException e) {
            parts.forEach(StoredObject::close);
            throw ResticException.notFound(repo, file); // removed since its catalogue entry was read
        } catch (RuntimeException e) {
            parts.forEach(StoredObject::close);
            throw e;
        }
    }

    /** Visits the committed files of a type. */
    void list(String repo, FileType type, Catalogue.Visitor visitor) throws IOException {
        Catalogue.forEach(repository(repo), type, visitor);
    }

    /**
     * Stores a new file from {@code body} ({@code declared} bytes, -1 for a chunked body):
     * staged first, its SHA-256 checked against its name (all but the config), then committed.
     * A file that exists is refused (403), before its body is read when it is already committed.
     */
    public void save(String repo, FileName file, InputStream body, long declared) {
        Repository r = repository(repo);
        long max = file.namedByHash() ? Upload.MAX_FILE_SIZE : FileIds.PART_SIZE;
        if (declared > max) {
            throw ResticException.tooLarge("A restic " + (file.namedByHash() ? "file" : "config") + " is at most " + max
                    + " bytes; this one has " + declared + ".");
        }
        if (Catalogue.sizeOf(r, null, file) >= 0) {
            throw ResticException.exists(repo, file);
        }
        CountedBody counted = new CountedBody(body, receiving);
        try (Upload upload = Upload.receive(counted, declared, properties.inMemoryBodyLimit(), staging, max,
                repositories.stagingDir())) {
            counted.done();
            if (file.namedByHash() && !upload.sha256Hex().equals(file.name())) {
                throw ResticException.hashMismatch(file, upload.sha256Hex());
            }
            committer(repo, r).submit(new FileCommitter.Save(file, upload));
        } finally {
            counted.done();
        }
    }

    /** Bytes of {@code segstore.restic.staging-memory} holding uploads now, and the whole budget. */
    public long stagingMemoryInUse() {
        return staging.inUse();
    }

    public long stagingMemoryBudget() {
        return staging.budget();
    }

    /** Bytes of uploads being received right now (bodies still arriving), over all repositories. */
    public long bytesBeingReceived() {
        return receiving.get();
    }

    /** Counts an upload's bytes into {@link #receiving} while they arrive. */
    private static final class CountedBody extends FilterInputStream {
        private final AtomicLong receiving;
        private long counted;

        CountedBody(InputStream in, AtomicLong receiving) {
            super(in);
            this.receiving = receiving;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        private void add(long n) {
            counted += n;
            receiving.addAndGet(n);
        }

        /** The body is in (or abandoned): it no longer counts. */
        void done() {
            receiving.addAndGet(-counted);
            counted = 0;
        }
    }

    /** Removes a file; removing one that does not exist succeeds (restic retries removals). */
    public void remove(String repo, FileName file) {
        Repository r = repository(repo);
        if (Catalogue.sizeOf(r, null, file) < 0) {
            return;
        }
        committer(repo, r).submit(new FileCommitter.Remove(file));
    }

    private Repository repository(String repo) {
        ManagedRepository m = repositories.get(repo);
        return m.repository();
    }

    private FileCommitter committer(String repo, Repository r) {
        FileCommitter c = committers.get(r);
        if (c != null) {
            return c;
        }
        committers.keySet().removeIf(Repository::isClosed); // destroyed or closed repositories
        return committers.computeIfAbsent(r, k -> new FileCommitter(repo, k, properties.maxLockWait(),
                properties.jobs().autocommitWait()));
    }
}
