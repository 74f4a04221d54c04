package io.segstore.service;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reading a request body that must arrive whole. A body that ends early, fails, or stalls past
 * the connection's read timeout is UPLOAD_INCOMPLETE (400): the caller stores nothing.
 */
public final class BodyInput {

    private BodyInput() {
    }

    /**
     * Fills {@code buf[off, off + len)} from {@code in}, or fails as incomplete; {@code before}
     * bytes of the body came earlier, and {@code declared} is its announced length (-1 if none),
     * both only for the message.
     */
    public static void readFully(InputStream in, byte[] buf, int off, int len, long before, long declared) {
        int got = 0;
        while (got < len) {
            int n;
            try {
                n = in.read(buf, off + got, len - got);
            } catch (IOException e) {
                throw incomplete(before + got, declared, e);
            }
            if (n < 0) {
                throw incomplete(before + got, declared, null);
            }
            got += n;
        }
    }

    /** The error for a body that stopped after {@code received} bytes. */
    public static ServiceException incomplete(long received, long declared, IOException cause) {
        return new ServiceException(ServiceException.Kind.UPLOAD_INCOMPLETE, "The upload ended after " + received
                + (declared >= 0 ? " of " + declared : "") + " bytes; nothing was stored.", cause);
    }
}
