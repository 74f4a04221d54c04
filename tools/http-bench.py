#!/usr/bin/python3
"""Segstore's HTTP API against a plain nginx WebDAV server, side by side on this machine.

Starts `java -jar target/segstore.jar` and nginx (WebDAV PUT, `create_full_put_path on`) on free
loopback ports with data directories under a fresh temporary directory, and drives both with the
same load client, src/test/java/io/segstore/bench/HttpLoad.java (compiled here with javac into the
temporary directory; it needs nothing but the JDK). Every workload runs once per round on each
server, the two servers one right after the other, the order swapped every round; the tables
show the median of the rounds and the Segstore/nginx ratio of the medians.

Workloads: PUT of new objects and GET in random order of a preloaded set, 4 KiB objects with 1, 8
and 32 connections and 2 MiB objects with 1 and 4, each run bounded by --duration seconds (and,
for 2 MiB PUTs, --put-2m-count objects). A Segstore PUT runs twice per round: as autocommits
(no header: each answer after a grouped, fsynced commit) and inside one explicit transaction
(begin, the PUTs with Segstore-Transaction, commit; begin and commit are in the timing). nginx
PUTs are not synced at all; every run is followed by `sync` (timed on its own, outside the run),
so that no run leaves dirty pages for the next one, and the nginx row "+ sync" adds that time to
nginx's run: what nginx would need to make the same objects durable.

Needs: nginx and javac (`apt-get install -y nginx`; wrk is not used). Build the jar first:
    ./mvnw -q package -DskipTests
    /usr/bin/python3 tools/http-bench.py [--rounds 7] [--duration 3] [--quick]

Prints the machine, the command and the Markdown tables; --json FILE keeps every run's figures.
"""
import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JAR = os.path.join(ROOT, 'target', 'segstore.jar')
CLIENT_SOURCE = os.path.join(ROOT, 'src', 'test', 'java', 'io', 'segstore', 'bench', 'HttpLoad.java')
CLIENT_CLASS = 'io.segstore.bench.HttpLoad'

KIB4 = 4096
MIB2 = 2 << 20

