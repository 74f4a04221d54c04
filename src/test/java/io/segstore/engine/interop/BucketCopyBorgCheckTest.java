package io.segstore.engine.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.segstore.engine.CreateOptions;
import io.segstore.engine.ObjectId;
import io.segstore.engine.OpenOptions;
import io.segstore.engine.ProgressListener;
import io.segstore.engine.Repository;
import io.segstore.engine.Transaction;
import io.segstore.tier.ObjectStores;
import io.segstore.tier.S3Properties;
import io.segstore.tier.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A repository written to a bucket is a Borg repository: its prefix copied to a directory passes
 * `borg check --repository-only` (the real Borg 1.2) and opens in Segstore as a local repository.
 */
class BucketCopyBorgCheckTest {

    @TempDir
    Path tmp;

    static ObjectId id(int i) throws Exception {
        return ObjectId.of(MessageDigest.getInstance("SHA-256").digest(("object " + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }

    static byte[] data(int i) {
        byte[] b = new byte[5000 + i * 37];
        new java.util.Random(i).nextBytes(b);
        return b;
    }

    @Test
    void theBucketPrefixCopiedToADirectoryPassesBorgCheckAndOpensInSegstore() throws Exception {
        Borg.requireInstalled();
        try (S3TestServer server = S3TestServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            server.createBucket("borg");
            S3Properties p = new S3Properties(Map.of("main", new S3Properties.Store(server.endpoint(), S3TestServer.REGION, "borg",
                    "tenants/a", S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY, true, Duration.ofSeconds(5), 3)),
                    8L << 20, 64 * 1024, 4, Duration.ofSeconds(1), Duration.ofSeconds(30), null, null);
            try (ObjectStores stores = new ObjectStores(p, tmp.resolve("instance"))) {
                Path volume = Files.createDirectories(tmp.resolve("volume"));
                OpenOptions options = OpenOptions.defaults().withBackgroundCheckpoints(false).withHostId("segstore-test")
                        .withTier(stores.tier("main", "repo"));
                try (Repository repo = Repository.create(volume.resolve("repo"), CreateOptions.defaults().withMaxSegmentSize(60_000), options)) {
                    for (int t = 0; t < 4; t++) {
                        try (Transaction txn = repo.begin()) {
                            for (int i = t * 10; i < t * 10 + 10; i++) {
                                txn.put(id(i), data(i));
                            }
                            if (t > 0) {
                                txn.delete(id(t * 10 - 1));
                            }
                            txn.commit();
                        }
                    }
                    repo.compact(0.0, ProgressListener.NONE);
                }
                assertTrue(stores.metrics().deletes() > 0, "compaction removed replaced segment objects after its commit");
            }
            Path copy = tmp.resolve("copy");
            int copied = 0;
            try (S3Client c = server.client()) {
                for (S3Object o : c.listObjectsV2Paginator(b -> b.bucket("borg").prefix("tenants/a/repo/")).contents()) {
                    Path target = copy.resolve(o.key().substring("tenants/a/repo/".length()));
                    Files.createDirectories(target.getParent());
                    c.getObject(b -> b.bucket("borg").key(o.key()), target);
                    copied++;
                }
            }
            assertTrue(copied > 5, "objects under the prefix: " + copied);
            new Borg(tmp).checkRepositoryOnly(copy);
            try (Repository local = Repository.open(copy, OpenOptions.defaults().withBackgroundCheckpoints(false).withHostId("segstore-test"))) {
                assertEquals(37, local.objectCount());
                assertArrayEquals(data(35), local.get(id(35)));
            }
        }
    }
}
