package io.segstore.restic;

import io.segstore.engine.ObjectId;
import io.segstore.engine.ObjectNotFoundException;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;

/**
 * Reads the restic catalogue of a repository: which files of a type exist, and their sizes. A
 * file exists exactly when its catalogue entry does (the config, which has none, when its
 * object does); the entry and the file's parts are always committed together.
 */
final class Catalogue {

    private Catalogue() {
    }

    /** A bucket as committed (txn null) or as {@code txn} sees it; empty when it is not stored. */
    static CatalogueBucket bucket(Repository repository, Transaction txn, FileType type, int number) {
        ObjectId id = FileIds.bucket(type, number);
        try {
            if (txn == null ? !repository.contains(id) : !txn.contains(id)) {
                return CatalogueBucket.empty(type, number);
            }
            return CatalogueBucket.decode(type, number, txn == null ? repository.get(id) : txn.get(id));
        } catch (ObjectNotFoundException e) {
            return CatalogueBucket.empty(type, number); // deleted between the two looks: the bucket emptied
        }
    }

    /** The file's size as committed (txn null) or as {@code txn} sees it, or -1 when it does not exist. */
    static long sizeOf(Repository repository, Transaction txn, FileName file) {
        if (!file.type().catalogued()) {
            ObjectId id = FileIds.part(file, 0);
            return txn == null ? repository.size(id) : txn.size(id);
        }
        return bucket(repository, txn, file.type(), file.type().bucketOf(file.bytes())).sizeOf(file.bytes());
    }

    /** Receives the files of a listing. */
    @FunctionalInterface
    interface Visitor {
        void visit(byte[] name, long size) throws java.io.IOException;
    }

    /** Visits every committed file of {@code type}, bucket by bucket (in name order). */
    static void forEach(Repository repository, FileType type, Visitor visitor) throws java.io.IOException {
        for (int b = 0; b < type.buckets(); b++) {
            for (CatalogueBucket.Entry e : bucket(repository, null, type, b).entries()) {
                visitor.visit(e.name(), e.size());
            }
        }
    }
}
