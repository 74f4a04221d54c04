package io.segstore;

import io.segstore.cli.CommandLine;
import org.springframework.boot.SpringApplication;

/**
 * Entry point of target/segstore.jar: a known command name as the first argument runs that
 * command-line tool without starting Spring (borg starts the bridge once per command, so it must
 * start fast); anything else starts the service.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && CommandLine.isCommand(args[0])) {
            System.exit(CommandLine.run(args));
        }
        SpringApplication.run(SegstoreApplication.class, args);
    }
}
