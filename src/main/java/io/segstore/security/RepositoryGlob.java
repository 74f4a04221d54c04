package io.segstore.security;

import java.util.regex.Pattern;

/**
 * A grant's repository pattern: {@code *} matches any run of characters, {@code ?} one
 * character, everything else itself. Repository names cannot contain '/', so there is no
 * directory structure to respect.
 */
public final class RepositoryGlob {

    private final String text;
    private final Pattern pattern;

    public RepositoryGlob(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("a grant needs a repository pattern (\"*\" for all)");
        }
        this.text = text;
        StringBuilder re = new StringBuilder();
        for (char c : text.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        this.pattern = Pattern.compile(re.toString());
    }

    public boolean matches(String repository) {
        return pattern.matcher(repository).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
