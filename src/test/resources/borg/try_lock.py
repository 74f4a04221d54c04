"""Tries to open a repository with Borg without waiting for its lock.

usage: try_lock.py PATH exclusive|shared

Prints {"acquired": bool, "error": exception class name or null, "lock_error": bool}.
"""
import argparse

import borgtest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('path')
    parser.add_argument('mode', choices=['exclusive', 'shared'])
    args = parser.parse_args()
    warnings = borgtest.start()
    from borg.locking import LockError, LockErrorT
    from borg.repository import Repository

    result = {'acquired': False, 'error': None, 'lock_error': False}
    try:
        with Repository(args.path, exclusive=args.mode == 'exclusive', lock_wait=0):
            result['acquired'] = True
    except (LockError, LockErrorT) as e:
        result['error'] = type(e).__name__
        result['lock_error'] = True
        result['message'] = str(e)
    result['warnings'] = warnings.messages
    borgtest.done(result)


if __name__ == '__main__':
    main()
