package io.segstore.engine;

import io.segstore.engine.format.AtomicFile;
import io.segstore.engine.format.BorgIndexFile;
import io.segstore.engine.format.FormatException;
import io.segstore.engine.format.HintsFile;
import io.segstore.engine.format.IntegrityDigest;
import io.segstore.engine.format.IntegrityFile;
import io.segstore.engine.format.KeyIndexFile;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The files that describe the committed state at one transaction T, so that opening does not
 * replay the whole log: Borg's {@code hints.T}, {@code index.T} and {@code integrity.T}, plus
 * Segstore's {@code segstore-index.T} (the same index in a form that loads without rehashing).
 *
 * <p>Written in Borg's order: hints and index to temporary files, synced; the integrity file,
 * synced; integrity renamed into place, directory synced; hints and index renamed, directory
 * synced. A crash at any point leaves either the previous checkpoint or a complete new one.
 */
final class Checkpoint {

    private static final System.Logger LOG = System.getLogger(Checkpoint.class.getName());
    private static final int IO_BUFFER = 1 << 20;
    /** A fixed key whose hash is stored in segstore-index files to detect a changed hash function. */
    private static final byte[] PROBE_KEY = "segstore index hash probe key 32".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private Checkpoint() {
    }

    /** What a checkpoint holds. */
    record State(long transactionId, KeyIndex.Snapshot index, SegmentUsage usage, long quotaUse, ShadowIndex shadow) {
    }

    /**
     * What was loaded. When the index came from segstore-index.T its shards are still being
     * read on demand from {@code indexSource}, which {@link #finishLoading} completes.
     */
    record Loaded(RepositoryState state, KeyIndexFile.Mapped indexSource) {
    }

    /** Loads every shard still pending and releases the file; IntegrityException when it is damaged. */
    static void finishLoading(KeyIndex index, KeyIndexFile.Mapped source) {
        try {
            index.loadAll();
        } finally {
            try {
                source.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not release the index file: {0}", e.toString());
            }
        }
    }

    static long hashProbe(KeyIndex index) {
        return index.hash(KeyIndex.word(PROBE_KEY, 0), KeyIndex.word(PROBE_KEY, 1), KeyIndex.word(PROBE_KEY, 2), KeyIndex.word(PROBE_KEY, 3));
    }

    // ---- writing ------------------------------------------------------------------------

    static void write(Path repository, State state) throws IOException {
        long t = state.transactionId();
        String hintsName = HintsFile.PREFIX + t;
        String indexName = BorgIndexFile.PREFIX + t;
        String integrityName = IntegrityFile.PREFIX + t;
        Path hintsTmp = repository.resolve(hintsName + ".tmp");
        Path indexTmp = repository.resolve(indexName + ".tmp");
        Path integrityTmp = repository.resolve(integrityName + ".tmp");
        Path ownName = repository.resolve(KeyIndexFile.PREFIX + t);
        Path ownTmp = repository.resolve(KeyIndexFile.PREFIX + t + ".tmp");
        for (Path p : new Path[] {hintsTmp, indexTmp, integrityTmp, ownTmp}) {
            Files.deleteIfExists(p);
        }

        IntegrityDigest hintsDigest = new IntegrityDigest(hintsName);
        writeSynced(hintsTmp, out -> {
            HintsFile.write(new IntegrityDigest.Writing(out, hintsDigest),
                    new HintsFile.Contents(state.usage().liveView(), state.usage().freeableView(), state.quotaUse()),
                    state.shadow().asSource());
        });
        hintsDigest.endPart("final");
        CrashPoints.reached("checkpoint.after-hints-written");

        IntegrityDigest indexDigest = new IntegrityDigest(indexName);
        KeyIndex.Snapshot index = state.index();
        if (index.size() > Integer.MAX_VALUE) {
            throw new IOException("too many objects for a Borg index file");
        }
        writeSynced(indexTmp, out -> BorgIndexFile.write(out, new BorgIndexFile.Entries() {
            @Override
            public int count() {
                return (int) index.size();
            }

            @Override
            public void forEachHandle(BorgIndexFile.HandleSink sink) {
                index.forEachHandle((handle, k0) -> sink.accept(handle, (int) k0));
            }

            @Override
            public void putBucket(long handle, ByteBuffer dst) {
                index.putKey(handle, dst);
                long location = index.value(handle);
                dst.putInt((int) Locations.segment(location)).putInt((int) Locations.offset(location));
            }
        }, indexDigest));

        byte[] integrity = IntegrityFile.encode(hintsDigest.digests(), indexDigest.digests());
        writeSynced(integrityTmp, out -> out.write(integrity));
        CrashPoints.reached("checkpoint.after-temporaries-written");
        AtomicFile.rename(integrityTmp, repository.resolve(integrityName));
        AtomicFile.syncDirectory(repository);
        CrashPoints.reached("checkpoint.after-integrity-renamed");
        AtomicFile.rename(hintsTmp, repository.resolve(hintsName));
        CrashPoints.reached("checkpoint.after-hints-renamed");
        AtomicFile.rename(indexTmp, repository.resolve(indexName));
        AtomicFile.syncDirectory(repository);
        CrashPoints.reached("checkpoint.after-index-renamed");

        KeyIndexFile.write(ownTmp, new KeyIndexFile.Header(index.index().shardBits(), t, index.size(), index.index().seed(),
                hashProbe(index.index()), Long.parseUnsignedLong(indexDigest.digests().get("final"), 16)), i -> {
                    KeyIndex.ShardState s = index.shard(i);
                    return new KeyIndexFile.Shard(s.level(), s.count(), s.slots());
                });
        CrashPoints.reached("checkpoint.after-own-index-written");
        AtomicFile.rename(ownTmp, ownName);
        AtomicFile.syncDirectory(repository);
        CrashPoints.reached("checkpoint.before-cleanup");
        removeOthers(repository, t);
    }

