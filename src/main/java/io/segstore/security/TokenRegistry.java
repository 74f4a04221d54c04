package io.segstore.security;

import io.segstore.service.SegstoreProperties;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The configured tokens, by the SHA-256 of the secret (the secret itself is never stored).
 * Tokens come from {@code segstore.security.tokens} and from {@code segstore.security.tokens-file},
 * which is re-read when it changes so that a rotated Kubernetes Secret takes effect without a
 * restart. A file that turns invalid keeps the last good set and logs why.
 */
public final class TokenRegistry {

    private static final System.Logger LOG = System.getLogger(TokenRegistry.class.getName());
    private static final long RECHECK_NANOS = 2_000_000_000L;

    /** One token as looked up: the digest of its secret and who it makes the caller. */
    private record Entry(byte[] sha256, Caller caller) {
    }

    private final List<Entry> configured;
    private final Path file;
    private volatile List<Entry> fromFile = List.of();
    private volatile FileTime fileTime;
    private volatile long lastCheck;

    public TokenRegistry(SegstoreProperties.Security security) {
        this.configured = parse(security.tokens(), "segstore.security.tokens");
        this.file = security.tokensFile();
        if (file != null) {
            reload(true);
        }
        checkUniqueNames();
    }

    /** Whether any token is configured (if not, the service runs unauthenticated on loopback). */
    public boolean enabled() {
        return !configured.isEmpty() || file != null;
    }

    /**
     * The caller a presented secret belongs to, or null. Every configured digest is compared,
     * in constant time each, whatever matched, so the time taken says nothing about the tokens.
     */
    public Caller authenticate(String secret) {
        if (file != null && System.nanoTime() - lastCheck > RECHECK_NANOS) {
            reload(false);
        }
        byte[] digest = sha256(secret.getBytes(StandardCharsets.UTF_8));
        Caller found = null;
        for (List<Entry> list : List.of(configured, fromFile)) {
            for (Entry e : list) {
                if (MessageDigest.isEqual(digest, e.sha256()) && found == null) {
                    found = e.caller();
                }
            }
        }
        return found;
    }

    private synchronized void reload(boolean atStart) {
        lastCheck = System.nanoTime();
        try {
            FileTime t = Files.getLastModifiedTime(file);
            if (t.equals(fileTime)) {
                return;
            }
            List<Entry> loaded = parse(read(file), file.toString());
            fromFile = loaded;
            fileTime = t;
            LOG.log(System.Logger.Level.INFO, "loaded {0} token(s) from {1}", loaded.size(), file);
        } catch (IOException | RuntimeException e) {
            if (atStart) {
                throw new IllegalStateException("cannot read the tokens file " + file + ": " + e.getMessage(), e);
            }
            LOG.log(System.Logger.Level.ERROR, "cannot read the tokens file {0}, keeping the previous tokens: {1}", file, e.getMessage());
        }
    }

    /** The file's tokens: a YAML (or JSON) list, or a map whose "tokens" is that list. */
    @SuppressWarnings("unchecked")
    private static List<SegstoreProperties.Token> read(Path file) throws IOException {
        Object doc;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        }
        if (doc instanceof Map<?, ?> m) {
            doc = m.get("tokens");
        }
        if (!(doc instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of tokens (or a map with a \"tokens\" list)");
        }
        List<SegstoreProperties.Token> tokens = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> t)) {
                throw new IllegalArgumentException("each token is a map of name, sha256 and grants");
            }
            List<SegstoreProperties.Grant> grants = new ArrayList<>();
            if (t.get("grants") instanceof List<?> gs) {
                for (Object g : gs) {
                    if (!(g instanceof Map<?, ?> gm)) {
                        throw new IllegalArgumentException("each grant is a map of repos and role");
                    }
                    grants.add(new SegstoreProperties.Grant(string(gm.get("repos")), string(gm.get("role"))));
                }
            }
            tokens.add(new SegstoreProperties.Token(string(t.get("name")), string(t.get("sha256")), grants));
        }
        return tokens;
    }

    private static String string(Object o) {
        return o == null ? null : o.toString();
    }

    private static List<Entry> parse(List<SegstoreProperties.Token> tokens, String source) {
        List<Entry> out = new ArrayList<>();
        for (SegstoreProperties.Token t : tokens) {
            String where = source + " token " + (t.name() == null ? "#" + (out.size() + 1) : "\"" + t.name() + "\"");
            if (t.name() == null || t.name().isBlank() || !t.name().matches("[A-Za-z0-9._@-]{1,64}")) {
                throw new IllegalArgumentException(where + ": a name of 1 to 64 letters, digits, '.', '_', '@' or '-' is required");
            }
            if (t.sha256() == null || !t.sha256().matches("[0-9A-Fa-f]{64}")) {
                throw new IllegalArgumentException(where + ": sha256 must be the 64 hex digits of the token's SHA-256 "
                        + "(e.g. printf %s \"$TOKEN\" | sha256sum), never the token itself");
            }
            if (t.grants() == null || t.grants().isEmpty()) {
                throw new IllegalArgumentException(where + ": at least one grant {repos, role} is required");
            }
            List<Caller.Grant> grants = new ArrayList<>();
            boolean metrics = false;
            for (SegstoreProperties.Grant g : t.grants()) {
                if (g.role() != null && g.role().trim().equalsIgnoreCase("metrics")) {
                    metrics = true;
                    continue;
                }
                try {
                    grants.add(new Caller.Grant(new RepositoryGlob(g.repos() == null ? "*" : g.repos()), Role.parse(g.role())));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage());
                }
            }
            out.add(new Entry(HexFormat.of().parseHex(t.sha256().toLowerCase(Locale.ROOT)), new Caller(t.name(), grants, metrics)));
        }
        return List.copyOf(out);
    }

    private void checkUniqueNames() {
        Set<String> names = new HashSet<>();
        for (List<Entry> list : List.of(configured, fromFile)) {
            for (Entry e : list) {
                if (!names.add(e.caller().name())) {
                    throw new IllegalArgumentException("token name \"" + e.caller().name() + "\" is used twice: audit lines could not tell them apart");
                }
            }
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
