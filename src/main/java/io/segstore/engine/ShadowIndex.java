package io.segstore.engine;

import io.segstore.engine.format.HintsFile;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Borg's shadow index: for an id that was deleted or overwritten, the segments that still hold an
 * older PUT of it. Compaction must keep a DELETE while such a PUT survives elsewhere, or the
 * deleted object would come back when the index is rebuilt. An empty list is meaningful ("no
 * older PUT for sure"), different from no entry ("unknown").
 *
 * <p>Held in a {@link KeyIndex} (40 bytes an id): almost every list has one segment, stored
 * directly as the value; the rare longer lists live in a side map.
 */
final class ShadowIndex {

    /** Segment numbers are below 2^32 - 2; these two values can never be one. */
    private static final long EMPTY_LIST = 0xFFFF_FFFE_0000_0000L;
    private static final long MANY = 0xFFFF_FFFD_0000_0000L;

    private final KeyIndex ids;
    private final Map<Key, long[]> many = new HashMap<>();

    private record Key(long k0, long k1, long k2, long k3) {
    }

    ShadowIndex(long seed, int shardBits) {
        this(seed, shardBits, KeyIndex.Sizing.COMPACT);
    }

    ShadowIndex(long seed, int shardBits, KeyIndex.Sizing sizing) {
        this.ids = new KeyIndex(seed, shardBits, sizing);
    }

    private ShadowIndex(KeyIndex ids) {
        this.ids = ids;
    }

    /** Records that an older PUT of the id survives in {@code segment}. */
    void add(long k0, long k1, long k2, long k3, long segment) {
        long v = ids.get(k0, k1, k2, k3);
        if (v == KeyIndex.ABSENT || v == EMPTY_LIST) {
            ids.put(k0, k1, k2, k3, segment);
        } else if (v == MANY) {
            Key k = new Key(k0, k1, k2, k3);
            long[] list = many.get(k);
            long[] grown = Arrays.copyOf(list, list.length + 1);
            grown[list.length] = segment;
            many.put(k, grown);
        } else {
            many.put(new Key(k0, k1, k2, k3), new long[] {v, segment});
            ids.put(k0, k1, k2, k3, MANY);
        }
    }

    /** The list for the id, or null when the id has no entry. */
    long[] get(long k0, long k1, long k2, long k3) {
        long v = ids.get(k0, k1, k2, k3);
        if (v == KeyIndex.ABSENT) {
            return null;
        }
        if (v == EMPTY_LIST) {
            return new long[0];
        }
        if (v == MANY) {
            return many.get(new Key(k0, k1, k2, k3)).clone();
        }
        return new long[] {v};
    }

    /** Removes one occurrence of {@code segment} from the id's list (the list may become empty). */
    void removeSegment(long k0, long k1, long k2, long k3, long segment) {
        long v = ids.get(k0, k1, k2, k3);
        if (v == KeyIndex.ABSENT || v == EMPTY_LIST) {
            return;
        }
        if (v == MANY) {
            Key k = new Key(k0, k1, k2, k3);
            long[] list = many.get(k);
            int at = -1;
            for (int i = 0; i < list.length; i++) {
                if (list[i] == segment) {
                    at = i;
                    break;
                }
            }
            if (at < 0) {
                return;
            }
            long[] shrunk = new long[list.length - 1];
            System.arraycopy(list, 0, shrunk, 0, at);
            System.arraycopy(list, at + 1, shrunk, at, list.length - at - 1);
            if (shrunk.length == 1) {
                many.remove(k);
                ids.put(k0, k1, k2, k3, shrunk[0]);
            } else {
                many.put(k, shrunk);
            }
        } else if (v == segment) {
            ids.put(k0, k1, k2, k3, EMPTY_LIST);
        }
    }

    /** Drops the id's entry altogether. */
    void removeKey(long k0, long k1, long k2, long k3) {
        if (ids.remove(k0, k1, k2, k3) == MANY) {
            many.remove(new Key(k0, k1, k2, k3));
        }
    }

    long size() {
        return ids.size();
    }

    /** Adds every list of {@code delta} (a transaction's additions) to this index. */
    void merge(ShadowIndex delta) {
        delta.ids.forEachAfter(null, (k0, k1, k2, k3, v) -> {
            if (v == MANY) {
                for (long s : delta.many.get(new Key(k0, k1, k2, k3))) {
                    add(k0, k1, k2, k3, s);
                }
            } else if (v != EMPTY_LIST) {
                add(k0, k1, k2, k3, v);
            } else if (ids.get(k0, k1, k2, k3) == KeyIndex.ABSENT) {
                ids.put(k0, k1, k2, k3, EMPTY_LIST);
            }
            return true;
        });
    }

    /** Loads one entry read from a hints file. */
    void load(byte[] id, long[] segments) {
        long k0 = KeyIndex.word(id, 0);
        long k1 = KeyIndex.word(id, 1);
        long k2 = KeyIndex.word(id, 2);
        long k3 = KeyIndex.word(id, 3);
        if (segments.length == 0) {
            ids.put(k0, k1, k2, k3, EMPTY_LIST);
        } else {
            for (long s : segments) {
                add(k0, k1, k2, k3, s);
            }
        }
    }

    /** A frozen copy for writing hints while the live index goes on changing. */
    ShadowIndex snapshot() {
        ShadowIndex copy = new ShadowIndex(ids.copy());
        copy.many.putAll(many);
        return copy;
    }

    /** The shadow index as the hints file writer wants it. */
    HintsFile.ShadowSource asSource() {
        return new HintsFile.ShadowSource() {
            @Override
            public int size() {
                return (int) ids.size();
            }

            @Override
            public void forEach(HintsFile.ShadowEntryConsumer consumer) throws IOException {
                IOException[] failure = new IOException[1];
                ids.forEachAfter(null, (k0, k1, k2, k3, v) -> {
                    long[] list = v == EMPTY_LIST ? new long[0] : v == MANY ? many.get(new Key(k0, k1, k2, k3)) : new long[] {v};
                    try {
                        consumer.accept(KeyIndex.keyBytes(k0, k1, k2, k3), list);
                        return true;
                    } catch (IOException e) {
                        failure[0] = e;
                        return false;
                    }
                });
                if (failure[0] != null) {
                    throw failure[0];
                }
            }
        };
    }
}
