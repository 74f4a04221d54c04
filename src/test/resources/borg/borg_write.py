"""Writes a repository with Borg's own Repository, for the engine to read.

usage: borg_write.py PATH SEED

Small segments (4 KiB) and 3 segments per directory, so the log spans many files and
directories. Four transactions: puts and the manifest; deletes, overwrites and new puts; a
manifest overwrite, deletes and commit(compact=True) so Borg compacts; then more puts and
deletes left uncompacted. Prints {"objects": {id hex: [size, sha256 hex]}, "transaction_id",
"segments": [segment numbers on disk], "warnings"}.
"""
import argparse
import hashlib
import os
import random

import borgtest

MANIFEST_ID = bytes(32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('path')
    parser.add_argument('seed', type=int)
    args = parser.parse_args()
    warnings = borgtest.start()
    from borg.repository import Repository

    rnd = random.Random(args.seed)
    expected = {}

    def blob(size):
        return rnd.randbytes(size)

    def put(repo, key, data):
        repo.put(key, data)
        expected[key] = data

    def delete(repo, key):
        repo.delete(key)
        del expected[key]

    with Repository(args.path, create=True, exclusive=True) as repo:
        repo.config.set('repository', 'max_segment_size', '4096')
        repo.config.set('repository', 'segments_per_dir', '3')
        repo.save_config(repo.path, repo.config)

    with Repository(args.path, exclusive=True) as repo:
        put(repo, MANIFEST_ID, blob(300))
        ids = [rnd.randbytes(32) for _ in range(60)]
        for n, key in enumerate(ids):
            put(repo, key, blob(0 if n == 50 else rnd.randrange(1, 3000)))
        repo.commit(compact=False)

        for key in ids[:15]:
            delete(repo, key)
        for key in ids[15:25]:
            put(repo, key, blob(rnd.randrange(0, 2000)))
        more = [rnd.randbytes(32) for _ in range(10)]
        for key in more:
            put(repo, key, blob(rnd.randrange(1, 5000)))
        repo.commit(compact=False)

        put(repo, MANIFEST_ID, blob(400))
        for key in ids[25:30]:
            delete(repo, key)
        repo.commit(compact=True, threshold=0.1)

        for key in ids[30:35]:
            delete(repo, key)
        for n in range(5):
            put(repo, rnd.randbytes(32), blob(rnd.randrange(100, 1500)))
        put(repo, ids[40], blob(50))
        repo.commit(compact=False)

        result = {
            'transaction_id': repo.get_transaction_id(),
            'segments': [segment for segment, _ in repo.io.segment_iterator()],
            'objects': {borgtest.hexid(k): [len(v), hashlib.sha256(v).hexdigest()] for k, v in expected.items()},
        }
    result['warnings'] = warnings.messages
    borgtest.done(result)


if __name__ == '__main__':
    main()
