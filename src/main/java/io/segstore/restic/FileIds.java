package io.segstore.restic;

import io.segstore.engine.ObjectId;
import io.segstore.engine.format.SegmentFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Where restic files live among a repository's objects (docs/FORMAT.md, "restic files"). Every
 * id is a SHA-256 over a domain string, so none can meet a Borg id (a keyed MAC) or another
 * scheme's:
 * <ul>
 * <li>part {@code i} of file {@code type/name}: SHA-256("segstore.restic.part" 0x00 type 0x00 name 0x00 u32be(i));
 *     a file of {@code size} bytes has {@code max(1, ceil(size / PART_SIZE))} parts, each
 *     PART_SIZE bytes but the last;</li>
 * <li>bucket {@code b} of type {@code type}'s catalogue:
 *     SHA-256("segstore.restic.catalogue" 0x00 type 0x00 u32be(b)).</li>
 * </ul>
 */
final class FileIds {

    /** The bytes of a file each object holds: Borg's largest object. */
    static final long PART_SIZE = SegmentFile.MAX_DATA_SIZE;

    private static final byte[] PART = "segstore.restic.part".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CATALOGUE = "segstore.restic.catalogue".getBytes(StandardCharsets.US_ASCII);

    private FileIds() {
    }

    static ObjectId part(FileName file, int part) {
        byte[] type = file.type().path().getBytes(StandardCharsets.US_ASCII);
        byte[] name = file.name().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(PART.length + 1 + type.length + 1 + name.length + 1 + 4);
        b.put(PART).put((byte) 0).put(type).put((byte) 0).put(name).put((byte) 0).putInt(part);
        return ObjectId.of(sha256(b.array()));
    }

    static ObjectId bucket(FileType type, int bucket) {
        byte[] t = type.path().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(CATALOGUE.length + 1 + t.length + 1 + 4);
        b.put(CATALOGUE).put((byte) 0).put(t).put((byte) 0).putInt(bucket);
        return ObjectId.of(sha256(b.array()));
    }

    /** How many objects hold a file of {@code size} bytes (an empty file has one, empty). */
    static int parts(long size) {
        return size == 0 ? 1 : (int) ((size + PART_SIZE - 1) / PART_SIZE);
    }

    /** The length of part {@code i} of a file of {@code size} bytes. */
    static long partLength(long size, int i) {
        return Math.min(PART_SIZE, size - i * PART_SIZE);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
