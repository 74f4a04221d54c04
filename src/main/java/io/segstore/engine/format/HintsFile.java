package io.segstore.engine.format;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

/**
 * {@code hints.T}, version 2: a msgpack map with {@code version}, {@code segments} (segment ->
 * live entry count), {@code compact} (segment -> freeable bytes), {@code storage_quota_use} and
 * {@code shadow_index} (id -> list of segments holding a PUT of that id that a later DELETE or
 * PUT superseded). Keys and ids are msgpack str, as Borg packs them.
 */
public final class HintsFile {

    public static final String PREFIX = "hints.";
    public static final int VERSION = 2;

    /** Borg packs without msgpack's str8 type (32..255-byte strings are str16), as the old spec did. */
    private static final MessagePack.PackerConfig BORG_PACKING = new MessagePack.PackerConfig().withStr8FormatSupport(false);

    private HintsFile() {
    }

    /** The per-segment figures and quota use; the shadow index streams separately (it can be large). */
    public record Contents(NavigableMap<Long, Long> segments, NavigableMap<Long, Long> compact, long storageQuotaUse) {
    }

    /** Source of shadow-index entries for writing. */
    public interface ShadowSource {
        int size();

        void forEach(ShadowEntryConsumer consumer) throws IOException;
    }

    /** Receives one shadow-index entry: an id and the segments it shadows (possibly none). */
    @FunctionalInterface
    public interface ShadowEntryConsumer {
        void accept(byte[] id, long[] segments) throws IOException;
    }

    /** Writes the hints to {@code out} (not closed). */
    public static void write(OutputStream out, Contents c, ShadowSource shadow) throws IOException {
        MessagePacker p = BORG_PACKING.newPacker(out);
        p.packMapHeader(5);
        p.packString("version");
        p.packInt(VERSION);
        p.packString("segments");
        packLongMap(p, c.segments());
        p.packString("compact");
        packLongMap(p, c.compact());
        p.packString("storage_quota_use");
        p.packLong(c.storageQuotaUse());
        p.packString("shadow_index");
        p.packMapHeader(shadow.size());
        int[] written = {0};
        shadow.forEach((id, segments) -> {
            p.packRawStringHeader(id.length);
            p.writePayload(id);
            p.packArrayHeader(segments.length);
            for (long s : segments) {
                p.packLong(s);
            }
            written[0]++;
        });
        if (written[0] != shadow.size()) {
            throw new IllegalStateException("shadow index changed while it was written");
        }
        p.flush();
    }

    /**
     * Reads hints from {@code in} to its end, handing shadow entries to {@code shadow}. Throws
     * FormatException for anything but a version 2 hints map.
     */
    public static Contents read(InputStream in, ShadowEntryConsumer shadow) throws IOException {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(in)) {
            if (u.getNextFormat().getValueType() != ValueType.MAP) {
                throw new FormatException("hints is not a msgpack map");
            }
            int n = u.unpackMapHeader();
            Long version = null;
            NavigableMap<Long, Long> segments = null;
            NavigableMap<Long, Long> compact = null;
            long quota = 0;
            for (int i = 0; i < n; i++) {
                String key = readText(u);
                switch (key) {
                    case "version" -> version = u.unpackLong();
                    case "segments" -> segments = readLongMap(u);
                    case "compact" -> {
                        if (version != null && version == 1) {
                            throw new FormatException("hints version 1 cannot be read, the index will be rebuilt");
                        }
                        compact = readLongMap(u);
                    }
                    case "storage_quota_use" -> quota = u.unpackLong();
                    case "shadow_index" -> readShadow(u, shadow);
                    default -> u.skipValue();
                }
            }
            if (version == null || version != VERSION) {
                throw new FormatException("unknown hints version " + version);
            }
            if (segments == null || compact == null) {
                throw new FormatException("hints lack segments or compact");
            }
            if (u.hasNext()) {
                throw new FormatException("hints have trailing bytes");
            }
            return new Contents(segments, compact, quota);
        } catch (MessagePackException | IllegalStateException e) {
            throw new FormatException("hints are not valid msgpack: " + e.getMessage(), e);
        }
    }

    private static void readShadow(MessageUnpacker u, ShadowEntryConsumer shadow) throws IOException {
        int n = u.unpackMapHeader();
        for (int i = 0; i < n; i++) {
            byte[] id = readRaw(u);
            int m = u.unpackArrayHeader();
            long[] segs = new long[m];
            for (int j = 0; j < m; j++) {
                segs[j] = u.unpackLong();
            }
            shadow.accept(id, segs);
        }
    }

    private static void packLongMap(MessagePacker p, Map<Long, Long> map) throws IOException {
        p.packMapHeader(map.size());
        for (Map.Entry<Long, Long> e : map.entrySet()) {
            p.packLong(e.getKey());
            p.packLong(e.getValue());
        }
    }

    private static NavigableMap<Long, Long> readLongMap(MessageUnpacker u) throws IOException {
        int n = u.unpackMapHeader();
        NavigableMap<Long, Long> map = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            long k = u.unpackLong();
            map.put(k, u.unpackLong());
        }
        return map;
    }

    private static byte[] readRaw(MessageUnpacker u) throws IOException {
        MessageFormat f = u.getNextFormat();
        int len = switch (f.getValueType()) {
            case STRING -> u.unpackRawStringHeader();
            case BINARY -> u.unpackBinaryHeader();
            default -> throw new FormatException("expected a byte string in hints, found " + f.getValueType());
        };
        return u.readPayload(len);
    }

    private static String readText(MessageUnpacker u) throws IOException {
        return new String(readRaw(u), java.nio.charset.StandardCharsets.UTF_8);
    }
}
