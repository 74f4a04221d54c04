package io.segstore.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** "--name value" options and positional arguments, checked against the options a command knows. */
final class Arguments {

    private final Map<String, String> options = new HashMap<>();
    private final Set<String> flags;
    private final List<String> positional = new ArrayList<>();

    Arguments(String[] args, Set<String> valued, Set<String> flags) throws CommandLine.UsageException {
        this.flags = new java.util.HashSet<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                String name = a.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (flags.contains(name) && value == null) {
                    this.flags.add(name);
                } else if (valued.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new CommandLine.UsageException("--" + name + " needs a value");
                        }
                        value = args[++i];
                    }
                    options.put(name, value);
                } else {
                    throw new CommandLine.UsageException("unknown option --" + name);
                }
            } else {
                positional.add(a);
            }
        }
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String option(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    long longOption(String name, long fallback, long min) throws CommandLine.UsageException {
        String v = options.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v);
            if (n < min) {
                throw new CommandLine.UsageException("--" + name + " must be at least " + min);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CommandLine.UsageException("--" + name + " must be a whole number, not " + v);
        }
    }

    List<String> positional() {
        return positional;
    }
}
