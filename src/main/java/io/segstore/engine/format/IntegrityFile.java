package io.segstore.engine.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code integrity.T}: a msgpack map {@code {version: 2, hints: <json>, index: <json>}} whose JSON
 * texts hold the XXH64 digests of {@code hints.T} and {@code index.T}
 * ({@code {"algorithm": "XXH64", "digests": {"HashHeader": ..., "final": ...}}}). Keys and texts
 * are msgpack str, as Borg packs them.
 */
public final class IntegrityFile {

    public static final String PREFIX = "integrity.";
    public static final int VERSION = 2;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Borg packs without msgpack's str8 type (32..255-byte strings are str16), as the old spec did. */
    private static final MessagePack.PackerConfig BORG_PACKING = new MessagePack.PackerConfig().withStr8FormatSupport(false);

    private IntegrityFile() {
    }

    /** What an integrity file says: digests per file key ("index", "hints"). */
    public record Contents(Map<String, Map<String, String>> digests) {

        /** The digests recorded for {@code key}, or null when the file recorded none. */
        public Map<String, String> of(String key) {
            return digests.get(key);
        }
    }

    /** The file's bytes for hints and index digests (each a map part name -> hex digest). */
    public static byte[] encode(Map<String, String> hintsDigests, Map<String, String> indexDigests) {
        try (MessageBufferPacker p = BORG_PACKING.newBufferPacker()) {
            p.packMapHeader(3);
            p.packString("version");
            p.packInt(VERSION);
            p.packString("hints");
            p.packString(digestsJson(hintsDigests));
            p.packString("index");
            p.packString(digestsJson(indexDigests));
            return p.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("packing to memory cannot fail", e);
        }
    }

    /**
     * Reads an integrity file. Returns null when there is none or its version is unknown (Borg
     * then reads the index and hints unverified); throws FormatException when it is unreadable.
     */
    public static Contents read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        Map<String, Value> map = new LinkedHashMap<>();
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(bytes)) {
            Value v = u.unpackValue();
            if (!v.isMapValue()) {
                throw new FormatException(file.getFileName() + " is not a msgpack map");
            }
            for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
                map.put(MsgpackText.keyName(e.getKey()), e.getValue());
            }
        } catch (MessagePackException e) {
            throw new FormatException(file.getFileName() + " is not valid msgpack", e);
        }
        Value version = map.get("version");
        if (version == null || !version.isIntegerValue() || version.asIntegerValue().toLong() != VERSION) {
            return null;
        }
        Map<String, Map<String, String>> digests = new LinkedHashMap<>();
        for (String key : new String[] {"hints", "index"}) {
            Value json = map.get(key);
            if (json != null) {
                digests.put(key, parseDigestsJson(MsgpackText.text(json), file + " [" + key + "]"));
            }
        }
        return new Contents(digests);
    }

    /** Borg's JSON for one file's digests, byte for byte as Python's json.dumps writes it. */
    static String digestsJson(Map<String, String> digests) {
        StringBuilder sb = new StringBuilder("{\"algorithm\": \"").append(IntegrityDigest.ALGORITHM).append("\", \"digests\": {");
        boolean first = true;
        for (Map.Entry<String, String> e : digests.entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append('"').append(e.getKey()).append("\": \"").append(e.getValue()).append('"');
        }
        return sb.append("}}").toString();
    }

    private static Map<String, String> parseDigestsJson(String json, String where) throws FormatException {
        try {
            JsonNode root = JSON.readTree(json);
            JsonNode algorithm = root.get("algorithm");
            JsonNode digests = root.get("digests");
            if (algorithm == null || digests == null || !digests.isObject() || digests.get("final") == null) {
                throw new FormatException("integrity data of " + where + " lacks algorithm or digests");
            }
            if (!IntegrityDigest.ALGORITHM.equals(algorithm.asText())) {
                // Borg only warns about an algorithm it does not know and reads the file unverified.
                return null;
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : digests.properties()) {
                out.put(e.getKey(), e.getValue().asText());
            }
            return out;
        } catch (JacksonException e) {
            throw new FormatException("integrity data of " + where + " is not valid JSON", e);
        }
    }
}
