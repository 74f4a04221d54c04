package io.segstore.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The lease object's bytes: what is written is read back, and what is not a lease is refused. */
class BucketLeaseContentTest {

    @Test
    void writtenLeaseReadsBackWithTheBucketsEntityTag() throws IOException {
        BucketLease.State s = new BucketLease.State("3f6c-instance", "http://pod-1.svc:8080/\"odd\"", 7, 1_790_000_000_000L, null);
        String text = new String(BucketLease.json(s), StandardCharsets.UTF_8);
        BucketLease.State back = BucketLease.parse(text, "\"etag-1\"");
        assertEquals(new BucketLease.State(s.holder(), s.url(), 7, 1_790_000_000_000L, "\"etag-1\""), back);
    }

    @Test
    void fieldsAddedByALaterVersionAreIgnored() throws IOException {
        BucketLease.State back = BucketLease.parse("{\"holder\":\"h\",\"url\":\"u\",\"epoch\":2,\"expiresAt\":5,\"zone\":\"b\"}", "e");
        assertEquals(new BucketLease.State("h", "u", 2, 5, "e"), back);
    }

    @Test
    void objectThatIsNotALeaseIsRefused() {
        assertThrows(IOException.class, () -> BucketLease.parse("{\"url\":\"u\"}", "e"));
        assertThrows(IOException.class, () -> BucketLease.parse("not json", "e"));
    }
}
