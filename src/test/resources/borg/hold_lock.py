"""Holds a repository open with Borg (exclusive lock) until a line arrives on stdin.

usage: hold_lock.py PATH

Prints "locked" once Borg holds the lock, then, after the line on stdin, closes the repository
and prints the usual JSON line.
"""
import argparse
import sys

import borgtest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('path')
    args = parser.parse_args()
    warnings = borgtest.start()
    from borg.repository import Repository

    with Repository(args.path, exclusive=True, lock_wait=1) as repo:
        count = len(repo)
        sys.stdout.write('locked\n')
        sys.stdout.flush()
        sys.stdin.readline()
    borgtest.done({'released': True, 'len': count, 'warnings': warnings.messages})


if __name__ == '__main__':
    main()
