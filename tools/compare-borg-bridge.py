#!/usr/bin/python3
"""borg create and borg extract of the same tree, into a local Borg repository and into Segstore
through the Borg bridge (bin/borg-rsh), side by side on this machine.

Starts the service from target/segstore.jar on a free port (its own data directory under
--workdir, no tokens, loopback), generates a tree (large random files, many small files,
compressible text), runs one uncounted round of each (page cache and the service's JIT warm),
then per round, alternating which goes first: borg init (not timed), a
first borg create (all data new), a second borg create of the unchanged tree (borg's files cache
makes it metadata only), borg extract of the first archive, and borg list five times (the cost
of one short command). Prints Markdown: the machine, the versions, medians, and ratios
Segstore / local (time; above 1 means Segstore is slower).

Usage: ./mvnw -q package -DskipTests
       /usr/bin/python3 tools/compare-borg-bridge.py [--repeat 3] [--size-mb 256] [--workdir /tmp/segstore-borg-compare]
"""
import argparse
import json
import os
import platform
import random
import resource
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
RSH = os.path.join(ROOT, 'bin', 'borg-rsh')
BORG = '/usr/bin/borg'
PASSPHRASE = 'compare'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_tree(root, size_mb, seed=1):
    """About size_mb MB: 60% large random files, 15% small random files, 25% compressible text."""
    rnd = random.Random(seed)
    os.makedirs(root)
    total = size_mb * 1_000_000
    large = int(total * 0.60)
    for i in range(8):
        with open(os.path.join(root, f'large-{i}.bin'), 'wb') as f:
            f.write(rnd.randbytes(large // 8))
    small_dir = os.path.join(root, 'small')
    left = int(total * 0.15)
    n = 0
    while left > 0:
        d = os.path.join(small_dir, f'd{n // 200}')
        os.makedirs(d, exist_ok=True)
        size = min(left, rnd.randint(1, 64_000))
        with open(os.path.join(d, f'f{n}.dat'), 'wb') as f:
            f.write(rnd.randbytes(size))
        left -= size
        n += 1
    words = [rnd.randbytes(rnd.randint(2, 9)).hex() for _ in range(5000)]
    text_dir = os.path.join(root, 'text')
    os.makedirs(text_dir)
    left = int(total * 0.25)
    i = 0
    while left > 0:
        chunk = ' '.join(rnd.choice(words) for _ in range(200_000)).encode()[:min(left, 4_000_000)]
        with open(os.path.join(text_dir, f'doc-{i}.txt'), 'wb') as f:
            f.write(chunk)
        left -= len(chunk)
        i += 1
    return n + 8 + i


SERVICE_PID = None


def service_cpu():
    """CPU seconds (user + system) the service process has used so far."""
    if SERVICE_PID is None:
        return 0.0
    with open(f'/proc/{SERVICE_PID}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def timed(cmd, env, cwd, cpu=None):
    """Wall seconds of one command; adds the CPU seconds of borg (with the bridge it started) and of the service to cpu."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_service = service_cpu()
    start = time.monotonic()
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f'failed ({r.returncode}): {" ".join(cmd)}\n{r.stdout}\n{r.stderr}')
    if cpu is not None:
        cpu['client'] = (after_children.ru_utime + after_children.ru_stime) - (before_children.ru_utime + before_children.ru_stime)
        cpu['service'] = service_cpu() - before_service
    return elapsed


class Target:
    def __init__(self, name, workdir, url):
        self.name = name
        self.workdir = workdir
        self.url = url
        self.base = os.path.join(workdir, f'base-{name}')
        self.env = dict(os.environ, BORG_PASSPHRASE=PASSPHRASE, BORG_BASE_DIR=self.base, BORG_RSH=RSH, SEGSTORE_URL=url,
                        SEGSTORE_CACHE_DIR=os.path.join(workdir, 'bridge-cache'),
                        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK='yes', BORG_RELOCATED_REPO_ACCESS_IS_OK='yes')
        for v in ('SEGSTORE_TOKEN', 'BORG_REPO', 'BORG_REMOTE_PATH'):
            self.env.pop(v, None)

    def location(self, round_no):
        if self.name == 'local':
            return os.path.join(self.workdir, f'local-repo-{round_no}')
        return f'ssh://segstore/compare-{round_no}'

    def remove(self, round_no):
        if self.name == 'local':
            shutil.rmtree(self.location(round_no), ignore_errors=True)
        else:
            req = urllib.request.Request(f'{self.url}/repos/compare-{round_no}', method='DELETE')
            urllib.request.urlopen(req).read()
        shutil.rmtree(self.base, ignore_errors=True)

    def round(self, round_no, tree_parent):
        repo = self.location(round_no)
        out = {}
        timed([BORG, 'init', '--encryption', 'repokey', repo], self.env, tree_parent)
        for key, cmd, cwd in (('create', [BORG, 'create', f'{repo}::first', 'tree'], tree_parent),
                              ('create_unchanged', [BORG, 'create', f'{repo}::second', 'tree'], tree_parent),
                              ('extract', [BORG, 'extract', f'{repo}::first'], None)):
            if cwd is None:
                cwd = os.path.join(self.workdir, f'extract-{self.name}')
                shutil.rmtree(cwd, ignore_errors=True)
                os.makedirs(cwd)
            cpu = {}
            out[key] = timed(cmd, self.env, cwd, cpu)
            out[key + '_cpu'] = cpu
        target = os.path.join(self.workdir, f'extract-{self.name}')
        shutil.rmtree(target, ignore_errors=True)
        out['list'] = statistics.median(timed([BORG, 'list', repo], self.env, tree_parent) for _ in range(5))
        self.remove(round_no)
        return out


def machine(workdir):
    cpu = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ''
    try:
        with open('/proc/meminfo') as f:
            mem = f'{int(f.readline().split()[1]) / 1024 / 1024:.0f} GiB RAM'
    except OSError:
        pass
    fs = subprocess.run(['df', '-T', workdir], stdout=subprocess.PIPE, text=True).stdout.splitlines()[-1].split()
    borg = subprocess.run([BORG, '--version'], stdout=subprocess.PIPE, text=True).stdout.strip()
    java = subprocess.run(['java', '-version'], stderr=subprocess.PIPE, text=True).stderr.splitlines()[0]
    return (f'{os.cpu_count()} cores ({cpu}), {mem}, {fs[1]} on {fs[0]}, Linux {platform.release()}; {borg}, {java}; '
            f'load average at start {os.getloadavg()[0]:.1f}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--size-mb', type=int, default=256)
    ap.add_argument('--workdir', default='/tmp/segstore-borg-compare')
    args = ap.parse_args()
    if not os.path.exists(JAR):
        sys.exit('build the jar first: ./mvnw -q package -DskipTests')
    if not os.access(BORG, os.X_OK):
        sys.exit(f'{BORG} is missing (apt-get install borgbackup)')
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    files = make_tree(os.path.join(args.workdir, 'tree'), args.size_mb)
    tree_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(args.workdir, 'tree')) for f in fs)

    port = free_port()
    url = f'http://127.0.0.1:{port}'
    log = open(os.path.join(args.workdir, 'service.log'), 'w')
    service = subprocess.Popen(['java', '-jar', JAR, f'--server.port={port}',
                                f'--segstore.data-dir={os.path.join(args.workdir, "data")}'], stdout=log, stderr=log)
    global SERVICE_PID
    SERVICE_PID = service.pid
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if json.load(urllib.request.urlopen(f'{url}/actuator/health'))['status'] == 'UP':
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or service.poll() is not None:
                sys.exit('the service did not come up; see ' + log.name)
            time.sleep(0.2)
        description = machine(args.workdir)
        targets = {'local': Target('local', args.workdir, url), 'segstore': Target('segstore', args.workdir, url)}
        runs = {'local': [], 'segstore': []}
        # one round each first, not counted: warms the page cache for both and the service's JIT
        # (a service that runs for days is warm; each borg and bridge process starts cold anyway)
        for name in ('local', 'segstore'):
            targets[name].round('warmup', args.workdir)
        for i in range(args.repeat):
            order = ['local', 'segstore'] if i % 2 == 0 else ['segstore', 'local']
            for name in order:
                runs[name].append(targets[name].round(i, args.workdir))
    finally:
        service.terminate()
        service.wait(60)

    mb = tree_bytes / 1e6
    print(f'Run on {time.strftime("%Y-%m-%d %H:%M %Z")}: {description}.\n')
    print(f'Command: `/usr/bin/python3 tools/compare-borg-bridge.py --repeat {args.repeat} --size-mb {args.size_mb}` '
          f'(tree: {files} files, {mb:.0f} MB; borg defaults: lz4, repokey; median of {args.repeat} alternating rounds).\n')
    print('| step | local repository | Segstore via the bridge | ratio (time) |')
    print('| --- | ---: | ---: | ---: |')
    rows = [('borg create, all new', 'create', True), ('borg create, unchanged tree', 'create_unchanged', False),
            ('borg extract', 'extract', True), ('borg list (one short command)', 'list', False)]
    for label, key, rate in rows:
        a = statistics.median(r[key] for r in runs['local'])
        b = statistics.median(r[key] for r in runs['segstore'])
        if rate:
            print(f'| {label} | {a:.2f} s ({mb / a:.0f} MB/s) | {b:.2f} s ({mb / b:.0f} MB/s) | {b / a:.2f} |')
        else:
            print(f'| {label} | {a:.2f} s | {b:.2f} s | {b / a:.2f} |')
    print('\nCPU seconds per step (median; "borg" includes the bridge process it starts; the service runs on the same '
          'machine):\n')
    print('| step | local: borg | Segstore: borg + bridge | Segstore: service |')
    print('| --- | ---: | ---: | ---: |')
    for label, key, _ in rows[:3]:
        a = statistics.median(r[key + '_cpu']['client'] for r in runs['local'])
        b = statistics.median(r[key + '_cpu']['client'] for r in runs['segstore'])
        c = statistics.median(r[key + '_cpu']['service'] for r in runs['segstore'])
        print(f'| {label} | {a:.2f} | {b:.2f} | {c:.2f} |')
    print(f'\nLoad average at the end: {os.getloadavg()[0]:.1f}.\n')
    print('raw runs (seconds):', json.dumps(runs))


if __name__ == '__main__':
    main()
