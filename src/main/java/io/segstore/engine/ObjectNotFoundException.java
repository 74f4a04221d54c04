package io.segstore.engine;

/** No object with the given id is stored. */
public class ObjectNotFoundException extends RepositoryException {

    private final ObjectId id;

    public ObjectNotFoundException(ObjectId id) {
        super("Object with key " + id.hex() + " not found in repository.");
        this.id = id;
    }

    public ObjectId id() {
        return id;
    }
}
