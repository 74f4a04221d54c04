#!/usr/bin/python3
"""restic against Segstore and against `rclone serve restic`, side by side on this machine.

Generates one tree (large incompressible files, medium files, many small ones), starts Segstore
(`java -jar target/segstore.jar`) and `rclone serve restic` on loopback, each with its own data
directory on the same file system, and times the same restic commands against both, alternating
which goes first, after one uncounted round on each (warm page cache and JIT): `init`, `backup` of the tree into a fresh repository (fresh cache), `restore`
of that snapshot into an empty directory, and `check --read-data`. Prints a Markdown table of
medians and the rclone/Segstore time ratios (above 1: Segstore is faster).

Segstore commits every upload durably (fsync) before answering; rclone writes files without
syncing them. No authentication on either (both listen on 127.0.0.1 only).

Usage: /usr/bin/python3 tools/compare-restic.py [--repeat 3] [--size-mb 512]
       [--workdir /tmp/segstore-restic-compare] [--keep] [--pin]
--pin runs restic on half of the CPUs and both servers on the other half (taskset), as if the
server had a machine of its own.
Needs: target/segstore.jar (./mvnw -q package -DskipTests), restic, rclone.
"""
import argparse
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JAR = os.path.join(ROOT, 'target', 'segstore.jar')
PASSWORD = 'compare-restic'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except Exception as e:  # not up yet (rclone answers 404 on /, which is "up")
            if getattr(e, 'code', None) is not None:
                return
            time.sleep(0.2)
    raise SystemExit(f'{url} did not come up')


