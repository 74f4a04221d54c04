#!/usr/bin/python3
"""Borg 1.2's own repository engine, timed on the workload of `segstore.jar bench`.

Run it with the system python that has Debian's borgbackup (the python on a pyenv PATH has no
borg module):

    /usr/bin/python3 tools/borg-engine-bench.py --count 100000 --size 4096 /tmp/borg-bench
    /usr/bin/python3 tools/borg-engine-bench.py --index-figures /tmp/borg-index-bench

Everything runs in this process on borg.repository.Repository, the class `borg serve` drives:
no RPC, no encryption, no chunking, only the key-value store. The repository is created with
Borg's defaults (500 MiB segments, 1000 per directory) in DIR, which must not exist, and is
left there afterwards.

The workload (the same steps, data and ids as `java -jar target/segstore.jar bench --count N
--size BYTES DIR`, so that the two sets of figures compare):

  data   one os.urandom(BYTES) buffer; object i is that buffer with i written over its first
         8 bytes (little-endian u64; shorter objects take the first BYTES of those 8 bytes)
  ids    object i has id sha256(i as little-endian u64); computed before any timing
  1. put_commit     put objects 0..N-1, then commit(compact=False): one transaction
  2. get            get every object once, in an order shuffled before timing (seeded). Borg
                    drops its index after each commit and reloads it on the next access; that
                    load is done before the clock starts, so this is steady-state reads
  3. delete_commit  delete the odd-numbered objects, then commit(compact=False); the time
                    includes Borg starting the transaction (loading index and hints)
  4. compact        what `borg compact` does: a transaction with no writes of its own, then
                    commit(compact=True, threshold=0.1); the delete left every segment half
                    sparse, so everything live is copied forward
  5. check          Repository.check(): a full check (every segment's CRCs, index rebuilt and
                    compared with the committed one)

Output: one JSON line. MB is 10^6 bytes of object data (not of log): put and get move N*BYTES,
check's figure counts the data of the objects still live (N/2 after the delete).

--index-figures measures the index instead of the data, with empty objects (default 10 million
of them, or --count), each phase in a fresh child process with a warm page cache:
  build             put all objects in one transaction and commit (for information only)
  open_with_index   open the repository and make the first access that loads index.T (len())
  open_replay       index.T, hints.T and integrity.T deleted: open and first access, which
                    replays (rebuilds the index from) every segment, writes it and loads it
  nsindex           Borg's NSIndex in memory: buckets * 40 bytes per entry (the table), and
                    the process' resident memory growth across loading it
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time

SHUFFLE_SEED = 0x5E65_7021
INDEX_FIGURES_DEFAULT_COUNT = 10_000_000


def start_borg():
    try:
        from borg.logger import setup_logging
    except ImportError:
        sys.exit('borg-engine-bench: the borg module is missing; run this with /usr/bin/python3 '
                 '(Debian\'s borgbackup 1.2), not %s' % sys.executable)
    setup_logging(level='warning')
    from borg.repository import Repository
    return Repository


def object_id(i):
    return hashlib.sha256(i.to_bytes(8, 'little')).digest()


def object_data(tail, size, i):
    """Object i: the shared random buffer with i over its first 8 bytes (tail = buffer[8:])."""
    head = i.to_bytes(8, 'little')
    if size <= 8:
        return head[:size]
    return head + tail


def rates(seconds, objects, data_bytes=None):
    out = {'s': round(seconds, 6), 'obj_per_s': round(objects / seconds, 1) if seconds > 0 else None}
    if data_bytes is not None:
        out['MB_per_s'] = round(data_bytes / 1e6 / seconds, 2) if seconds > 0 else None
    return out


def workload(path, count, size):
    Repository = start_borg()
    ids = [object_id(i) for i in range(count)]
    tail = os.urandom(size)[8:]
    order = list(range(count))
    random.Random(SHUFFLE_SEED).shuffle(order)
    odd = range(1, count, 2)
    result = {'count': count, 'size': size}

    with Repository(path, create=True, exclusive=True) as repo:
        # 1. put N objects and commit them
        t0 = time.perf_counter()
        for i in range(count):
            repo.put(ids[i], object_data(tail, size, i))
        repo.commit(compact=False)
        result['put_commit'] = rates(time.perf_counter() - t0, count, count * size)

        # 2. get them all in a random order (index loaded before the clock starts)
        assert len(repo) == count
        read = 0
        t0 = time.perf_counter()
        for i in order:
            read += len(repo.get(ids[i]))
        result['get'] = rates(time.perf_counter() - t0, count, count * size)
        assert read == count * size, 'read %d bytes, expected %d' % (read, count * size)

        # 3. delete every second object and commit
        t0 = time.perf_counter()
        for i in odd:
            repo.delete(ids[i])
        repo.commit(compact=False)
        result['delete_commit'] = rates(time.perf_counter() - t0, len(odd))

        # 4. compact as `borg compact` does: a transaction without writes, commit(compact=True)
        t0 = time.perf_counter()
        repo.prepare_txn(repo.get_transaction_id())
        repo.commit(compact=True, threshold=0.1)
        result['compact'] = {'s': round(time.perf_counter() - t0, 6)}

        # 5. full check
        live = count - len(odd)
        t0 = time.perf_counter()
        ok = repo.check()
        seconds = time.perf_counter() - t0
        if not ok:
            sys.exit('borg-engine-bench: Borg\'s check found errors in %s' % path)
        result['check'] = {'s': round(seconds, 6), 'MB_per_s': round(live * size / 1e6 / seconds, 2) if seconds > 0 else None}
        assert len(repo) == live
    return result


# ---- --index-figures ------------------------------------------------------------------------

def rss_bytes():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return None


def phase_build(path, count):
    Repository = start_borg()
    t0 = time.perf_counter()
    with Repository(path, create=True, exclusive=True) as repo:
        for i in range(count):
            repo.put(object_id(i), b'')
        repo.commit(compact=False)
    return {'s': round(time.perf_counter() - t0, 3)}


def phase_open(path, count):
    """Opens and makes the first access (len), which loads index.T, or replays when it is missing."""
    Repository = start_borg()
    rss_before = rss_bytes()
    t0 = time.perf_counter()
    with Repository(path, exclusive=True) as repo:
        t1 = time.perf_counter()
        entries = len(repo)
        t2 = time.perf_counter()
        rss_after = rss_bytes()
        assert entries == count, 'the index has %d entries, expected %d' % (entries, count)
        buckets = (repo.index.size() - 18) // 40
    return {
        's': round(t2 - t0, 3), 'open_s': round(t1 - t0, 3), 'first_access_s': round(t2 - t1, 3),
        'entries': entries, 'num_buckets': buckets, 'rss_delta_bytes': rss_after - rss_before,
    }


def run_phase(phase, path, count):
    """Runs one phase in a fresh interpreter, so memory and timings start clean."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), '--phase', phase, '--count', str(count), path],
                         stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def index_figures(path, count):
    build = run_phase('build', path, count)
    index_files = [n for n in os.listdir(path) if n.startswith('index.')]
    index_bytes = sum(os.path.getsize(os.path.join(path, n)) for n in index_files)
    with_index = run_phase('open', path, count)
    for name in os.listdir(path):
        if name.startswith(('index.', 'hints.', 'integrity.')):
            os.unlink(os.path.join(path, name))
    replay = run_phase('open', path, count)
    entries, buckets = with_index['entries'], with_index['num_buckets']
    return {
        'count': count, 'size': 0,
        'index_figures': {
            'build': build,
            'open_with_index': {k: with_index[k] for k in ('s', 'open_s', 'first_access_s')},
            'open_replay': {k: replay[k] for k in ('s', 'open_s', 'first_access_s')},
            'index_file_bytes': index_bytes,
            'nsindex': {
                'entries': entries,
                'num_buckets': buckets,
                'table_bytes_per_object': round(buckets * 40 / entries, 2) if entries else None,
                'rss_delta_bytes': with_index['rss_delta_bytes'],
                'rss_bytes_per_object': round(with_index['rss_delta_bytes'] / entries, 2) if entries else None,
            },
        },
    }


