package io.segstore.engine.format;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ini4j.Config;
import org.ini4j.Ini;
import org.ini4j.Profile;

/**
 * A repository's {@code config}: an INI file as Python's ConfigParser writes it. Borg's keys
 * live in {@code [repository]}; Segstore's own settings in {@code [segstore]}, a section Borg
 * reads and writes back without looking at it. Multi-line values (Borg's repokey blob) use
 * ConfigParser's continuation lines, which ini4j does not know, so they are folded before
 * parsing and written back the way ConfigParser does.
 */
public final class RepositoryConfig {

    public static final String FILE_NAME = "config";
    public static final String REPOSITORY = "repository";
    public static final String SEGSTORE = "segstore";

    public static final int DEFAULT_SEGMENTS_PER_DIR = 1000;
    public static final long DEFAULT_MAX_SEGMENT_SIZE = 500L * 1024 * 1024;

    /** Stands for a line break inside a value while ini4j parses the folded text. */
    private static final char LINE_BREAK = '\u0001';

    /** section -> (option -> value), in file order. */
    private final Map<String, Map<String, String>> sections;

    private RepositoryConfig(Map<String, Map<String, String>> sections) {
        this.sections = sections;
    }

    /** A new repository's config, with Borg's keys in Borg's order. */
    public static RepositoryConfig create(String idHex, long maxSegmentSize, int segmentsPerDir, boolean appendOnly,
                                          long storageQuota, long additionalFreeSpace) {
        RepositoryConfig c = new RepositoryConfig(new LinkedHashMap<>());
        c.set(REPOSITORY, "version", "1");
        c.set(REPOSITORY, "segments_per_dir", Integer.toString(segmentsPerDir));
        c.set(REPOSITORY, "max_segment_size", Long.toString(maxSegmentSize));
        c.set(REPOSITORY, "append_only", appendOnly ? "1" : "0");
        c.set(REPOSITORY, "storage_quota", Long.toString(storageQuota));
        c.set(REPOSITORY, "additional_free_space", Long.toString(additionalFreeSpace));
        c.set(REPOSITORY, "id", idHex);
        return c;
    }

