package io.segstore.cli;

import io.segstore.engine.CheckOptions;
import io.segstore.engine.CheckResult;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.Repository;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Offline check (or repair) of a repository directory that no service has open: Borg's
 * {@code borg check --repository-only}, with progress on stderr.
 */
final class CheckCommand implements CommandLine.Command {

    @Override
    public String usage() {
        return "check [--repair] [--max-duration SECONDS] [--lock-wait SECONDS] DIR";
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Arguments a = new Arguments(args, Set.of("max-duration", "lock-wait"), Set.of("repair"));
        if (a.positional().size() != 1) {
            throw new CommandLine.UsageException("name one repository directory");
        }
        long maxDuration = a.longOption("max-duration", 0, 0);
        if (a.flag("repair") && maxDuration > 0) {
            throw new CommandLine.UsageException("--repair always checks everything; leave out --max-duration");
        }
        OpenOptions open = OpenOptions.defaults().withBackgroundCheckpoints(false)
                .withLockWait(Duration.ofSeconds(a.longOption("lock-wait", 1, 0)));
        CheckOptions options = a.flag("repair") ? CheckOptions.repairing() : new CheckOptions(false, Duration.ofSeconds(maxDuration));
        int[] lastPercent = {-1};
        try (Repository repo = Repository.open(Path.of(a.positional().get(0)), open)) {
            CheckResult result = repo.check(options, (phase, done, total) -> {
                int percent = total == 0 ? 100 : (int) (100 * done / total);
                if (percent != lastPercent[0]) {
                    lastPercent[0] = percent;
                    err.print("\r" + phase + " " + percent + "%");
                    err.flush();
                }
            });
            err.println();
            result.errors().forEach(e -> out.println("error: " + e));
            out.println(result.mode() + " check: " + result.segmentsChecked() + " segment(s), "
                    + (result.errors().isEmpty() ? "no problems found" : result.errors().size() + " problem(s)")
                    + (result.finished() ? "" : ", stopped after segment " + result.lastSegmentChecked() + " (the next partial check resumes there)")
                    + (result.entriesSalvaged() > 0 ? ", " + result.entriesSalvaged() + " entries salvaged" : "")
                    + ".");
            return result.ok() ? 0 : 1;
        }
    }
}