def generate_tree(root, size_mb, seed=1):
    """~size_mb MiB: 60% in a few large files, 25% in medium ones, 15% in small files in directories."""
    rnd = random.Random(seed)
    os.makedirs(root)
    total = size_mb << 20

    def write(path, n):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            left = n
            while left > 0:
                chunk = min(left, 1 << 20)
                f.write(rnd.randbytes(chunk))
                left -= chunk

    large = int(total * 0.60)
    for i in range(3):
        write(os.path.join(root, 'large', f'large-{i}.bin'), large // 3)
    medium = int(total * 0.25)
    n = 0
    while medium > 0:
        size = min(medium, rnd.randint(1 << 20, 8 << 20))
        write(os.path.join(root, 'medium', f'm{n // 20}', f'medium-{n}.bin'), size)
        medium -= size
        n += 1
    small = total - large - int(total * 0.25)
    n = 0
    while small > 0:
        size = min(small, rnd.randint(100, 64 << 10))
        write(os.path.join(root, 'small', f'd{n // 100}', f's{n % 7}', f'small-{n}.dat'), size)
        small -= size
        n += 1


CLIENT_CPUS = []  # with --pin: restic runs on these CPUs only (taskset), the servers on the others
SERVER_CPUS = []


def pinned(cpus, command):
    return ['taskset', '-c', ','.join(map(str, cpus)), *command] if cpus else command


def restic(repo_url, cache, *args):
    env = dict(os.environ, RESTIC_REPOSITORY=repo_url, RESTIC_PASSWORD=PASSWORD, RESTIC_CACHE_DIR=cache)
    start = time.monotonic()
    r = subprocess.run(pinned(CLIENT_CPUS, ['restic', *args]), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        raise SystemExit(f'restic {" ".join(args)} against {repo_url} failed:\n{r.stdout}\n{r.stderr}')
    return elapsed, r.stdout


def one_round(name, url, workdir, tree, round_no):
    cache = os.path.join(workdir, f'cache-{name}-{round_no}')
    target = os.path.join(workdir, f'restore-{name}-{round_no}')
    restic(url, cache, 'init')
    backup, out = restic(url, cache, 'backup', '--json', tree)
    summary = [json.loads(l) for l in out.splitlines() if '"summary"' in l][-1]
    restore, _ = restic(url, cache, 'restore', 'latest', '--target', target)
    check, _ = restic(url, cache, 'check', '--read-data')
    restored = os.path.join(target, tree.lstrip('/'))
    diff = subprocess.run(['diff', '-r', '-q', tree, restored], stdout=subprocess.PIPE, text=True)
    if diff.returncode != 0:
        raise SystemExit(f'{name}: restore differs:\n{diff.stdout}')
    shutil.rmtree(target)
    shutil.rmtree(cache)
    return {'backup': backup, 'restore': restore, 'check': check, 'stored': summary['data_added']}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--size-mb', type=int, default=512)
    ap.add_argument('--workdir', default='/tmp/segstore-restic-compare')
    ap.add_argument('--keep', action='store_true', help='keep the work directory')
    ap.add_argument('--jar', default=JAR, help='the Segstore jar to run (default: target/segstore.jar)')
    ap.add_argument('--pin', action='store_true',
                    help='restic on the first half of the CPUs, the servers on the other half, as if the server were '
                         'its own machine (the servers never take CPU from the client)')
    a = ap.parse_args()
    if a.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit('--pin needs at least 2 CPUs')
        CLIENT_CPUS[:] = cpus[:len(cpus) // 2]
        SERVER_CPUS[:] = cpus[len(cpus) // 2:]
    jar = a.jar
    if not os.path.exists(jar):
        raise SystemExit('build the jar first: ./mvnw -q package -DskipTests')
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    tree = os.path.join(a.workdir, 'tree')
    generate_tree(tree, a.size_mb)
    tree_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs)
    tree_files = sum(len(fs) for _, _, fs in os.walk(tree))

    seg_port, rc_port = free_port(), free_port()
    seg_data = os.path.join(a.workdir, 'segstore-data')
    rc_data = os.path.join(a.workdir, 'rclone-data')
    os.makedirs(rc_data)
    logs = open(os.path.join(a.workdir, 'servers.log'), 'w')
    seg = subprocess.Popen(pinned(SERVER_CPUS, ['java', '-jar', jar, f'--server.port={seg_port}', f'--segstore.data-dir={seg_data}',
                            '--logging.level.segstore.audit=WARN']), stdout=logs, stderr=logs)
    rc = subprocess.Popen(pinned(SERVER_CPUS, ['rclone', 'serve', 'restic', '--addr', f'127.0.0.1:{rc_port}', rc_data]),
                          stdout=logs, stderr=logs)
    try:
        wait_for(f'http://127.0.0.1:{seg_port}/actuator/health')
        wait_for(f'http://127.0.0.1:{rc_port}/')
        # one uncounted round each: the page cache holds the tree and the JVM's JIT has compiled the
        # upload path, as in a service that has been running for a while
        for name, url in (('segstore', f'rest:http://127.0.0.1:{seg_port}/restic/bench-warm/'),
                          ('rclone', f'rest:http://127.0.0.1:{rc_port}/bench-warm/')):
            one_round(name, url, a.workdir, tree, 'warm')
        results = {'segstore': [], 'rclone': []}
        for i in range(a.repeat):
            order = ['segstore', 'rclone'] if i % 2 == 0 else ['rclone', 'segstore']
            for name in order:
                url = (f'rest:http://127.0.0.1:{seg_port}/restic/bench-{i}/' if name == 'segstore'
                       else f'rest:http://127.0.0.1:{rc_port}/bench-{i}/')
                r = one_round(name, url, a.workdir, tree, i)
                results[name].append(r)
                print(f'round {i + 1} {name}: backup {r["backup"]:.2f} s, restore {r["restore"]:.2f} s, '
                      f'check --read-data {r["check"]:.2f} s', file=sys.stderr, flush=True)
    finally:
        seg.terminate()
        rc.terminate()
        seg.wait(60)
        rc.wait(60)
        logs.close()

    mib = tree_bytes / (1 << 20)
    restic_version = subprocess.run(['restic', 'version'], stdout=subprocess.PIPE, text=True).stdout.strip()
    rclone_version = subprocess.run(['rclone', 'version'], stdout=subprocess.PIPE, text=True).stdout.splitlines()[0]
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    print(f'Tree: {tree_files} files, {mib:.0f} MiB (incompressible). {a.repeat} rounds after a warm-up round, alternating '
          f'which server goes first. {time.strftime("%Y-%m-%d")}, {os.cpu_count()} CPUs ({cpu}), {restic_version}, {rclone_version}, '
          f'{platform.platform()}.' + (f' Pinned: restic on CPUs {CLIENT_CPUS}, the servers on CPUs {SERVER_CPUS}.'
                                        if CLIENT_CPUS else ''))
    print()
    print('| step | Segstore, s | rclone serve restic, s | rclone / Segstore |')
    print('| --- | ---: | ---: | ---: |')
    for step, label in (('backup', 'backup (fresh repository)'), ('restore', 'restore'), ('check', 'check --read-data')):
        s = statistics.median(r[step] for r in results['segstore'])
        c = statistics.median(r[step] for r in results['rclone'])
        print(f'| {label} | {s:.2f} ({mib / s:.0f} MiB/s) | {c:.2f} ({mib / c:.0f} MiB/s) | {c / s:.2f} |')
    print()
    print('Each round:', json.dumps(results))
    if not a.keep:
        shutil.rmtree(a.workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
