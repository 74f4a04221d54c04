"""Reads the repokey and the nonce as Borg does.

usage: key_nonce.py PATH

Prints {"key": load_key() as text, "nonce": get_free_nonce() (int or null)}.
"""
import argparse

import borgtest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('path')
    args = parser.parse_args()
    warnings = borgtest.start()
    from borg.repository import Repository

    with Repository(args.path, exclusive=True, lock_wait=1) as repo:
        result = {'key': repo.load_key().decode('utf-8'), 'nonce': repo.get_free_nonce()}
    result['warnings'] = warnings.messages
    borgtest.done(result)


if __name__ == '__main__':
    main()
