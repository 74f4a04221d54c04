package io.segstore.bridge;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Borg 1.2's RPC framing: a stream of msgpack values in each direction.
 *
 * <p>Requests are maps {@code {i: msgid, m: method, a: {name: value}}} (clients since 1.1) or,
 * from 1.0 clients, arrays {@code [1, msgid, method, [positional args]]}. Answers are
 * {@code {i: msgid, r: result}} or, for an error, {@code {i, exception_class, exception_args,
 * exception_full, exception_short, exception_trace, sysinfo}}; 1.0 clients get
 * {@code [1, msgid, error-or-nil, result]}.
 *
 * <p>Borg packs with {@code use_bin_type=False} and its client unpacker refuses msgpack bin
 * values, so every byte string here goes out as msgpack str (raw); incoming str and bin both
 * become {@code byte[]}.
 *
 * <p>The msgpack subset Borg uses is small, so it is encoded and decoded here rather than with
 * msgpack-core: the bridge starts once per borg command, and opening a library jar inside the
 * Spring Boot jar costs a noticeable part of a second.
 */
final class RpcCodec {

    /** Keys of Borg's dict-format messages. */
    static final String MSGID = "i";
    static final String METHOD = "m";
    static final String ARGS = "a";
    static final String RESULT = "r";

    /** Larger than any Borg object (MAX_OBJECT_SIZE is about 20 MiB) and its framing. */
    private static final int MAX_RAW = 64 * 1024 * 1024;
    private static final int MAX_ITEMS = 100_000;
    /** Results at least this long are written straight from their array after a packed prefix. */
    private static final int DIRECT_WRITE = 64 * 1024;

    /** Positional argument names of 1.0 clients (their array-format calls), per method. */
    private static final Map<String, List<String>> POSITIONAL = Map.ofEntries(
            Map.entry("check", List.of("repair", "save_space")),
            Map.entry("commit", List.of("save_space")),
            Map.entry("rollback", List.of()),
            Map.entry("destroy", List.of()),
            Map.entry("__len__", List.of()),
            Map.entry("list", List.of("limit", "marker")),
            Map.entry("put", List.of("id", "data")),
            Map.entry("get", List.of("id")),
            Map.entry("delete", List.of("id")),
            Map.entry("save_key", List.of("keydata")),
            Map.entry("load_key", List.of()),
            Map.entry("break_lock", List.of()),
            Map.entry("negotiate", List.of("client_data")),
            Map.entry("open", List.of("path", "create", "lock_wait", "lock", "exclusive", "append_only")),
            Map.entry("get_free_nonce", List.of()),
            Map.entry("commit_nonce_reservation", List.of("next_unreserved", "start_nonce")));

    /** One call from the client. {@code dictFormat} is false for a 1.0 client's array-format call. */
    record Request(Object msgid, String method, Map<String, Object> args, boolean dictFormat) {
        byte[] bytes(String name) {
            Object v = args.get(name);
            if (v == null) {
                return null;
            }
            if (v instanceof byte[] b) {
                return b;
            }
            throw new ProtocolException("argument " + name + " of " + method + " is not a byte string");
        }

        String text(String name) {
            byte[] b = bytes(name);
            return b == null ? null : new String(b, StandardCharsets.UTF_8);
        }

        boolean flag(String name, boolean fallback) {
            Object v = args.get(name);
            if (v == null) {
                return fallback;
            }
            if (v instanceof Boolean b) {
                return b;
            }
            if (v instanceof Number n) {
                return n.longValue() != 0;
            }
            throw new ProtocolException("argument " + name + " of " + method + " is not a boolean");
        }

        /** A number argument (int or float), or null when absent or None. */
        Double number(String name) {
            Object v = args.get(name);
            if (v == null) {
                return null;
            }
            if (v instanceof Number n) {
                return n.doubleValue();
            }
            throw new ProtocolException("argument " + name + " of " + method + " is not a number");
        }

