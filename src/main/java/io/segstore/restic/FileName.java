package io.segstore.restic;

import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A validated restic file: its type and its name, with the name's 32 bytes (the config's are
 * all zero; it is never catalogued).
 */
public record FileName(FileType type, String name, byte[] bytes) {

    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final String CONFIG = "config";

    /** The repository's config file. */
    public static final FileName CONFIG_FILE = new FileName(FileType.CONFIG, CONFIG, new byte[32]);

    /** A file of {@code type} named {@code name}; bad-file-name (400) unless valid for the type. */
    public static FileName of(FileType type, String name) {
        if (type == FileType.CONFIG) {
            if (!CONFIG.equals(name)) {
                throw ResticException.badName("The config file is named \"config\"; got \"" + printable(name) + "\".");
            }
            return CONFIG_FILE;
        }
        if (name == null || !HASH.matcher(name).matches()) {
            throw ResticException.badName("A restic " + type.path() + " file is named by 64 lower-case hex digits"
                    + (name == null ? "." : "; got \"" + printable(name) + "\"."));
        }
        return new FileName(type, name, HexFormat.of().parseHex(name));
    }

    /** The name as it appears in a path: {@code data/<name>} or {@code config}. */
    public String path() {
        return type == FileType.CONFIG ? CONFIG : type.path() + "/" + name;
    }

    /** Whether restic names this file by the SHA-256 of its content (every file but the config). */
    public boolean namedByHash() {
        return type != FileType.CONFIG;
    }

    static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return s.length() > 80 ? b + "..." : b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileName f && f.type == type && f.name.equals(name);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + name.hashCode();
    }

    @Override
    public String toString() {
        return path();
    }
}
