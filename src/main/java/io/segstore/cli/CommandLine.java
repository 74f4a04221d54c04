package io.segstore.cli;

import java.util.Map;
import java.util.function.Function;

/** The command-line tools of segstore.jar, dispatched by their first argument. */
public final class CommandLine {

    private static final Map<String, Function<String[], Integer>> COMMANDS = Map.of();

    private CommandLine() {
    }

    public static boolean isCommand(String name) {
        return COMMANDS.containsKey(name);
    }

    /** Runs {@code args[0]} with the remaining arguments; returns the exit status. */
    public static int run(String[] args) {
        return COMMANDS.get(args[0]).apply(java.util.Arrays.copyOfRange(args, 1, args.length));
    }
}
