package io.segstore.engine.format;

import java.io.IOException;

/** A file that exists but whose bytes are not what its format allows. */
public class FormatException extends IOException {

    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
