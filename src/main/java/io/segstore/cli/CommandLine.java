package io.segstore.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Map;

/**
 * The command-line tools of segstore.jar, chosen by the first argument. They run without Spring,
 * so they start in a fraction of a second.
 */
public final class CommandLine {

    /** One tool: runs with its arguments and returns the exit status. */
    interface Command {
        int run(String[] args, PrintStream out, PrintStream err) throws Exception;

        String usage();
    }

    private static final Map<String, Command> COMMANDS = Map.of(
            "bench", new BenchCommand(),
            "borg-serve", new BorgServeCommand(),
            "check", new CheckCommand(),
            "health", new HealthCommand());

    private CommandLine() {
    }

    public static boolean isCommand(String name) {
        return COMMANDS.containsKey(name);
    }

    /** Runs {@code args[0]} with the remaining arguments; returns the exit status. */
    public static int run(String[] args) {
        Command command = COMMANDS.get(args[0]);
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return command.run(rest, System.out, System.err);
        } catch (UsageException e) {
            System.err.println("segstore " + args[0] + ": " + e.getMessage());
            System.err.println("usage: java -jar segstore.jar " + command.usage());
            return 2;
        } catch (Exception e) {
            System.err.println("segstore " + args[0] + ": " + e.getMessage());
            return 1;
        }
    }

    /** Wrong arguments. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}