    /**
     * The files of checkpoint {@code t} that exist, in the order a copy should be made so that a
     * complete set is recognisable by its integrity file, which comes last.
     */
    static java.util.List<Path> files(Path repository, long t) {
        java.util.List<Path> out = new java.util.ArrayList<>();
        for (String prefix : new String[] {HintsFile.PREFIX, BorgIndexFile.PREFIX, KeyIndexFile.PREFIX, IntegrityFile.PREFIX}) {
            Path p = repository.resolve(prefix + t);
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** Whether a top-level name belongs to a checkpoint (index, hints, integrity, Segstore's index). */
    public static boolean isCheckpointFile(String name) {
        return isCheckpointName(name) && !name.endsWith(".tmp");
    }

    /** Removes checkpoint files of every other transaction (and leftovers of interrupted writes). */
    static void removeOthers(Path repository, long keep) throws IOException {
        String suffix = "." + keep;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(repository)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (isCheckpointName(name) && !name.endsWith(suffix)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static boolean isCheckpointName(String name) {
        return name.startsWith(BorgIndexFile.PREFIX) || name.startsWith(HintsFile.PREFIX)
                || name.startsWith(IntegrityFile.PREFIX) || name.startsWith(KeyIndexFile.PREFIX);
    }

    private interface StreamWriter {
        void write(OutputStream out) throws IOException;
    }

    private static void writeSynced(Path file, StreamWriter writer) throws IOException {
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                AtomicFile.fileAttributes(file))) {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), IO_BUFFER);
            writer.write(out);
            out.flush();
            ch.force(true);
        }
    }

    // ---- reading ------------------------------------------------------------------------

    /** Transaction ids for which any checkpoint file exists, newest first. */
    static TreeSet<Long> transactions(Path repository) throws IOException {
        TreeSet<Long> out = new TreeSet<>(java.util.Comparator.reverseOrder());
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(repository)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                for (String prefix : new String[] {BorgIndexFile.PREFIX, HintsFile.PREFIX, KeyIndexFile.PREFIX}) {
                    if (name.startsWith(prefix) && isDigits(name.substring(prefix.length()))) {
                        out.add(Long.parseLong(name.substring(prefix.length())));
                    }
                }
            }
        }
        return out;
    }

    /** The newest Borg index file's transaction (Borg's get_index_transaction_id), or -1. */
    static long newestBorgIndex(Path repository) throws IOException {
        long newest = -1;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(repository, BorgIndexFile.PREFIX + "*")) {
            for (Path p : ds) {
                String digits = p.getFileName().toString().substring(BorgIndexFile.PREFIX.length());
                if (isDigits(digits) && Files.size(p) > 0) {
                    newest = Math.max(newest, Long.parseLong(digits));
                }
            }
        }
        return newest;
    }

    private static boolean isDigits(String s) {
        return !s.isEmpty() && s.length() < 19 && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /**
     * Loads the checkpoint of transaction {@code t}, or returns null when its files are missing,
     * malformed or fail their digests (the caller then falls back to an older one or to
     * replay). Other I/O errors (a file that cannot be read at all) are thrown, as Borg lets
     * them surface: rebuilding would hide a failing disk.
     */
    static Loaded load(Path repository, long t, long seed, int shardBits) throws IOException {
        try {
            IntegrityFile.Contents integrity;
            try {
                integrity = IntegrityFile.read(repository.resolve(IntegrityFile.PREFIX + t));
            } catch (FormatException e) {
                LOG.log(System.Logger.Level.WARNING, "integrity.{0} is unreadable, not using checkpoint {0}: {1}", t, e.getMessage());
                return null;
            }
            ShadowIndex shadow = new ShadowIndex(seed, shardBits);
            HintsFile.Contents hints = readHints(repository, t, integrity, shadow);
            KeyIndexFile.Mapped own = mapOwnIndex(repository, t, seed, shardBits, borgIndexDigest(integrity));
            KeyIndex index;
            if (own != null) {
                index = KeyIndex.restoreLazily(seed, shardBits, levels(own), counts(own), i -> {
                    KeyIndexFile.Shard s = own.load(i);
                    return new KeyIndex.ShardState(s.level(), s.count(), s.words());
                });
            } else {
                index = readBorgIndex(repository, t, integrity, seed, shardBits);
            }
            SegmentUsage usage = new SegmentUsage(hints.segments(), hints.compact());
            return new Loaded(new RepositoryState(index, usage, shadow, hints.storageQuotaUse(), t), own);
        } catch (NoSuchFileException e) {
            LOG.log(System.Logger.Level.INFO, "checkpoint {0} is incomplete ({1} is missing)", t, e.getFile());
            return null;
        } catch (FormatException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "checkpoint {0} is unusable, the index will be rebuilt: {1}", t, e.toString());
            return null;
        }
    }

    private static HintsFile.Contents readHints(Path repository, long t, IntegrityFile.Contents integrity, ShadowIndex shadow)
            throws IOException {
        String name = HintsFile.PREFIX + t;
        Path file = repository.resolve(name);
        IntegrityDigest digest = new IntegrityDigest(name);
        HintsFile.Contents contents;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), IO_BUFFER)) {
            contents = HintsFile.read(new IntegrityDigest.Reading(in, digest), shadow::load);
        }
        verify(digest, digest.endPart("final", Files.size(file)), integrity, "hints", "final", name);
        return contents;
    }

    private static void verify(IntegrityDigest digest, String actual, IntegrityFile.Contents integrity, String key, String part,
                               String name) throws FormatException {
        Map<String, String> expected = integrity == null ? null : integrity.of(key);
        if (expected == null) {
            return; // no integrity data: Borg reads such files unverified
        }
        String want = expected.get(part);
        if (want != null && !want.equals(actual)) {
            throw new FormatException(name + " does not match its integrity digest (" + part + ")");
        }
    }

    private static int[] levels(KeyIndexFile.Mapped m) {
        int[] out = new int[m.shardCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.level(i);
        }
        return out;
    }

    private static int[] counts(KeyIndexFile.Mapped m) {
        int[] out = new int[m.shardCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.count(i);
        }
        return out;
    }

    /** segstore-index.T opened for loading, when it exists and matches this repository's index parameters. */
    /** The "final" digest integrity.T records for index.T, or null when it records none. */
    private static Long borgIndexDigest(IntegrityFile.Contents integrity) {
        Map<String, String> d = integrity == null ? null : integrity.of("index");
        String f = d == null ? null : d.get("final");
        try {
            return f == null ? null : Long.parseUnsignedLong(f, 16);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static KeyIndexFile.Mapped mapOwnIndex(Path repository, long t, long seed, int shardBits, Long borgIndexDigest)
            throws IOException {
        Path file = repository.resolve(KeyIndexFile.PREFIX + t);
        try {
            KeyIndexFile.Header header = KeyIndexFile.readHeader(file);
            KeyIndex probe = new KeyIndex(seed, shardBits);
            if (header.transaction() != t || header.seed() != seed || header.shardBits() != shardBits
                    || header.hashProbe() != hashProbe(probe) || borgIndexDigest == null || header.borgIndexDigest() != borgIndexDigest) {
                LOG.log(System.Logger.Level.INFO, "{0} does not belong to this checkpoint''s index.{1} (or to this repository''s index parameters)",
                        file.getFileName(), t);
                return null;
            }
            return KeyIndexFile.map(file, header);
        } catch (NoSuchFileException e) {
            return null;
        } catch (FormatException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "{0} is unusable, reading Borg''s index instead: {1}", file.getFileName(), e.getMessage());
            return null;
        }
    }

    private static KeyIndex readBorgIndex(Path repository, long t, IntegrityFile.Contents integrity, long seed, int shardBits)
            throws IOException {
        String name = BorgIndexFile.PREFIX + t;
        Path file = repository.resolve(name);
        long length = Files.size(file);
        KeyIndex index = new KeyIndex(seed, shardBits);
        IntegrityDigest digest = new IntegrityDigest(name);
        Map<String, String> expected = integrity == null ? null : integrity.of("index");
        int batch = 256;
        long[] keys = new long[4 * batch];
        long[] values = new long[batch];
        int[] n = {0};
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), IO_BUFFER)) {
            index.reserve(BorgIndexFile.entryCount(file));
            BorgIndexFile.read(in, length, digest, (k0, k1, k2, k3, segment, offset) -> {
                int i = n[0]++;
                keys[4 * i] = k0;
                keys[4 * i + 1] = k1;
                keys[4 * i + 2] = k2;
                keys[4 * i + 3] = k3;
                values[i] = Locations.of(segment, offset);
                if (n[0] == batch) {
                    index.putBatch(keys, values, batch);
                    n[0] = 0;
                }
            });
            index.putBatch(keys, values, n[0]);
        }
        if (expected != null) {
            Map<String, String> actual = digest.digests();
            for (String part : new String[] {"HashHeader", "final"}) {
                String want = expected.get(part);
                if (want != null && !want.equals(actual.get(part))) {
                    throw new FormatException(name + " does not match its integrity digest (" + part + ")");
                }
            }
        }
        return index;
    }
}
