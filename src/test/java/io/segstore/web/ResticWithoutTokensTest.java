package io.segstore.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.restic.Restic;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without configured tokens (loopback only) restic needs no credentials: the shared service of the API tests. */
class ResticWithoutTokensTest extends ServiceTestBase {

    @Test
    void resticWithoutCredentials(@TempDir Path work) throws Exception {
        Restic.requireInstalled();
        Path tree = Files.createDirectories(work.resolve("tree"));
        Files.writeString(tree.resolve("hello.txt"), "hello, restic\n", StandardCharsets.UTF_8);
        String repo = repoName();
        Restic restic = new Restic(work, port, repo, null);
        restic.ok("init");
        restic.ok("backup", tree.toString());
        Restic.Result snapshots = restic.ok("snapshots", "--json");
        assertEquals(1, ApiClient.JSON.readTree(snapshots.stdout()).size());
        assertEquals(200, api.get("/restic/" + repo + "/snapshots/").status());
        assertTrue(api.get("/repos/" + repo).json().get("objects").asLong() > 0, "restic's files are objects of the repository");
    }
}
