package io.segstore.engine;

/** A PUT carries more than Borg's MAX_DATA_SIZE bytes. */
public class ObjectTooLargeException extends RepositoryException {

    public ObjectTooLargeException(long size) {
        super("More than allowed put data [" + size + " > " + io.segstore.engine.format.SegmentFile.MAX_DATA_SIZE + "]");
    }
}
