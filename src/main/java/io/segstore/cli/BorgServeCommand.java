package io.segstore.cli;

import io.segstore.bridge.BorgServe;
import java.io.PrintStream;

/**
 * {@code borg-serve}: the Borg bridge (borg's {@code borg serve}, forwarding to a Segstore
 * service). Started by bin/borg-rsh; it owns stdin/stdout/stderr, so it reports its own errors in
 * Borg's format instead of through {@link CommandLine}.
 */
final class BorgServeCommand implements CommandLine.Command {

    @Override
    public String usage() {
        return "borg-serve [--host HOST] [--port PORT] [borg serve options] [-- borg serve ...]  (run by bin/borg-rsh as BORG_RSH)";
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        return BorgServe.run(args);
    }
}