    /** Reads {@code file}; NoSuchFileException if there is none. */
    public static RepositoryConfig read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (java.nio.charset.MalformedInputException e) {
            throw new FormatException(file + " is not UTF-8 text", e);
        }
        return parse(text);
    }

    /** Parses ConfigParser text. */
    public static RepositoryConfig parse(String text) throws FormatException {
        Ini ini = new Ini();
        Config cfg = ini.getConfig().clone();
        cfg.setEscape(false);
        cfg.setLowerCaseOption(true);
        cfg.setMultiOption(false);
        cfg.setMultiSection(false);
        cfg.setEmptyOption(true);
        cfg.setGlobalSection(false);
        ini.setConfig(cfg);
        try {
            ini.load(new StringReader(foldContinuationLines(text)));
        } catch (IOException | RuntimeException e) {
            throw new FormatException("config is not a valid INI file: " + e.getMessage(), e);
        }
        Map<String, Map<String, String>> sections = new LinkedHashMap<>();
        for (Profile.Section section : ini.values()) {
            Map<String, String> options = new LinkedHashMap<>();
            for (String option : section.keySet()) {
                String value = section.get(option);
                options.put(option, value == null ? "" : value.replace(LINE_BREAK, '\n'));
            }
            sections.put(section.getName(), options);
        }
        return new RepositoryConfig(sections);
    }

    /** ConfigParser's text for this config. */
    public String format() {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Map<String, String>> section : sections.entrySet()) {
            out.append('[').append(section.getKey()).append("]\n");
            for (Map.Entry<String, String> option : section.getValue().entrySet()) {
                out.append(option.getKey()).append(" = ").append(option.getValue().replace("\n", "\n\t")).append('\n');
            }
            out.append('\n');
        }
        return out.toString();
    }

    /**
     * Writes the config durably. As Borg does, the previous version is kept under a second name
     * while the new one is written and then overwritten before it is removed, so an old repokey
     * does not linger in free blocks.
     */
    public void save(Path file) throws IOException {
        Path old = file.resolveSibling(FILE_NAME + ".old");
        if (Files.exists(old)) {
            AtomicFile.eraseAndDelete(old);
        }
        boolean linked = false;
        if (Files.exists(file)) {
            try {
                Files.createLink(old, file);
                linked = true;
            } catch (IOException | UnsupportedOperationException e) {
                // no hard links here: the old content is simply replaced
            }
        }
        AtomicFile.write(file, format().getBytes(StandardCharsets.UTF_8));
        if (linked) {
            AtomicFile.eraseAndDelete(old);
        }
    }

    public boolean hasSection(String section) {
        return sections.containsKey(section);
    }

    public String get(String section, String option) {
        Map<String, String> s = sections.get(section);
        return s == null ? null : s.get(option);
    }

    public void set(String section, String option, String value) {
        if (value.indexOf(LINE_BREAK) >= 0) {
            throw new IllegalArgumentException("config values cannot hold control character U+0001");
        }
        sections.computeIfAbsent(section, k -> new LinkedHashMap<>()).put(option.toLowerCase(Locale.ROOT), value);
    }

    public void remove(String section, String option) {
        Map<String, String> s = sections.get(section);
        if (s != null) {
            s.remove(option);
        }
    }

    /** {@code [repository] version}, which Borg 1.x requires to be 1. */
    public int version() throws FormatException {
        return parseInt(required(REPOSITORY, "version"), "version");
    }

    public int segmentsPerDir() throws FormatException {
        return parseInt(required(REPOSITORY, "segments_per_dir"), "segments_per_dir");
    }

    public long maxSegmentSize() throws FormatException {
        return parseSize(required(REPOSITORY, "max_segment_size"), "max_segment_size");
    }

    public boolean appendOnly() throws FormatException {
        return parseBoolean(get(REPOSITORY, "append_only"), false, "append_only");
    }

    public long storageQuota() throws FormatException {
        String v = get(REPOSITORY, "storage_quota");
        return v == null ? 0 : parseSize(v, "storage_quota");
    }

    public long additionalFreeSpace() throws FormatException {
        String v = get(REPOSITORY, "additional_free_space");
        return v == null ? 0 : parseSize(v, "additional_free_space");
    }

    /** The repository id: 32 bytes as 64 hex digits. */
    public byte[] id() throws FormatException {
        String v = required(REPOSITORY, "id").strip();
        try {
            byte[] id = java.util.HexFormat.of().parseHex(v);
            if (id.length != 32) {
                throw new FormatException("config: id must be 64 hex digits");
            }
            return id;
        } catch (IllegalArgumentException e) {
            throw new FormatException("config: id must be 64 hex digits", e);
        }
    }

    /** The client's encrypted repokey blob, or an empty string when there is none. */
    public String key() {
        String v = get(REPOSITORY, "key");
        return v == null ? "" : v.strip();
    }

    /** Where the last partial check stopped, or -1. */
    public long lastSegmentChecked() throws FormatException {
        String v = get(REPOSITORY, "last_segment_checked");
        return v == null ? -1 : parseLong(v, "last_segment_checked");
    }

    private String required(String section, String option) throws FormatException {
        String v = get(section, option);
        if (v == null) {
            throw new FormatException("config: [" + section + "] " + option + " is missing");
        }
        return v;
    }

    /** Python's int(): surrounding blanks allowed, nothing else. */
    private static int parseInt(String v, String name) throws FormatException {
        long l = parseLong(v, name);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new FormatException("config: " + name + " is out of range: " + v);
        }
        return (int) l;
    }

    private static long parseLong(String v, String name) throws FormatException {
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new FormatException("config: " + name + " is not a number: " + v, e);
        }
    }

    /** Borg's parse_file_size: a number with an optional decimal suffix K, M, G, T or P. */
    public static long parseSize(String v, String name) throws FormatException {
        String s = v.strip();
        if (s.isEmpty()) {
            throw new FormatException("config: " + name + " is empty");
        }
        long factor = switch (s.charAt(s.length() - 1)) {
            case 'K' -> 1_000L;
            case 'M' -> 1_000_000L;
            case 'G' -> 1_000_000_000L;
            case 'T' -> 1_000_000_000_000L;
            case 'P' -> 1_000_000_000_000_000L;
            default -> 1L;
        };
        if (factor != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            if (s.matches("[+-]?\\d+")) {
                return Math.multiplyExact(Long.parseLong(s), factor);
            }
            if (!s.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
                throw new FormatException("config: " + name + " is not a size: " + v);
            }
            double d = Double.parseDouble(s) * factor;
            if (Double.isNaN(d) || Double.isInfinite(d) || Math.abs(d) >= 0x1p63) {
                throw new FormatException("config: " + name + " is out of range: " + v);
            }
            return (long) d;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new FormatException("config: " + name + " is not a size: " + v, e);
        }
    }

    private static boolean parseBoolean(String v, boolean fallback, String name) throws FormatException {
        if (v == null) {
            return fallback;
        }
        switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "1", "yes", "true", "on":
                return true;
            case "0", "no", "false", "off":
                return false;
            default:
                throw new FormatException("config: " + name + " is not a boolean: " + v);
        }
    }

    /**
     * Joins ConfigParser continuation lines (lines starting with blanks that follow an option)
     * to their option's value, so that a line-oriented INI parser sees one line per option.
     */
    private static String foldContinuationLines(String text) {
        List<String> out = new ArrayList<>();
        boolean inOption = false;
        for (String line : text.split("\r?\n", -1)) {
            boolean continuation = !line.isEmpty() && Character.isWhitespace(line.charAt(0)) && !line.isBlank();
            if (continuation && inOption) {
                out.set(out.size() - 1, out.get(out.size() - 1) + LINE_BREAK + line.strip());
                continue;
            }
            String t = line.strip();
            inOption = !t.isEmpty() && !t.startsWith("[") && !t.startsWith("#") && !t.startsWith(";");
            out.add(line);
        }
        return String.join("\n", out);
    }
}
