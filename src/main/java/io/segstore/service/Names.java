package io.segstore.service;

import io.segstore.engine.ObjectId;
import java.util.regex.Pattern;

/**
 * The names clients use, checked before anything touches the file system: a repository name
 * becomes a directory name, so only a safe alphabet is allowed.
 */
public final class Names {

    private static final Pattern REPOSITORY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern OBJECT_ID = Pattern.compile("[0-9A-Fa-f]{64}");

    private Names() {
    }

    public static String repository(String name) {
        if (name == null || !REPOSITORY.matcher(name).matches()) {
            throw new ServiceException(ServiceException.Kind.BAD_REPOSITORY_NAME,
                    "A repository name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
                            + (name == null ? "." : "; got \"" + printable(name) + "\"."));
        }
        return name;
    }

    public static ObjectId objectId(String hex) {
        if (hex == null || !OBJECT_ID.matcher(hex).matches()) {
            throw new ServiceException(ServiceException.Kind.BAD_OBJECT_ID,
                    "An object id is 64 hexadecimal digits (32 bytes)" + (hex == null ? "." : "; got \"" + printable(hex) + "\"."));
        }
        return ObjectId.parse(hex);
    }

    /** A name shown back in an error message, without control characters and not too long. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return s.length() > 80 ? b + "..." : b.toString();
    }
}
