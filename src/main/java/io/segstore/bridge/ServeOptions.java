package io.segstore.bridge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line of {@code segstore.jar borg-serve}, as bin/borg-rsh builds it:
 *
 * <pre>borg-serve [--host H] [--port P] [forced serve options] -- [remote command words]</pre>
 *
 * The remote command words are what borg asked its "ssh" to run: {@code borg serve} (or
 * whatever BORG_REMOTE_PATH names) followed by the options borg 1.2 appends ({@code --debug},
 * {@code --info}, {@code --error}, {@code --critical}, {@code --debug-topic=...},
 * {@code --storage-quota=N}), and borg's common options anywhere (e.g. {@code --umask 077}). The
 * forced options before {@code --} play the part of an ssh forced command
 * ({@code command="borg serve --append-only --restrict-to-path ..."}): when they restrict paths,
 * the client cannot widen them, and their storage quota wins. Without {@code --}, every
 * argument is a remote word (the bridge started directly, e.g. by ssh with BORG_REMOTE_PATH).
 */
final class ServeOptions {

    /** Borg's common options that take a value (accepted and, where they mean nothing here, ignored). */
    private static final Set<String> VALUED = Set.of("debug-topic", "lock-wait", "umask", "remote-path", "upload-ratelimit",
            "upload-buffer", "debug-profile", "rsh", "restrict-to-path", "restrict-to-repository", "storage-quota");
    /** Borg's common flags, and serve's --append-only. */
    private static final Set<String> FLAGS = Set.of("critical", "error", "warning", "info", "verbose", "debug", "progress",
            "iec", "log-json", "bypass-lock", "show-version", "show-rc", "consider-part-files", "append-only");
    private static final Map<String, String> SHORT = Map.of("-v", "verbose", "-p", "progress");
    /** Options only bin/borg-rsh passes (before "--"). */
    private static final Set<String> BRIDGE = Set.of("host", "port");

    BorgLog.Level logLevel = BorgLog.Level.WARNING;
    boolean appendOnly;
    Long storageQuota;
    final List<String> restrictToPaths = new ArrayList<>();
    final List<String> restrictToRepositories = new ArrayList<>();
    final List<String> debugTopics = new ArrayList<>();
    String host;
    Integer port;

    /** Wrong arguments: reported the way argparse reports them for borg serve. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static final String USAGE = "usage: borg serve [-h] [--critical] [--error] [--warning] [--info] [--debug] [--debug-topic TOPIC] "
            + "[--umask M] [--restrict-to-path PATH] [--restrict-to-repository PATH] [--append-only] [--storage-quota QUOTA]";

    static ServeOptions parse(String[] argv) throws UsageException {
        ServeOptions o = new ServeOptions();
        int dashes = List.of(argv).indexOf("--");
        List<String> forced = dashes < 0 ? List.of() : List.of(argv).subList(0, dashes);
        List<String> remote = dashes < 0 ? List.of(argv) : List.of(argv).subList(dashes + 1, argv.length);

        ServeOptions forcedOptions = new ServeOptions();
        forcedOptions.options(forced, true);
        ServeOptions client = new ServeOptions();
        client.options(remoteOptions(remote), false);

        o.host = forcedOptions.host;
        o.port = forcedOptions.port;
        o.logLevel = client.logLevelGiven ? client.logLevel : BorgLog.Level.WARNING;
        if (forcedOptions.logLevelGiven) {
            o.logLevel = forcedOptions.logLevel;
        }
        o.appendOnly = forcedOptions.appendOnly || client.appendOnly;
        o.storageQuota = forcedOptions.storageQuota != null ? forcedOptions.storageQuota : client.storageQuota;
        boolean forcedRestrictions = !forcedOptions.restrictToPaths.isEmpty() || !forcedOptions.restrictToRepositories.isEmpty();
        ServeOptions restrictions = forcedRestrictions ? forcedOptions : client;
        o.restrictToPaths.addAll(restrictions.restrictToPaths);
        o.restrictToRepositories.addAll(restrictions.restrictToRepositories);
        o.debugTopics.addAll(client.debugTopics);
        o.debugTopics.addAll(forcedOptions.debugTopics);
        return o;
    }

    /** The option words of the remote command: borg's common options before "serve" and everything after it. */
    private static List<String> remoteOptions(List<String> words) throws UsageException {
        int serve = words.indexOf("serve");
        List<String> options = new ArrayList<>();
        if (serve < 0) {
            for (String w : words) {
                if (!w.startsWith("-")) {
                    throw new UsageException("borg serve: error: expected the remote command \"borg serve ...\", got: " + String.join(" ", words));
                }
            }
            return words;
        }
        for (int i = 0; i < serve; i++) {
            String w = words.get(i);
            if (i == 0 && !w.startsWith("-")) {
                continue; // the program: borg, /usr/bin/borg, or whatever BORG_REMOTE_PATH says
            }
            options.add(w);
        }
        options.addAll(words.subList(serve + 1, words.size()));
        return options;
    }

