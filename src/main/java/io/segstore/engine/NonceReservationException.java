package io.segstore.engine;

/** A nonce reservation did not start where the previous one ended. */
public class NonceReservationException extends RepositoryException {

    public NonceReservationException(String message) {
        super(message);
    }
}