        /** An integer argument, or null when absent or None. */
        BigInteger integer(String name) {
            Object v = args.get(name);
            if (v == null) {
                return null;
            }
            if (v instanceof BigInteger b) {
                return b;
            }
            if (v instanceof Long l) {
                return BigInteger.valueOf(l);
            }
            throw new ProtocolException("argument " + name + " of " + method + " is not an integer");
        }
    }

    /** Data the client sent that is not Borg's RPC (borg serve's UnexpectedRPCDataFormatFromClient). */
    static final class ProtocolException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    // ---- reading ------------------------------------------------------------------------------

    /** Reads requests from the client's stream. Used by one thread. */
    static final class Reader {
        private final DataInputStream in;

        Reader(InputStream stream) {
            this.in = new DataInputStream(stream);
        }

        /** The next request, or null when the client closed the stream (between requests). */
        Request next() throws IOException {
            int first = in.read();
            if (first < 0) {
                return null;
            }
            Object v = value(first, 0);
            if (v instanceof Map<?, ?> m) {
                Object method = m.get(METHOD);
                Object args = m.get(ARGS);
                if (!m.containsKey(MSGID) || !(method instanceof byte[]) || !(args instanceof Map)) {
                    throw new ProtocolException("a request map without i, m and a");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> named = (Map<String, Object>) args;
                return new Request(m.get(MSGID), text(method), named, true);
            }
            if (v instanceof List<?> l && l.size() == 4 && l.get(2) instanceof byte[] method && l.get(3) instanceof List<?> positional) {
                String name = text(method);
                List<String> names = POSITIONAL.getOrDefault(name, List.of());
                Map<String, Object> named = new LinkedHashMap<>();
                for (int i = 0; i < positional.size() && i < names.size(); i++) {
                    named.put(names.get(i), positional.get(i));
                }
                return new Request(l.get(1), name, named, false);
            }
            throw new ProtocolException("not a Borg RPC request");
        }

        private static String text(Object raw) {
            return new String((byte[]) raw, StandardCharsets.UTF_8);
        }

        private Object value(int depth) throws IOException {
            return value(in.readUnsignedByte(), depth);
        }

        private Object value(int b, int depth) throws IOException {
            if (depth > 16) {
                throw new ProtocolException("msgpack nested too deeply");
            }
            if (b <= 0x7f) {
                return (long) b;
            }
            if (b >= 0xe0) {
                return (long) (byte) b;
            }
            if (b <= 0x8f) {
                return map(b & 0x0f, depth);
            }
            if (b <= 0x9f) {
                return array(b & 0x0f, depth);
            }
            if (b <= 0xbf) {
                return raw(b & 0x1f);
            }
            switch (b) {
                case 0xc0:
                    return null;
                case 0xc2:
                    return Boolean.FALSE;
                case 0xc3:
                    return Boolean.TRUE;
                case 0xc4:
                case 0xd9:
                    return raw(in.readUnsignedByte());
                case 0xc5:
                case 0xda:
                    return raw(in.readUnsignedShort());
                case 0xc6:
                case 0xdb:
                    return raw(length(in.readInt()));
                case 0xca:
                    return (double) in.readFloat();
                case 0xcb:
                    return in.readDouble();
                case 0xcc:
                    return (long) in.readUnsignedByte();
                case 0xcd:
                    return (long) in.readUnsignedShort();
                case 0xce:
                    return in.readInt() & 0xffffffffL;
                case 0xcf: {
                    long v = in.readLong();
                    return v >= 0 ? (Object) v : new BigInteger(Long.toUnsignedString(v));
                }
                case 0xd0:
                    return (long) in.readByte();
                case 0xd1:
                    return (long) in.readShort();
                case 0xd2:
                    return (long) in.readInt();
                case 0xd3:
                    return in.readLong();
                case 0xdc:
                    return array(in.readUnsignedShort(), depth);
                case 0xdd:
                    return array(length(in.readInt()), depth);
                case 0xde:
                    return map(in.readUnsignedShort(), depth);
                case 0xdf:
                    return map(length(in.readInt()), depth);
                case 0xd4:
                    return skip(1 + 1);
                case 0xd5:
                    return skip(1 + 2);
                case 0xd6:
                    return skip(1 + 4);
                case 0xd7:
                    return skip(1 + 8);
                case 0xd8:
                    return skip(1 + 16);
                case 0xc7:
                    return skip(in.readUnsignedByte() + 1);
                case 0xc8:
                    return skip(in.readUnsignedShort() + 1);
                case 0xc9:
                    return skip(length(in.readInt()) + 1);
                default:
                    throw new ProtocolException("not msgpack (byte 0x" + Integer.toHexString(b) + ")");
            }
        }

        private static int length(int n) {
            if (n < 0 || n > MAX_RAW) {
                throw new ProtocolException("msgpack length " + Integer.toUnsignedString(n));
            }
            return n;
        }

        private byte[] raw(int n) throws IOException {
            byte[] b = new byte[length(n)];
            in.readFully(b);
            return b;
        }

        /** Extension types mean nothing to Borg's RPC: read past them. */
        private Object skip(int n) throws IOException {
            in.skipNBytes(length(n));
            return null;
        }

        private List<Object> array(int n, int depth) throws IOException {
            if (n > MAX_ITEMS) {
                throw new ProtocolException("msgpack array of " + n + " items");
            }
            List<Object> l = new ArrayList<>(Math.min(n, 1024));
            for (int i = 0; i < n; i++) {
                l.add(value(depth + 1));
            }
            return l;
        }

        private Map<String, Object> map(int n, int depth) throws IOException {
            if (n > MAX_ITEMS) {
                throw new ProtocolException("msgpack map of " + n + " items");
            }
            Map<String, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                Object k = value(depth + 1);
                String key = k instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(k);
                m.put(key, value(depth + 1));
            }
            return m;
        }
    }

