package io.segstore.engine;

/** An object in a listing: its id and the length of its data in bytes. */
public record ObjectEntry(ObjectId id, long size) {
}