NGINX_CONF = """\
{user}
worker_processes {workers};
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            client_max_body_size 64m;
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(url, what, proc, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f'{what} exited with {proc.returncode} while starting')
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    sys.exit(f'{what} did not answer {url} within {seconds} s')


def request(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout.strip()
    except OSError as e:
        return str(e)


def machine(workdir):
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'")
    return {
        'date': sh('date'),
        'nproc': sh('nproc'),
        'cpu': cpu,
        'memory': sh("free -h | awk '/^Mem:/ {print $2}'"),
        'kernel': platform.release(),
        'df': sh(f'df -hT {workdir} | tail -1'),
        'lsblk': sh('lsblk -d -o NAME,SIZE,ROTA,TYPE | grep -v "^zram"'),
        'java': sh('java -version 2>&1 | head -2 | tail -1'),
        'nginx': sh('nginx -v 2>&1'),
    }


class Server:
    def __init__(self, name, proc, port, base, data_root):
        self.name = name
        self.proc = proc
        self.port = port
        self.base = base  # http://127.0.0.1:port
        self.data_root = data_root

    def pids(self):
        pids = [self.proc.pid]
        try:
            with open(f'/proc/{self.proc.pid}/task/{self.proc.pid}/children') as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_segstore(tmp, heap):
    data = os.path.join(tmp, 'segstore-data')
    os.makedirs(data)
    port = free_port()
    log = open(os.path.join(tmp, 'segstore.log'), 'w')
    cmd = ['java'] + ([f'-Xmx{heap}'] if heap else []) + ['-jar', JAR, f'--segstore.data-dir={data}', f'--server.port={port}']
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    wait_for(base + '/actuator/health', 'segstore', proc)
    return Server('segstore', proc, port, base, data), ' '.join(cmd[:-2] + ['--segstore.data-dir=DIR', '--server.port=PORT'])


def start_nginx(tmp):
    prefix = os.path.join(tmp, 'nginx')
    root = os.path.join(prefix, 'www')
    os.makedirs(root)
    port = free_port()
    user = ''
    if os.geteuid() == 0:
        # workers of a root master run as nobody: let them write the document root and temp files
        user = 'user nobody nogroup;'
        shutil.chown(prefix, 'nobody', 'nogroup')
        shutil.chown(root, 'nobody', 'nogroup')
    conf = os.path.join(prefix, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write(NGINX_CONF.format(user=user, workers=os.cpu_count(), prefix=prefix, root=root, port=port))
    log = open(os.path.join(tmp, 'nginx.log'), 'w')
    proc = subprocess.Popen(['nginx', '-p', prefix, '-c', conf], stdout=log, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    wait_for(base + '/', 'nginx', proc)
    return Server('nginx', proc, port, base, root)


class Client:
    """The load client, one JVM for the whole comparison: one line of options in, one JSON line out."""

    def __init__(self, classes, log):
        self.log = log
        env = dict(os.environ, CLK_TCK=str(os.sysconf('SC_CLK_TCK')))
        self.proc = subprocess.Popen(['java', '-cp', classes, CLIENT_CLASS, '--stdin'], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1, env=env)

    def run(self, server, repo, op, size, conns, seed, duration=0, count=0, objects=0, transaction=False, verify=False,
            end='sync', label=''):
        args = ['--url', f'{server.base}/repos/{repo}', '--op', op, '--size', str(size), '--connections', str(conns),
                '--seed', str(seed), '--pids', ','.join(map(str, server.pids()))]
        if duration:
            args += ['--duration', str(duration)]
        if count:
            args += ['--count', str(count)]
        if objects:
            args += ['--objects', str(objects)]
        if transaction:
            args.append('--transaction')
        if verify:
            args.append('--verify')
        if end:
            args += ['--end-command', f"'{end}'"]
        if label:
            args += ['--label', label]
        self.proc.stdin.write(' '.join(args) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit('the load client died')
        result = json.loads(line)
        result['server'] = server.name
        self.log.write(json.dumps(result) + '\n')
        self.log.flush()
        if 'fatal' in result:
            sys.exit(f'{server.name} {op} {size} x{conns}: {result["fatal"]}')
        if result['errors']:
            sys.exit(f'{server.name} {op} {size} x{conns}: {result["errors"]} errors, first: {result["first_error"]}')
        return result

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(30)


def human_size(size):
    return f'{size // (1 << 20)} MiB' if size >= 1 << 20 else f'{size // 1024} KiB'


def fmt(v, digits=0):
    if v >= 100 or digits == 0:
        return f'{v:,.0f}'
    return f'{v:,.{digits}f}'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--duration', type=float, default=3.0, help='seconds per run')
    ap.add_argument('--get-4k-objects', type=int, default=20_000)
    ap.add_argument('--get-2m-objects', type=int, default=150)
    ap.add_argument('--put-2m-count', type=int, default=400, help='at most this many 2 MiB objects per PUT run')
    ap.add_argument('--heap', default='', help='-Xmx for Segstore (default: the JVM default)')
    ap.add_argument('--workdir', default=tempfile.gettempdir(), help='where the temporary data directories go')
    ap.add_argument('--json', help='append every run as a JSON line to this file')
    ap.add_argument('--quick', action='store_true', help='one round of 1 s runs, to try the script')
    ap.add_argument('--keep', action='store_true', help='keep the temporary directory')
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.duration, a.get_4k_objects, a.get_2m_objects, a.put_2m_count = 1, 1.0, 2000, 20, 40
    for tool in ('nginx', 'javac', 'java'):
        if not shutil.which(tool):
            sys.exit(f'{tool} is missing (apt-get install -y nginx; a JDK 17)')
    if not os.path.exists(JAR):
        sys.exit(f'{JAR} is missing: ./mvnw -q package -DskipTests')

    tmp = tempfile.mkdtemp(prefix='segstore-http-bench-', dir=a.workdir)
    os.chmod(tmp, 0o755)
    info = machine(tmp)
    command = '/usr/bin/python3 tools/http-bench.py ' + ' '.join(sys.argv[1:])
    started = time.monotonic()
    classes = os.path.join(tmp, 'classes')
    subprocess.run(['javac', '-d', classes, CLIENT_SOURCE], check=True)
    log = open(a.json, 'a') if a.json else open(os.path.join(tmp, 'runs.jsonl'), 'w')

    seg = nginx = client = None
    results = []  # (workload key, target, result)
    try:
        seg, seg_cmd = start_segstore(tmp, a.heap)
        nginx = start_nginx(tmp)
        client = Client(classes, log)
        print(f'segstore on {seg.base} (pid {seg.proc.pid}), nginx on {nginx.base} (pids {nginx.pids()}); data under {tmp}',
              file=sys.stderr)
        request('PUT', f'{seg.base}/repos/get', b'{}')

        # the GET sets: written once (untimed), then read back in full and compared byte for byte
        get_sets = {KIB4: (101, a.get_4k_objects), MIB2: (102, a.get_2m_objects)}
        for server in (seg, nginx):
            for size, (seed, n) in get_sets.items():
                client.run(server, 'get', 'put', size, 4, seed, count=n, transaction=server is seg, label='preload')
                client.run(server, 'get', 'get', size, 4, seed, count=n, objects=n, verify=True, label='verify')

        seed = [1000]

        def put(server, size, conns, mode, repo, label):
            seed[0] += 1
            count = a.put_2m_count if size == MIB2 else 0
            r = client.run(server, repo, 'put', size, conns, seed[0], duration=a.duration, count=count,
                           transaction=mode == 'transaction', label=label)
            return r

        def get(server, size, conns, label):
            seed_, n = get_sets[size]
            return client.run(server, 'get', 'get', size, conns, seed_, duration=a.duration, objects=n, label=label)

        put_workloads = [(KIB4, 1), (KIB4, 8), (KIB4, 32), (MIB2, 1), (MIB2, 4)]
        get_workloads = [(KIB4, 1), (KIB4, 8), (KIB4, 32), (MIB2, 1), (MIB2, 4)]

        # warm-up (JIT, page cache, connection pools): one short run of every workload, not counted
        request('PUT', f'{seg.base}/repos/warm', b'{}')
        saved = a.duration
        a.duration = min(1.5, a.duration)
        for size, conns in put_workloads:
            for server, mode in ((nginx, 'plain'), (seg, 'plain'), (seg, 'transaction')):
                put(server, size, conns, mode, 'warm', 'warm-up')
        for size, conns in get_workloads:
            for server in (nginx, seg):
                get(server, size, conns, 'warm-up')
        a.duration = saved
        request('DELETE', f'{seg.base}/repos/warm')
        shutil.rmtree(os.path.join(nginx.data_root, 'repos', 'warm'), ignore_errors=True)
        subprocess.run(['sync'], check=True)

        for rnd in range(a.rounds):
            repo = f'put{rnd}'
            request('PUT', f'{seg.base}/repos/{repo}', b'{}')
            targets = [(nginx, 'plain'), (seg, 'plain'), (seg, 'transaction')]
            if rnd % 2:
                targets.reverse()
            for size, conns in put_workloads:
                for server, mode in targets:
                    r = put(server, size, conns, mode, repo, f'round-{rnd + 1}')
                    results.append((('put', size, conns), f'{server.name}-{mode}', r))
            servers = [nginx, seg] if rnd % 2 == 0 else [seg, nginx]
            for size, conns in get_workloads:
                for server in servers:
                    r = get(server, size, conns, f'round-{rnd + 1}')
                    results.append((('get', size, conns), server.name, r))
            # keep the disk from filling: each round's PUT data goes (untimed)
            request('DELETE', f'{seg.base}/repos/{repo}')
            shutil.rmtree(os.path.join(nginx.data_root, 'repos', repo), ignore_errors=True)
            subprocess.run(['sync'], check=True)
            print(f'round {rnd + 1} of {a.rounds} done after {time.monotonic() - started:.0f} s', file=sys.stderr)
    finally:
        if client:
            client.close()
        for s in (seg, nginx):
            if s:
                s.stop()
        log.close()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    total = time.monotonic() - started
    report(a, info, command, seg_cmd, results, total)


def med(results, key, target, field):
    values = [r[field] for k, t, r in results if k == key and t == target]
    return statistics.median(values) if values else float('nan')


def paired(results, key, target, base):
    """The median over the rounds of each round's target/base ratio of req/s (the two ran back to back)."""
    by_round = {}
    for k, t, r in results:
        if k == key and t in (target, base):
            by_round.setdefault(r['label'], {})[t] = r['req_s']
    ratios = [v[target] / v[base] for v in by_round.values() if target in v and base in v and v[base]]
    return statistics.median(ratios) if ratios else float('nan')


