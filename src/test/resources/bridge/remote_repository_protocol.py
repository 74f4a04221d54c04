"""Drives the Borg bridge with Borg 1.2's own RemoteRepository (the client side of borg's RPC),
as borg's commands do, and checks what borg relies on: pipelined async puts and deletes seen in
order by later calls, get_many, list and scan paging with markers, __len__, nonces, the key,
check, commit with compaction, the lock, and errors arriving as borg's exception classes.
Prints one JSON line; exits non-zero with a message on the first failure.

usage: remote_repository_protocol.py ssh://segstore/<new repository name>
"""
import argparse
import hashlib
import json
import random
import sys

from borg.helpers import Location, IntegrityError
from borg.remote import RemoteRepository, InvalidRPCMethod, PathNotAllowed
from borg.logger import setup_logging
from borg.repository import Repository

setup_logging(level='warning')
location = Location(sys.argv[1])
args = argparse.Namespace(rsh=None, remote_path=None, upload_ratelimit=0, upload_buffer=0, debug_topics=[],
                          storage_quota=None, lock_wait=1)


def check(condition, message):
    if not condition:
        print('FAILED: ' + message, file=sys.stderr)
        sys.exit(1)


def expect(exception, call, *a, **kw):
    try:
        call(*a, **kw)
    except exception as e:
        return e
    check(False, '%s did not raise %s' % (call, exception))


def object_id(n):
    return hashlib.sha256(b'object %d' % n).digest()


rnd = random.Random(42)
count = 600
data = {object_id(n): rnd.randbytes(rnd.choice([0, 1, 100, 5000, 70000])) for n in range(count)}
ids = list(data)
summary = {}

with RemoteRepository(location, create=True, exclusive=True, lock_wait=1, args=args) as repo:
    check(len(repo.id) == 32, 'open answers the 32-byte repository id')

    # the lock: a second exclusive client waits its lock_wait and gets borg's LockTimeout
    e = expect(RemoteRepository.RPCError, RemoteRepository, location, exclusive=True, lock_wait=0.5, args=args)
    check(e.exception_class == 'LockTimeout', 'second writer: ' + e.exception_class)
    check('Failed to create/acquire the lock' in e.get_message(), e.get_message())

    # pipelined puts (borg create's way), then an overwrite and a delete that later calls must see
    for i in ids:
        repo.put(i, data[i], wait=False)
    check(repo.async_response(wait=True) is None, 'async puts answer None')
    data[ids[0]] = b'overwritten'
    repo.put(ids[0], data[ids[0]], wait=False)
    check(repo.get(ids[0]) == b'overwritten', 'a get sees the put sent before it')
    repo.delete(ids[1], wait=False)
    expect(Repository.ObjectNotFound, repo.get, ids[1])
    del data[ids[1]]
    repo.commit(compact=False)
    check(len(repo) == count - 1, '__len__ after commit: %d' % len(repo))

    # get_many in another order
    order = list(data)
    rnd.shuffle(order)
    for i, got in zip(order, repo.get_many(order)):
        check(got == data[i], 'get_many returned other data')

    # list and scan page with the last id as marker
    for method, limit in (('list', 7), ('list', None), ('scan', 100), ('scan', 1)):
        seen = []
        marker = None
        while True:
            page = getattr(repo, method)(limit=limit, marker=marker)
            if not page:
                break
            check(limit is None or len(page) <= limit, '%s page of %d' % (method, len(page)))
            seen += page
            marker = page[-1]
            if limit is None:
                break
        check(len(seen) == len(set(seen)), '%s(limit=%s) returned an id twice' % (method, limit))
        check(set(seen) == set(data), '%s(limit=%s) returned other ids' % (method, limit))
    summary['listed'] = len(data)

    # errors arrive as borg's own exceptions
    expect(Repository.ObjectNotFound, repo.get, b'\0' * 31 + b'\1')
    for kind, exception in (('DoesNotExist', Repository.DoesNotExist), ('AlreadyExists', Repository.AlreadyExists),
                            ('CheckNeeded', Repository.CheckNeeded), ('IntegrityError', IntegrityError),
                            ('PathNotAllowed', PathNotAllowed), ('ObjectNotFound', Repository.ObjectNotFound),
                            ('InvalidRPCMethod', InvalidRPCMethod)):
        expect(exception, repo.call, 'inject_exception', {'kind': kind})
    expect(InvalidRPCMethod, repo.call, 'no_such_method', {})

    # nonces and the key
    check(repo.get_free_nonce() is None, 'no nonce before the first reservation')
    repo.commit_nonce_reservation(0x1000, None)
    check(repo.get_free_nonce() == 0x1000, 'nonce after reservation')
    repo.commit_nonce_reservation(0x2000, 0x1000)
    e = expect(RemoteRepository.RPCError, repo.commit_nonce_reservation, 0x3000, 0x1000)
    check(e.exception_class == 'Exception', 'stale nonce reservation: ' + e.exception_class)
    repo.save_key(b'repokey data')
    check(repo.load_key() == b'repokey data', 'load_key returns what save_key stored')

    # check, then delete everything and compact
    check(repo.check() is True, 'check finds no problems')
    for i in data:
        repo.delete(i, wait=False)
    repo.async_response(wait=True)
    repo.commit(compact=True, threshold=0.0)
    check(len(repo) == 0, 'everything deleted: %d left' % len(repo))
    check(len(repo.list(limit=10)) == 0, 'empty list')

summary['ok'] = True
print(json.dumps(summary))
