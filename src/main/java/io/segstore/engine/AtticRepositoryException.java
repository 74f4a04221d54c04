package io.segstore.engine;

/** An Attic repository (segments start with ATTICSEG): Borg must upgrade it first. */
public class AtticRepositoryException extends InvalidRepositoryException {

    public AtticRepositoryException(java.nio.file.Path path) {
        super("Attic repository detected at " + path + ". Please run \"borg upgrade " + path + "\".");
    }
}
