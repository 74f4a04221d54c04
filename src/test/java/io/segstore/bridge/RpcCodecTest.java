package io.segstore.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Borg's RPC framing, byte for byte as Borg 1.2's msgpack (use_bin_type=False) writes and reads it. */
class RpcCodecTest {

    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h.replace(" ", ""));
    }

    @Test
    void readsADictFormatRequestAsBorgPacksIt() throws IOException {
        // msgpack.packb({b'i': 1, b'm': 'put', b'a': {'id': b'\x01' * 32, 'data': b'xyz', 'wait': False}}, use_bin_type=False)
        byte[] wire = hex("83 a1 69 01 a1 6d a3 707574 a1 61 83 a2 6964 da0020" + "01".repeat(32) + " a4 64617461 a3 78797a a4 77616974 c2");
        RpcCodec.Request r = new RpcCodec.Reader(new ByteArrayInputStream(wire)).next();
        assertEquals(1L, r.msgid());
        assertEquals("put", r.method());
        assertArrayEquals(new byte[32], xor(r.bytes("id")));
        assertEquals("xyz", r.text("data"));
        assertEquals(false, r.flag("wait", true));
    }

    private static byte[] xor(byte[] b) {
        byte[] out = b.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] ^= 1;
        }
        return out;
    }

    @Test
    void readsALegacyArrayRequestWithPositionalArguments() throws IOException {
        // (1, 7, 'list', [10, None]) as a 1.0 client sends it
        byte[] wire = hex("94 01 07 a4 6c697374 92 0a c0");
        RpcCodec.Request r = new RpcCodec.Reader(new ByteArrayInputStream(wire)).next();
        assertEquals("list", r.method());
        assertEquals(false, r.dictFormat());
        assertEquals(10.0, r.number("limit"));
        assertNull(r.bytes("marker"));
    }

    @Test
    void readsEveryNumberForm() throws IOException {
        byte[] wire = hex("83 a1 69 cd 0400 a1 6d a1 78 a1 61 85 a1 61 ff a1 62 d1 ff00 a1 63 cf ffffffffffffffff a1 64 cb 3fb999999999999a a1 65 ca 3f800000");
        RpcCodec.Request r = new RpcCodec.Reader(new ByteArrayInputStream(wire)).next();
        assertEquals(1024L, r.msgid());
        assertEquals(-1L, r.args().get("a"));
        assertEquals(-256L, r.args().get("b"));
        assertEquals(new BigInteger("18446744073709551615"), r.integer("c"));
        assertEquals(0.1, r.number("d"));
        assertEquals(1.0, r.number("e"));
    }

    @Test
    void endOfStreamBetweenRequestsIsTheEndAndGarbageIsAnError() throws IOException {
        assertNull(new RpcCodec.Reader(new ByteArrayInputStream(new byte[0])).next());
        assertThrows(RpcCodec.ProtocolException.class, () -> new RpcCodec.Reader(new ByteArrayInputStream(hex("c1"))).next());
        assertThrows(RpcCodec.ProtocolException.class, () -> new RpcCodec.Reader(new ByteArrayInputStream(hex("a3 616263"))).next());
    }

    @Test
    void writesResultsAsStrNeverBin() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RpcCodec.Writer w = new RpcCodec.Writer(out, "info");
        RpcCodec.Request r = new RpcCodec.Request(3L, "get", Map.of(), true);
        w.result(r, new byte[] {'h', 'i'});
        assertArrayEquals(hex("82 a1 69 03 a1 72 a2 6869"), out.toByteArray());

        out.reset();
        w.result(r, new byte[40]);
        assertArrayEquals(hex("82 a1 69 03 a1 72 da 0028" + "00".repeat(40)), out.toByteArray(), "str16, as Borg writes 32..65535 bytes");

        out.reset();
        byte[] big = new byte[100_000];
        w.result(r, big);
        byte[] wire = out.toByteArray();
        assertArrayEquals(hex("82 a1 69 03 a1 72 db 000186a0"), java.util.Arrays.copyOf(wire, 11));
        assertEquals(11 + big.length, wire.length);
    }

    @Test
    void writesNegotiateAnswerAndErrorsAsBorgServeDoes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RpcCodec.Writer w = new RpcCodec.Writer(out, "sys");
        Map<String, Object> negotiate = new LinkedHashMap<>();
        negotiate.put("server_version", List.of(1L, 2L, 4L, -1L));
        w.result(new RpcCodec.Request(1L, "negotiate", Map.of(), true), negotiate);
        assertArrayEquals(hex("82 a1 69 01 a1 72 81 ae 7365727665725f76657273696f6e 94 01 02 04 ff"), out.toByteArray());

        out.reset();
        w.error(new RpcCodec.Request(2L, "get", Map.of(), false), BorgError.objectNotFound("ab", "/r"));
        // 1.0 clients: (1, msgid, exception class, fixed text)
        byte[] legacy = out.toByteArray();
        assertEquals((byte) 0x94, legacy[0]);

        out.reset();
        w.error(new RpcCodec.Request(2L, "get", Map.of(), true), BorgError.objectNotFound("ab", "/r"));
        RpcCodec.Request back = new RpcCodec.Reader(new ByteArrayInputStream(wrapAsRequest(out.toByteArray()))).next();
        @SuppressWarnings("unchecked")
        Map<String, Object> error = (Map<String, Object>) back.args().get("e");
        assertEquals("ObjectNotFound", new String((byte[]) error.get("exception_class")));
        assertEquals(List.of("ab", "/r"), ((List<?>) error.get("exception_args")).stream().map(o -> new String((byte[]) o)).toList());
        assertEquals(true, error.get("exception_trace"));
    }

    /** Wraps a packed map as the argument "e" of a request, to read it back with the request reader. */
    private static byte[] wrapAsRequest(byte[] packedMap) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(hex("83 a1 69 00 a1 6d a1 78 a1 61 81 a1 65"));
        b.writeBytes(packedMap);
        return b.toByteArray();
    }
}
