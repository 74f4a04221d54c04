package io.segstore.bridge;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Borg's repository path and the Segstore repository it names. Everything a Borg location can
 * put before the name is dropped: the leading slash of {@code ssh://segstore/myrepo}, and the
 * {@code ~/} (home) and {@code ./} (working directory) prefixes that borg serve resolves on its
 * host. What remains must be a repository name. The service is one flat directory of
 * repositories, seen by --restrict-to-path and --restrict-to-repository as {@code /<name>}.
 */
final class RepositoryPath {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private RepositoryPath() {
    }

    /** The repository name in a Borg path, or null when the path names no repository. */
    static String name(String path) {
        String p = strip(path);
        return NAME.matcher(p).matches() ? p : null;
    }

    private static String strip(String path) {
        String p = path;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (String prefix : List.of("/~/", "~/", "/./", "./", "/")) {
                if (p.startsWith(prefix)) {
                    p = p.substring(prefix.length());
                    changed = true;
                }
            }
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /**
     * Whether borg serve's restrictions allow the repository: below one of the allowed paths (or
     * any when none is given), and one of the allowed repositories (or any when none is given).
     */
    static boolean allowed(String name, List<String> restrictToPaths, List<String> restrictToRepositories) {
        String withSep = "/" + name + "/";
        if (!restrictToPaths.isEmpty()) {
            boolean ok = false;
            for (String r : restrictToPaths) {
                String prefix = canonical(r);
                if (withSep.startsWith(prefix)) {
                    ok = true;
                    break;
                }
            }
            if (!ok) {
                return false;
            }
        }
        if (!restrictToRepositories.isEmpty()) {
            for (String r : restrictToRepositories) {
                if (withSep.equals(canonical(r))) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    /** A restriction as "/path/" (with exactly one slash at each end; "/" for the root). */
    private static String canonical(String restriction) {
        String p = strip(restriction);
        return p.isEmpty() ? "/" : "/" + p + "/";
    }
}
