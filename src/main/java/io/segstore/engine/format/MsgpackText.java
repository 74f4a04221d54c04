package io.segstore.engine.format;

import java.nio.charset.StandardCharsets;
import org.msgpack.value.Value;

/**
 * Borg packs text and byte strings alike as msgpack str (use_bin_type=False) and reads both as
 * raw bytes; these helpers accept either str or bin, so files from any msgpack writer read.
 */
final class MsgpackText {

    private MsgpackText() {
    }

    /** The raw bytes of a str or bin value. */
    static byte[] raw(Value v) throws FormatException {
        if (v.isRawValue()) {
            return v.asRawValue().asByteArray();
        }
        throw new FormatException("expected a msgpack string, found " + v.getValueType());
    }

    static String text(Value v) throws FormatException {
        return new String(raw(v), StandardCharsets.UTF_8);
    }

    static String keyName(Value v) throws FormatException {
        return text(v);
    }
}
