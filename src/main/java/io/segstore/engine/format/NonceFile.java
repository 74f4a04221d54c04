package io.segstore.engine.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * {@code nonce}: the next encryption nonce a Borg client may use, 16 hex digits of a big-endian
 * u64. Clients reserve nonce ranges through the repository so that two clients sharing a key
 * never reuse one.
 */
public final class NonceFile {

    public static final String NAME = "nonce";

    private NonceFile() {
    }

    /** The stored value, or empty when no client has reserved any nonce yet. */
    public static OptionalLong read(Path repository) throws IOException {
        String text;
        try {
            text = Files.readString(repository.resolve(NAME), StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        if (text.length() != 16) {
            throw new FormatException("nonce file must hold 16 hex digits");
        }
        try {
            return OptionalLong.of(Long.parseUnsignedLong(text, 16));
        } catch (NumberFormatException e) {
            throw new FormatException("nonce file must hold 16 hex digits", e);
        }
    }

    public static void write(Path repository, long next) throws IOException {
        String text = String.format(Locale.ROOT, "%016x", next);
        AtomicFile.write(repository.resolve(NAME), text.getBytes(StandardCharsets.US_ASCII));
    }
}