    private boolean logLevelGiven;

    private void options(List<String> words, boolean bridge) throws UsageException {
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String name;
            String value = null;
            if (SHORT.containsKey(w)) {
                name = SHORT.get(w);
            } else if (w.startsWith("--") && w.length() > 2) {
                name = w.substring(2);
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
            } else {
                unknown.add(w);
                continue;
            }
            boolean valued = VALUED.contains(name) || (bridge && BRIDGE.contains(name));
            if (valued) {
                if (value == null) {
                    if (i + 1 >= words.size()) {
                        throw new UsageException(USAGE + "\nborg serve: error: argument --" + name + ": expected one argument");
                    }
                    value = words.get(++i);
                }
                set(name, value);
            } else if (FLAGS.contains(name) && value == null) {
                set(name, null);
            } else {
                unknown.add(w);
            }
        }
        if (!unknown.isEmpty()) {
            throw new UsageException(USAGE + "\nborg serve: error: unrecognized arguments: " + String.join(" ", unknown));
        }
    }

    private void set(String name, String value) throws UsageException {
        switch (name) {
            case "critical" -> level(BorgLog.Level.CRITICAL);
            case "error" -> level(BorgLog.Level.ERROR);
            case "warning" -> level(BorgLog.Level.WARNING);
            case "info", "verbose" -> level(BorgLog.Level.INFO);
            case "debug" -> level(BorgLog.Level.DEBUG);
            case "append-only" -> appendOnly = true;
            case "restrict-to-path" -> restrictToPaths.add(value);
            case "restrict-to-repository" -> restrictToRepositories.add(value);
            case "debug-topic" -> debugTopics.add(value);
            case "storage-quota" -> {
                try {
                    storageQuota = BorgError.FileSizes.parse(value);
                } catch (IllegalArgumentException e) {
                    throw new UsageException(USAGE + "\nborg serve: error: argument --storage-quota: invalid size: '" + value + "'");
                }
            }
            case "umask" -> {
                if (!value.matches("[0-7]{1,4}")) {
                    throw new UsageException(USAGE + "\nborg serve: error: argument --umask: invalid int value: '" + value + "'");
                }
            }
            case "host" -> host = value;
            case "port" -> {
                try {
                    port = Integer.parseInt(value);
                } catch (NumberFormatException e) {
                    throw new UsageException("borg-serve: --port is a number, not " + value);
                }
            }
            default -> {
                // the other common options mean nothing to the bridge: accepted, as borg serve accepts them
            }
        }
    }

    private void level(BorgLog.Level l) {
        logLevel = l;
        logLevelGiven = true;
    }

    /**
     * The service's URL: SEGSTORE_URL, or else http://HOST:PORT from the host borg connects to
     * (ssh://segstore/repo reaches http://segstore:8080), or null when neither is known.
     */
    String serviceUrl(Map<String, String> env) {
        String url = env.get("SEGSTORE_URL");
        if (url != null && !url.isBlank()) {
            return url.strip();
        }
        if (host == null || host.isBlank()) {
            return null;
        }
        String h = host.substring(host.indexOf('@') + 1);
        return "http://" + h + ":" + (port == null ? 8080 : port);
    }
}