def plus_sync(results, key):
    """nginx's rate when the sync after its run is counted: requests / (run + sync)."""
    values = [r['requests'] / (r['elapsed_s'] + r['end_s']) for k, t, r in results if k == key and t == 'nginx-plain']
    return statistics.median(values)


def report(a, info, command, seg_cmd, results, total):
    out = []
    p = out.append
    p(f'Measured {info["date"]}; {info["nproc"]} cores ({info["cpu"]}), {info["memory"]} RAM, kernel {info["kernel"]}.')
    p(f'Disk: `{info["df"]}`; `lsblk`: {" / ".join(info["lsblk"].splitlines()[1:])}.')
    p(f'JDK: {info["java"]}; {info["nginx"]}. Segstore: `{seg_cmd}`.')
    p(f'Command: `{command}` ({a.rounds} rounds of {a.duration:g} s runs; the whole run took {total / 60:.1f} min).')
    p('')
    p('PUT of new objects: requests/s (MiB/s), median of the rounds; ratio = Segstore / nginx (no fsync), the median of the '
      'rounds\' ratios (in each round the two ran back to back).')
    p('')
    p('| size | connections | nginx, no fsync | nginx + sync after the run | Segstore autocommit | ratio | Segstore transaction | ratio |')
    p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for key in sorted({k for k, _, _ in results if k[0] == 'put'}, key=lambda k: (k[1], k[2])):
        _, size, conns = key
        mib = size / (1 << 20)
        ng = med(results, key, 'nginx-plain', 'req_s')
        ngs = plus_sync(results, key)
        au = med(results, key, 'segstore-plain', 'req_s')
        tx = med(results, key, 'segstore-transaction', 'req_s')
        cell = (lambda v: f'{fmt(v)} ({fmt(v * mib, 1)})')
        p(f'| {human_size(size)} | {conns} | {cell(ng)} | {cell(ngs)} | {cell(au)} | {paired(results, key, "segstore-plain", "nginx-plain"):.2f} | {cell(tx)} | '
          f'{paired(results, key, "segstore-transaction", "nginx-plain"):.2f} |')
    p('')
    p('PUT latency, p50 / p99 in ms (median of the rounds):')
    p('')
    p('| size | connections | nginx | Segstore autocommit | Segstore transaction | Segstore commit at the end, ms |')
    p('| --- | ---: | ---: | ---: | ---: | ---: |')
    for key in sorted({k for k, _, _ in results if k[0] == 'put'}, key=lambda k: (k[1], k[2])):
        _, size, conns = key
        lat = (lambda t: f'{fmt(med(results, key, t, "p50_ms"), 2)} / {fmt(med(results, key, t, "p99_ms"), 2)}')
        p(f'| {human_size(size)} | {conns} | {lat("nginx-plain")} | {lat("segstore-plain")} | {lat("segstore-transaction")} | '
          f'{fmt(med(results, key, "segstore-transaction", "commit_ms"), 1)} |')
    p('')
    p('GET in random order of a preloaded set: requests/s (MiB/s) and p50 / p99 ms, median of the rounds; ratio as above.')
    p('')
    p('| size | connections | nginx | Segstore | ratio | nginx p50 / p99 | Segstore p50 / p99 |')
    p('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for key in sorted({k for k, _, _ in results if k[0] == 'get'}, key=lambda k: (k[1], k[2])):
        _, size, conns = key
        mib = size / (1 << 20)
        ng = med(results, key, 'nginx', 'req_s')
        sg = med(results, key, 'segstore', 'req_s')
        lat = (lambda t: f'{fmt(med(results, key, t, "p50_ms"), 2)} / {fmt(med(results, key, t, "p99_ms"), 2)}')
        p(f'| {human_size(size)} | {conns} | {fmt(ng)} ({fmt(ng * mib, 1)}) | {fmt(sg)} ({fmt(sg * mib, 1)}) | {paired(results, key, "segstore", "nginx"):.2f} | '
          f'{lat("nginx")} | {lat("segstore")} |')
    p('')
    p('Server CPU per request in µs (user + system of the server processes during the run; median of the rounds), '
      'and the load client\'s own CPU per request:')
    p('')
    p('| workload | connections | nginx | Segstore autocommit | Segstore transaction | client (against Segstore autocommit / nginx) | other processes, cores (Segstore autocommit / nginx) |')
    p('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')

    def other(key, target):
        """CPU of every other process on the machine during the run, in cores: the noise."""
        vals = [(r['machine_busy_s'] - r['server_cpu_s'] - r['client_cpu_s']) / r['elapsed_s'] for k, t, r in results
                if k == key and t == target]
        return f'{max(0.0, statistics.median(vals)):.2f}' if vals else ''

    def cpu(key, target, field='server_cpu_s'):
        vals = [r[field] / r['requests'] * 1e6 for k, t, r in results if k == key and t == target and r['requests']]
        return fmt(statistics.median(vals)) if vals else ''
    for key in sorted({k for k, _, _ in results}, key=lambda k: (k[0] != 'put', k[1], k[2])):
        op, size, conns = key
        if op == 'put':
            p(f'| PUT {human_size(size)} | {conns} | {cpu(key, "nginx-plain")} | {cpu(key, "segstore-plain")} | '
              f'{cpu(key, "segstore-transaction")} | {cpu(key, "segstore-plain", "client_cpu_s")} / {cpu(key, "nginx-plain", "client_cpu_s")} | '
              f'{other(key, "segstore-plain")} / {other(key, "nginx-plain")} |')
        else:
            p(f'| GET {human_size(size)} | {conns} | {cpu(key, "nginx")} | {cpu(key, "segstore")} | | '
              f'{cpu(key, "segstore", "client_cpu_s")} / {cpu(key, "nginx", "client_cpu_s")} | {other(key, "segstore")} / {other(key, "nginx")} |')
    print('\n'.join(out))


if __name__ == '__main__':
    main()
