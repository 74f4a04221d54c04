package io.segstore.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RepositoryConfigTest {

    private static final String BORG_WITH_KEY = """
            [repository]
            version = 1
            segments_per_dir = 1000
            max_segment_size = 524288000
            append_only = 0
            storage_quota = 0
            additional_free_space = 0
            id = d3d8c385ec755bd2f967909d0c782015de71c210bc2624d164c3c4225d314e21
            key = hqlhbGdvcml0aG2mc2hhMjU2
            \tIikOgtdPnQCdmPXssAhRJzYL5y
            \tIy9MR4LsoqtpwN3o2bHpxWA4Qt

            """;

    @Test
    void borgsConfigWithAMultiLineKeyReadsAndWritesBackUnchanged() throws Exception {
        RepositoryConfig c = RepositoryConfig.parse(BORG_WITH_KEY);
        assertEquals("hqlhbGdvcml0aG2mc2hhMjU2\nIikOgtdPnQCdmPXssAhRJzYL5y\nIy9MR4LsoqtpwN3o2bHpxWA4Qt", c.key());
        assertEquals(BORG_WITH_KEY, c.format());
        assertEquals(32, c.id().length);
    }

    @Test
    void unknownSectionsAndOptionsSurvive() throws Exception {
        RepositoryConfig c = RepositoryConfig.parse(BORG_WITH_KEY + "[segstore]\nindex_seed = 1f\nverify = sha256\n\n");
        c.set(RepositoryConfig.REPOSITORY, "append_only", "1");
        RepositoryConfig again = RepositoryConfig.parse(c.format());
        assertEquals("sha256", again.get(RepositoryConfig.SEGSTORE, "verify"));
        assertTrue(again.appendOnly());
    }

    @Test
    void sizesTakeBorgsDecimalSuffixes() throws Exception {
        assertEquals(10_000_000_000L, RepositoryConfig.parseSize("10G", "x"));
        assertEquals(1_500_000L, RepositoryConfig.parseSize("1.5M", "x"));
        assertEquals(2_000_000_000_000L, RepositoryConfig.parseSize("2T", "x"));
        assertEquals(42, RepositoryConfig.parseSize(" 42 ", "x"));
        for (String bad : new String[] {"", "G", "10Gi", "1e", "0x10", "10f", "ten"}) {
            assertThrows(FormatException.class, () -> RepositoryConfig.parseSize(bad, "x"), bad);
        }
    }

    @Test
    void booleansFollowPythonsConfigParser() throws Exception {
        for (String yes : new String[] {"1", "yes", "True", "on"}) {
            assertTrue(RepositoryConfig.parse(BORG_WITH_KEY.replace("append_only = 0", "append_only = " + yes)).appendOnly(), yes);
        }
        for (String no : new String[] {"0", "no", "False", "OFF"}) {
            assertFalse(RepositoryConfig.parse(BORG_WITH_KEY.replace("append_only = 0", "append_only = " + no)).appendOnly(), no);
        }
        assertThrows(FormatException.class,
                () -> RepositoryConfig.parse(BORG_WITH_KEY.replace("append_only = 0", "append_only = maybe")).appendOnly());
    }

    @Test
    void missingRequiredOptionsAreFormatErrors() throws Exception {
        RepositoryConfig c = RepositoryConfig.parse("[repository]\nversion = 1\n");
        assertThrows(FormatException.class, c::segmentsPerDir);
        assertThrows(FormatException.class, c::id);
        assertEquals(0, c.storageQuota());
        assertEquals(-1, c.lastSegmentChecked());
    }
}
