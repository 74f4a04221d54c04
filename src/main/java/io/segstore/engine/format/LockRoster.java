package io.segstore.engine.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code lock.roster}: Borg's record of who holds a repository, JSON
 * {@code {"shared": [[host, pid, thread], ...], "exclusive": [[host, pid, thread]]}}. Keys with no
 * holders are left out, and the file is removed when nobody holds anything. It is only read and
 * written while {@code lock.exclusive} is held.
 */
public final class LockRoster {

    public static final String NAME = "lock.roster";
    public static final String SHARED = "shared";
    public static final String EXCLUSIVE = "exclusive";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path path;

    public LockRoster(Path repository) {
        this.path = repository.resolve(NAME);
    }

    /** Holders per kind; an absent, empty or unreadable file reads as nobody (as Borg does). */
    public Map<String, Set<LockDirectory.Holder>> load() throws IOException {
        Map<String, Set<LockDirectory.Holder>> out = new LinkedHashMap<>();
        out.put(SHARED, new LinkedHashSet<>());
        out.put(EXCLUSIVE, new LinkedHashSet<>());
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return out;
        }
        try {
            JsonNode root = JSON.readTree(text);
            for (String kind : new String[] {SHARED, EXCLUSIVE}) {
                JsonNode list = root == null ? null : root.get(kind);
                if (list == null || !list.isArray()) {
                    continue;
                }
                for (JsonNode e : list) {
                    if (e.isArray() && e.size() == 3) {
                        out.get(kind).add(new LockDirectory.Holder(e.get(0).asText(), e.get(1).asLong(), e.get(2).asLong()));
                    }
                }
            }
        } catch (JacksonException | IllegalArgumentException e) {
            // Borg treats a corrupt roster as empty
        }
        return out;
    }

    /** Writes the roster, or removes it when it names nobody. */
    public void save(Map<String, Set<LockDirectory.Holder>> holders) throws IOException {
        // Python's json.dump layout: ", " and ": " separators
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, Set<LockDirectory.Holder>> e : holders.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append(JSON.writeValueAsString(e.getKey())).append(": [");
            boolean first = true;
            for (LockDirectory.Holder h : e.getValue()) {
                out.append(first ? "" : ", ").append('[').append(JSON.writeValueAsString(h.host())).append(", ").append(h.pid())
                        .append(", ").append(h.thread()).append(']');
                first = false;
            }
            out.append(']');
        }
        if (out.length() == 1) {
            remove();
            return;
        }
        AtomicFile.write(path, out.append('}').toString().getBytes(StandardCharsets.UTF_8));
    }

    public void remove() throws IOException {
        Files.deleteIfExists(path);
    }

    /** All holders named, for diagnostics. */
    public List<LockDirectory.Holder> all() throws IOException {
        List<LockDirectory.Holder> all = new ArrayList<>();
        load().values().forEach(all::addAll);
        return all;
    }
}
