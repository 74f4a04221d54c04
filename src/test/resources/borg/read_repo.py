"""Opens a repository with Borg's Repository and reports everything it sees.

usage: read_repo.py PATH [--check]

Output: index/segment transaction ids before opening (to tell whether Borg replayed), len(),
list() ids, scan() ids, {id hex: [size, sha256 hex]} of every object read with get(), the result
of check() when asked, and the warnings Borg logged.
"""
import argparse
import hashlib

import borgtest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('path')
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    warnings = borgtest.start()
    from borg.repository import Repository

    result = {}
    with Repository(args.path, exclusive=True, lock_wait=1) as repo:
        result['index_transaction_before'] = repo.get_index_transaction_id()
        result['segments_transaction'] = repo.io.get_segments_transaction_id()
        result['len'] = len(repo)  # the first access: replays the log after index.T if it lags
        result['index_transaction_after'] = repo.get_index_transaction_id()
        ids = repo.list()
        result['list'] = [borgtest.hexid(i) for i in ids]
        objects = {}
        for i in ids:
            data = repo.get(i)
            objects[borgtest.hexid(i)] = [len(data), hashlib.sha256(data).hexdigest()]
        result['objects'] = objects
        result['scan'] = [borgtest.hexid(i) for i in repo.scan()]
        if args.check:
            result['check'] = repo.check()
    result['warnings'] = warnings.messages
    borgtest.done(result)


if __name__ == '__main__':
    main()