def main():
    parser = argparse.ArgumentParser(description='Times Borg 1.2\'s Repository on the workload of `segstore.jar bench`.')
    parser.add_argument('--count', type=int, default=None, help='number of objects (default 10000; '
                        '%d with --index-figures)' % INDEX_FIGURES_DEFAULT_COUNT)
    parser.add_argument('--size', type=int, default=4096, help='bytes per object (default 4096; ignored by --index-figures)')
    parser.add_argument('--index-figures', action='store_true',
                        help='measure opening, replay and NSIndex memory with empty objects instead')
    parser.add_argument('--phase', choices=['build', 'open'], help=argparse.SUPPRESS)
    parser.add_argument('dir', help='repository to create; must not exist')
    args = parser.parse_args()
    path = os.path.abspath(args.dir)

    if args.phase == 'build':
        result = phase_build(path, args.count)
    elif args.phase == 'open':
        result = phase_open(path, args.count)
    else:
        if os.path.exists(path):
            parser.error('%s exists; give a path that does not' % path)
        if not os.path.isdir(os.path.dirname(path)):
            parser.error('the parent of %s is not a directory' % path)
        if args.index_figures:
            count = INDEX_FIGURES_DEFAULT_COUNT if args.count is None else args.count
            if count < 1:
                parser.error('--count must be at least 1')
            result = index_figures(path, count)
        else:
            count = 10000 if args.count is None else args.count
            if count < 1 or args.size < 0:
                parser.error('--count must be at least 1 and --size not negative')
            if args.size > 20 * 1024 * 1024 - 41:
                parser.error('--size exceeds Borg\'s largest object (20971479 bytes)')
            result = workload(path, count, args.size)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