    // ---- writing ------------------------------------------------------------------------------

    /** Writes answers to the client; safe for many threads (each answer is written whole). */
    static final class Writer {
        private final OutputStream out;
        private final String sysinfo;

        Writer(OutputStream out, String sysinfo) {
            this.out = out;
            this.sysinfo = sysinfo;
        }

        void result(Request r, Object result) throws IOException {
            Packer p = new Packer();
            byte[] direct = null;
            if (r.dictFormat()) {
                p.mapHeader(2);
                p.pack(MSGID);
                p.pack(r.msgid());
                p.pack(RESULT);
            } else {
                p.arrayHeader(4);
                p.pack(1L);
                p.pack(r.msgid());
                p.pack(null);
            }
            if (result instanceof byte[] b && b.length >= DIRECT_WRITE) {
                p.rawHeader(b.length);
                direct = b;
            } else {
                p.pack(result);
            }
            write(p.toByteArray(), direct);
        }

        void error(Request r, BorgError e) throws IOException {
            Packer p = new Packer();
            if (r.dictFormat()) {
                p.mapHeader(7);
                p.pack(MSGID);
                p.pack(r.msgid());
                p.pack("exception_class");
                p.pack(e.className());
                p.pack("exception_args");
                p.pack(e.args());
                p.pack("exception_full");
                p.pack(List.of(e.className() + ": " + e.getMessage()));
                p.pack("exception_short");
                p.pack(List.of(e.getMessage()));
                p.pack("exception_trace");
                p.pack(e.traceback());
                p.pack("sysinfo");
                p.pack(sysinfo);
            } else {
                p.arrayHeader(4);
                p.pack(1L);
                p.pack(r.msgid());
                p.pack(e.className());
                p.pack("Remote Exception (see remote log for the traceback)");
            }
            write(p.toByteArray(), null);
        }

