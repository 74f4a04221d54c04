package io.segstore.restic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.IntegrityException;
import io.segstore.engine.format.SegmentFile;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The scheme of docs/FORMAT.md section 12, with its worked example's bytes. */
class FileIdsTest {

    static final String HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    @Test
    void worked_example_ids() {
        FileName file = FileName.of(FileType.DATA, HELLO);
        assertEquals("c99e0bee1a78d00924632ce9a13f22c911bc540db3faddcee4c4aaa97e367881", FileIds.part(file, 0).hex());
        assertEquals("ad9969fc4d872f7133b399c0aacca3e4ecd55b2dc8be030d24e0d03fee86f71c", FileIds.part(file, 1).hex());
        assertEquals(719, FileType.DATA.bucketOf(file.bytes()));
        assertEquals("26dbf23890e07c494227058f263fff1a3820a89cbdc0dfaf78580f9639c7e590", FileIds.bucket(FileType.DATA, 719).hex());
        assertEquals("cabc7a38c204722277361bb7e3ec6f122af41fec2c7fed6692afe6313e1948a7", FileIds.part(FileName.CONFIG_FILE, 0).hex());
        assertEquals(0x2c, FileType.SNAPSHOTS.bucketOf(file.bytes()));
    }

    @Test
    void worked_example_bucket() {
        CatalogueBucket b = CatalogueBucket.empty(FileType.DATA, 719);
        assertTrue(b.add(HexFormat.of().parseHex(HELLO), 5));
        byte[] encoded = b.encode();
        assertEquals("5347524341543031010ccf02010000002cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
                + "0500000000000000", HexFormat.of().formatHex(encoded));
        CatalogueBucket decoded = CatalogueBucket.decode(FileType.DATA, 719, encoded);
        assertEquals(5, decoded.sizeOf(HexFormat.of().parseHex(HELLO)));
    }

    @Test
    void typesGetDifferentIdsForTheSameName() {
        assertFalse(FileIds.part(FileName.of(FileType.DATA, HELLO), 0).equals(FileIds.part(FileName.of(FileType.INDEX, HELLO), 0)));
        assertFalse(FileIds.bucket(FileType.DATA, 1).equals(FileIds.bucket(FileType.KEYS, 1)));
    }

    @Test
    void parts() {
        long part = SegmentFile.MAX_DATA_SIZE;
        assertEquals(1, FileIds.parts(0));
        assertEquals(1, FileIds.parts(1));
        assertEquals(1, FileIds.parts(part));
        assertEquals(2, FileIds.parts(part + 1));
        assertEquals(7, FileIds.parts(128L << 20));
        assertEquals(1, FileIds.partLength(part + 1, 1));
        assertEquals(part, FileIds.partLength(part + 1, 0));
    }

    @Test
    void bucketsStaySortedAndRefuseWhatIsNotTheirs() {
        CatalogueBucket b = CatalogueBucket.empty(FileType.KEYS, 0xab);
        byte[] n1 = HexFormat.of().parseHex("ab" + "00".repeat(31));
        byte[] n2 = HexFormat.of().parseHex("ab" + "ff".repeat(31));
        assertTrue(b.add(n2, 2));
        assertTrue(b.add(n1, 1));
        assertFalse(b.add(n1, 1));
        byte[] encoded = b.encode();
        assertArrayEquals(n1, CatalogueBucket.decode(FileType.KEYS, 0xab, encoded).entries().get(0).name());
        assertThrows(IntegrityException.class, () -> CatalogueBucket.decode(FileType.KEYS, 0xac, encoded));
        assertThrows(IntegrityException.class, () -> CatalogueBucket.decode(FileType.LOCKS, 0xab, encoded));
        byte[] truncated = java.util.Arrays.copyOf(encoded, encoded.length - 1);
        assertThrows(IntegrityException.class, () -> CatalogueBucket.decode(FileType.KEYS, 0xab, truncated));
        byte[] swapped = encoded.clone();
        System.arraycopy(encoded, 16 + 40, swapped, 16, 40);
        System.arraycopy(encoded, 16, swapped, 16 + 40, 40);
        assertThrows(IntegrityException.class, () -> CatalogueBucket.decode(FileType.KEYS, 0xab, swapped));
        assertTrue(b.remove(n1));
        assertFalse(b.remove(n1));
        assertEquals(-1, b.sizeOf(n1));
        assertEquals(2, b.sizeOf(n2));
    }

    @Test
    void names() {
        assertThrows(ResticException.class, () -> FileName.of(FileType.DATA, HELLO.toUpperCase()));
        assertThrows(ResticException.class, () -> FileName.of(FileType.DATA, "config"));
        assertThrows(ResticException.class, () -> FileName.of(FileType.CONFIG, HELLO));
        assertEquals(FileName.CONFIG_FILE, FileName.of(FileType.CONFIG, "config"));
        assertEquals("data/" + HELLO, FileName.of(FileType.DATA, HELLO).path());
    }

    @Test
    void ranges() {
        assertEquals(new ByteRange(0, 10, false), ByteRange.parse(null, 10));
        assertEquals(new ByteRange(2, 3, true), ByteRange.parse("bytes=2-4", 10));
        assertEquals(new ByteRange(2, 8, true), ByteRange.parse("bytes=2-", 10));
        assertEquals(new ByteRange(7, 3, true), ByteRange.parse("bytes=-3", 10));
        assertEquals(new ByteRange(0, 10, true), ByteRange.parse("bytes=-30", 10));
        assertEquals(new ByteRange(9, 1, true), ByteRange.parse("bytes=9-100", 10));
        assertEquals(new ByteRange(0, 10, false), ByteRange.parse("bytes=0-1, 3-4", 10));
        assertEquals(new ByteRange(0, 0, false), ByteRange.parse("bytes=0-", 0));
        for (String bad : new String[] {"bytes=10-", "bytes=4-2", "bytes=a-b", "bytes=-0", "bits=0-1", "bytes=", "bytes=1",
                "bytes=99999999999999999999-"}) {
            assertThrows(ResticException.class, () -> ByteRange.parse(bad, 10), bad);
        }
        assertEquals("bytes 2-4/10", ByteRange.parse("bytes=2-4", 10).contentRange(10));
    }
}
