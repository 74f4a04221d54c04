package io.segstore.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command lines borg 1.2 and bin/borg-rsh produce, and the repository names Borg paths map to. */
class ServeOptionsTest {

    @Test
    void borgsOwnServeCommandLines() throws Exception {
        ServeOptions o = ServeOptions.parse(new String[] {"--host", "segstore", "--", "borg", "serve", "--info"});
        assertEquals(BorgLog.Level.INFO, o.logLevel);
        assertEquals("segstore", o.host);

        o = ServeOptions.parse(new String[] {"--", "borg", "serve", "--debug", "--debug-topic=borg.debug.repository",
                "--storage-quota=5000000000"});
        assertEquals(BorgLog.Level.DEBUG, o.logLevel);
        assertEquals(5_000_000_000L, o.storageQuota);
        assertEquals(List.of("borg.debug.repository"), o.debugTopics);

        // BORG_REMOTE_PATH="borg --umask 077", common options after serve, a bare start by ssh
        o = ServeOptions.parse(new String[] {"--", "/usr/bin/borg", "--umask", "077", "serve", "--error", "--lock-wait", "5"});
        assertEquals(BorgLog.Level.ERROR, o.logLevel);
        o = ServeOptions.parse(new String[] {"serve", "--critical"});
        assertEquals(BorgLog.Level.CRITICAL, o.logLevel);
        assertEquals(BorgLog.Level.WARNING, ServeOptions.parse(new String[0]).logLevel);
    }

    @Test
    void forcedOptionsBeforeTheDashesCannotBeWidenedByTheClient() throws Exception {
        ServeOptions o = ServeOptions.parse(new String[] {"--append-only", "--restrict-to-repository", "/mine", "--storage-quota", "10G",
                "--", "borg", "serve", "--restrict-to-path", "/", "--storage-quota=1"});
        assertTrue(o.appendOnly);
        assertEquals(List.of("/mine"), o.restrictToRepositories);
        assertTrue(o.restrictToPaths.isEmpty(), "the client's own restriction is ignored when the server forces one");
        assertEquals(10_000_000_000L, o.storageQuota);
    }

    @Test
    void unknownOptionsAreRefusedAsBorgServeRefusesThem() {
        ServeOptions.UsageException e = assertThrows(ServeOptions.UsageException.class,
                () -> ServeOptions.parse(new String[] {"--", "borg", "serve", "--frobnicate"}));
        assertTrue(e.getMessage().contains("unrecognized arguments: --frobnicate"), e.getMessage());
        assertThrows(ServeOptions.UsageException.class, () -> ServeOptions.parse(new String[] {"--", "borg", "list"}));
        assertThrows(ServeOptions.UsageException.class, () -> ServeOptions.parse(new String[] {"--", "borg", "serve", "--umask", "99"}));
    }

    @Test
    void serviceUrlComesFromTheEnvironmentOrTheHost() throws Exception {
        ServeOptions o = ServeOptions.parse(new String[] {"--host", "backup@segstore.example", "--port", "9000", "--", "borg", "serve"});
        assertEquals("http://segstore.example:9000", o.serviceUrl(Map.of()));
        assertEquals("https://s.example", o.serviceUrl(Map.of("SEGSTORE_URL", "https://s.example")));
        assertNull(ServeOptions.parse(new String[0]).serviceUrl(Map.of()));
    }

    @Test
    void borgPathsNameRepositories() {
        assertEquals("myrepo", RepositoryPath.name("/myrepo"));
        assertEquals("myrepo", RepositoryPath.name("myrepo/"));
        assertEquals("myrepo", RepositoryPath.name("/~/myrepo"));
        assertEquals("myrepo", RepositoryPath.name("/./myrepo"));
        assertNull(RepositoryPath.name("/a/b"));
        assertNull(RepositoryPath.name("/"));
        assertNull(RepositoryPath.name("/../x"));
    }

    @Test
    void restrictionsFollowBorgServe() {
        assertTrue(RepositoryPath.allowed("r", List.of(), List.of()));
        assertTrue(RepositoryPath.allowed("r", List.of("/"), List.of()));
        assertTrue(RepositoryPath.allowed("r", List.of("/r"), List.of()));
        assertFalse(RepositoryPath.allowed("repo2", List.of("/repo"), List.of()), "a path prefix must end at a slash");
        assertTrue(RepositoryPath.allowed("r", List.of(), List.of("/r/")));
        assertFalse(RepositoryPath.allowed("r", List.of(), List.of("/")), "restrict-to-repository names the repository itself");
    }

    @Test
    void fileSizesAsBorgFormatsAndParsesThem() {
        assertEquals("0 B", BorgError.FileSizes.format(0));
        assertEquals("999 B", BorgError.FileSizes.format(999));
        assertEquals("1.00 kB", BorgError.FileSizes.format(1000));
        assertEquals("10.00 MB", BorgError.FileSizes.format(10_000_000));
        assertEquals("12.00 MB", BorgError.FileSizes.format(12_000_942));
        assertEquals("1.50 GB", BorgError.FileSizes.format(1_500_000_000));
        assertEquals(1_700_000_000_000L, BorgError.FileSizes.parse("1.7T"));
        assertEquals(1234, BorgError.FileSizes.parse("1234"));
    }
}