        private void write(byte[] packed, byte[] direct) throws IOException {
            synchronized (out) {
                out.write(packed);
                if (direct != null) {
                    out.write(direct);
                }
                out.flush();
            }
        }
    }

    /** Packs values as Borg does (use_bin_type=False: bytes and text both as msgpack str). */
    static final class Packer {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream(64);

        byte[] toByteArray() {
            return b.toByteArray();
        }

        void pack(Object v) {
            if (v == null) {
                b.write(0xc0);
            } else if (v instanceof byte[] bytes) {
                rawHeader(bytes.length);
                b.writeBytes(bytes);
            } else if (v instanceof String s) {
                pack(s.getBytes(StandardCharsets.UTF_8));
            } else if (v instanceof Boolean bool) {
                b.write(bool ? 0xc3 : 0xc2);
            } else if (v instanceof Integer || v instanceof Long) {
                integer(((Number) v).longValue());
            } else if (v instanceof BigInteger big) {
                if (big.bitLength() < 64) {
                    integer(big.longValue());
                } else if (big.signum() > 0 && big.bitLength() == 64) {
                    b.write(0xcf);
                    be(big.longValue(), 8);
                } else {
                    throw new IllegalArgumentException("integer out of msgpack's range: " + big);
                }
            } else if (v instanceof Double || v instanceof Float) {
                b.write(0xcb);
                be(Double.doubleToLongBits(((Number) v).doubleValue()), 8);
            } else if (v instanceof List<?> l) {
                arrayHeader(l.size());
                for (Object o : l) {
                    pack(o);
                }
            } else if (v instanceof Map<?, ?> m) {
                mapHeader(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    pack(e.getKey());
                    pack(e.getValue());
                }
            } else {
                throw new IllegalArgumentException("cannot send a " + v.getClass().getName() + " to borg");
            }
        }

        void integer(long v) {
            if (v >= 0) {
                if (v <= 0x7f) {
                    b.write((int) v);
                } else if (v <= 0xff) {
                    b.write(0xcc);
                    be(v, 1);
                } else if (v <= 0xffff) {
                    b.write(0xcd);
                    be(v, 2);
                } else if (v <= 0xffffffffL) {
                    b.write(0xce);
                    be(v, 4);
                } else {
                    b.write(0xcf);
                    be(v, 8);
                }
            } else if (v >= -32) {
                b.write((int) (v & 0xff));
            } else if (v >= Byte.MIN_VALUE) {
                b.write(0xd0);
                be(v, 1);
            } else if (v >= Short.MIN_VALUE) {
                b.write(0xd1);
                be(v, 2);
            } else if (v >= Integer.MIN_VALUE) {
                b.write(0xd2);
                be(v, 4);
            } else {
                b.write(0xd3);
                be(v, 8);
            }
        }

        /** A str header: fixstr, str16 or str32, as Borg's msgpack writes them (no str8 with use_bin_type=False). */
        void rawHeader(int n) {
            if (n <= 0x1f) {
                b.write(0xa0 | n);
            } else if (n <= 0xffff) {
                b.write(0xda);
                be(n, 2);
            } else {
                b.write(0xdb);
                be(n, 4);
            }
        }

        void arrayHeader(int n) {
            if (n <= 0x0f) {
                b.write(0x90 | n);
            } else if (n <= 0xffff) {
                b.write(0xdc);
                be(n, 2);
            } else {
                b.write(0xdd);
                be(n, 4);
            }
        }

        void mapHeader(int n) {
            if (n <= 0x0f) {
                b.write(0x80 | n);
            } else if (n <= 0xffff) {
                b.write(0xde);
                be(n, 2);
            } else {
                b.write(0xdf);
                be(n, 4);
            }
        }

        private void be(long v, int bytes) {
            for (int i = bytes - 1; i >= 0; i--) {
                b.write((int) (v >>> (8 * i)) & 0xff);
            }
        }
    }
}
