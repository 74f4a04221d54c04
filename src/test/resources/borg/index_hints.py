"""Reads the newest index.T, hints.T and integrity.T exactly as Borg does, with no fallback.

usage: index_hints.py PATH [--borg-compact]

Borg normally discards an index or hints file it cannot verify and rebuilds it from the
segments, logging only a warning. Here open_index(T, auto_recover=False) and
IntegrityCheckedFile are called directly, so a byte-format error raises instead. Then every
index entry is looked up by probing (index[key]) and read back from its segment as a PUT of that
id, and the live entries per segment are counted for comparison with hints' "segments".

With --borg-compact Borg then compacts with the engine's hints (as `borg compact --threshold 0`
would: manifest re-put, commit(compact=True)); Borg asserts the hints' reference counts there.
"""
import argparse
import os

import borgtest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('path')
    parser.add_argument('--borg-compact', action='store_true')
    args = parser.parse_args()
    warnings = borgtest.start()
    from borg.helpers import msgpack
    from borg.crypto.file_integrity import IntegrityCheckedFile
    from borg.repository import Repository

    result = {}
    with Repository(args.path, exclusive=True, lock_wait=1) as repo:
        tid = repo.get_index_transaction_id()
        result['index_transaction'] = tid
        result['segments_transaction'] = repo.io.get_segments_transaction_id()

        with open(os.path.join(args.path, 'integrity.%d' % tid), 'rb') as fd:
            integrity = msgpack.unpack(fd)
        result['integrity_version'] = integrity.get(b'version')
        result['integrity_keys'] = sorted(k.decode() for k in integrity)
        index_integrity = repo._read_integrity(tid, b'index')
        hints_integrity = repo._read_integrity(tid, b'hints')
        result['integrity_data'] = {'index': index_integrity, 'hints': hints_integrity}

        index = repo.open_index(tid, auto_recover=False)
        result['len'] = len(index)
        result['num_buckets'] = (index.size() - 18) // 40
        live = {}
        verified = 0
        for key, value in index.iteritems():
            segment, offset = value
            assert index[key] == (segment, offset), 'probing does not find %s' % key.hex()
            repo.io.read(segment, offset, key, read_data=False)  # raises unless a PUT of this id is there
            live[segment] = live.get(segment, 0) + 1
            verified += 1
        result['entries_verified'] = verified
        result['live_per_segment'] = {str(s): n for s, n in sorted(live.items())}

        with IntegrityCheckedFile(os.path.join(args.path, 'hints.%d' % tid), write=False,
                                  integrity_data=hints_integrity) as fd:
            hints = msgpack.unpack(fd)
        result['hints_version'] = hints[b'version']
        result['hints_keys'] = sorted(k.decode() for k in hints)
        result['hints_segments'] = {str(s): n for s, n in sorted(hints[b'segments'].items())}
        result['hints_compact'] = {str(s): n for s, n in sorted(hints[b'compact'].items())}
        result['hints_storage_quota_use'] = hints.get(b'storage_quota_use')
        result['hints_shadow_index'] = {borgtest.hexid(k): list(v) for k, v in hints.get(b'shadow_index', {}).items()}

        if args.borg_compact:
            before = [s for s, _ in repo.io.segment_iterator()]
            manifest = repo.get(bytes(32))
            repo.put(bytes(32), manifest)
            repo.commit(compact=True, threshold=0.0)
            result['segments_before_compact'] = before
            result['segments_after_compact'] = [s for s, _ in repo.io.segment_iterator()]
            result['check'] = repo.check()
    result['warnings'] = warnings.messages
    borgtest.done(result)


if __name__ == '__main__':
    main()
