package io.segstore.engine.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code transactions}: in append-only mode, one line per commit,
 * {@code transaction <T>, UTC time <YYYY-MM-DDTHH:MM:SS.ffffff>}. It tells an operator which
 * transaction ids existed and when, so the repository can be rolled back to one of them.
 */
public final class TransactionsLogFile {

    public static final String NAME = "transactions";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");
    private static final Pattern LINE = Pattern.compile("transaction (\\d+), UTC time (\\S+)");

    private TransactionsLogFile() {
    }

    /** One recorded commit. */
    public record Entry(long transaction, Instant time) {
    }

    /** Appends a line for {@code transaction} and syncs it. */
    public static void append(Path repository, long transaction, Instant when) throws IOException {
        String line = "transaction " + transaction + ", UTC time " + TIME.format(LocalDateTime.ofInstant(when, ZoneOffset.UTC)) + "\n";
        Path file = repository.resolve(NAME);
        boolean created = !Files.exists(file);
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
                AtomicFile.fileAttributes(file))) {
            ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        }
        if (created) {
            // the log's first line is only durable once the directory entry naming it is
            AtomicFile.syncDirectory(repository);
        }
    }

    /** Every well-formed line, in file order; lines that do not parse are skipped. */
    public static List<Entry> read(Path repository) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(repository.resolve(NAME), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line.strip());
            if (!m.matches()) {
                continue;
            }
            try {
                Instant t = LocalDateTime.parse(m.group(2), DateTimeFormatter.ISO_LOCAL_DATE_TIME).toInstant(ZoneOffset.UTC);
                out.add(new Entry(Long.parseLong(m.group(1)), t));
            } catch (DateTimeParseException | NumberFormatException e) {
                // a torn last line after a crash: skip it
            }
        }
        return out;
    }
}
