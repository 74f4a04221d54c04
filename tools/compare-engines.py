#!/usr/bin/python3
"""Segstore's engine against Borg 1.2's, side by side on this machine.

Runs the same workload (put+commit, random gets, delete+commit, compact, check) with
`java -jar target/segstore.jar bench` and with tools/borg-engine-bench.py, alternating the two so
that both see the same machine state, several times per object size; then the 10-million-object
index figures once each. Prints a Markdown table of medians and the Segstore/Borg ratios.

Usage: /usr/bin/python3 tools/compare-engines.py [--repeat 3] [--workdir /tmp/segstore-compare]
       [--skip-10m]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JAR = os.path.join(ROOT, 'target', 'segstore.jar')
BORG_BENCH = os.path.join(HERE, 'borg-engine-bench.py')

WORKLOADS = [(100_000, 4096), (2_000, 1024 * 1024)]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


def segstore(workdir, count, size, index_only=False):
    cmd = ['java', '-jar', JAR, 'bench', '--count', str(count), '--size', str(size)]
    if index_only:
        cmd.append('--index-only')
    result = run_json(cmd + [fresh(os.path.join(workdir, 'segstore'))])
    fresh(os.path.join(workdir, 'segstore'))
    return result


def borg(workdir, count, size, index_figures=False):
    cmd = ['/usr/bin/python3', BORG_BENCH, '--count', str(count), '--size', str(size)]
    if index_figures:
        cmd.append('--index-figures')
    result = run_json(cmd + [fresh(os.path.join(workdir, 'borg'))])
    fresh(os.path.join(workdir, 'borg'))
    return result


def device_ceiling(workdir, nbytes):
    """Seconds dd needs to write nbytes and fdatasync them: no engine can put+commit faster."""
    target = os.path.join(workdir, 'ddtest')
    times = []
    for _ in range(3):
        start = time.monotonic()
        subprocess.run(['dd', 'if=/dev/zero', f'of={target}', 'bs=4M', f'count={max(1, nbytes // (4 << 20))}', 'conv=fdatasync'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
        os.remove(target)
    return statistics.median(times)


def median(runs, *path):
    values = []
    for r in runs:
        v = r
        for p in path:
            v = v[p]
        values.append(float(v))
    return statistics.median(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--workdir', default='/tmp/segstore-compare')
    ap.add_argument('--skip-10m', action='store_true')
    args = ap.parse_args()
    if not os.path.exists(JAR):
        sys.exit('build the jar first: ./mvnw -q package -DskipTests')
    os.makedirs(args.workdir, exist_ok=True)

    print(f'# {time.strftime("%Y-%m-%d %H:%M %Z")}, {os.cpu_count()} cores, median of {args.repeat} alternating runs\n')
    for count, size in WORKLOADS:
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(segstore(args.workdir, count, size))
            theirs.append(borg(args.workdir, count, size))
        print(f'## {count} objects of {size} bytes\n')
        print('| phase | Segstore | Borg 1.2 | ratio |')
        print('| --- | ---: | ---: | ---: |')
        rows = [('put+commit objects/s', ('put_commit', 'obj_per_s')), ('put+commit MB/s', ('put_commit', 'MB_per_s')),
                ('get objects/s', ('get', 'obj_per_s')), ('get MB/s', ('get', 'MB_per_s')),
                ('delete+commit objects/s', ('delete_commit', 'obj_per_s')), ('check MB/s', ('check', 'MB_per_s'))]
        for label, path in rows:
            a, b = median(ours, *path), median(theirs, *path)
            print(f'| {label} | {a:,.0f} | {b:,.0f} | {a / b:.2f}x |')
        a, b = median(ours, 'compact', 's'), median(theirs, 'compact', 's')
        print(f'| compact seconds | {a:.3f} | {b:.3f} | {b / a:.2f}x faster |')
        ceiling = device_ceiling(args.workdir, count * (size + 41))
        put = median(ours, 'put_commit', 's')
        print(f'\nDevice ceiling: dd writes and fdatasyncs the same {count * (size + 41) / 1e6:.0f} MB in {ceiling:.3f} s; '
              f'Segstore\'s put+commit takes {put:.3f} s ({ceiling / put:.0%} of the ceiling), Borg\'s '
              f'{median(theirs, "put_commit", "s"):.3f} s.')
        print()
        print('raw runs:', json.dumps({'segstore': ours, 'borg': theirs}))
        print()

    if not args.skip_10m:
        ours = segstore(args.workdir, 10_000_000, 0, index_only=True)
        theirs = borg(args.workdir, 10_000_000, 0, index_figures=True)['index_figures']
        print('## 10,000,000 empty objects (index cost)\n')
        print('| figure | Segstore | Borg 1.2 | ratio |')
        print('| --- | ---: | ---: | ---: |')
        print(f'| put+commit seconds | {ours["put_commit"]["s"]:.2f} | {theirs["build"]["s"]:.2f} | '
              f'{theirs["build"]["s"] / ours["put_commit"]["s"]:.1f}x faster |')
        print(f'| open with a valid index, seconds | {ours["open_with_index"]["s"]:.3f} | {theirs["open_with_index"]["s"]:.3f} | '
              f'{theirs["open_with_index"]["s"] / ours["open_with_index"]["s"]:.1f}x faster |')
        print(f'| replay without an index, seconds | {ours["replay_without_index"]["s"]:.2f} | {theirs["open_replay"]["s"]:.2f} | '
              f'{theirs["open_replay"]["s"] / ours["replay_without_index"]["s"]:.1f}x faster |')
        print(f'| index memory, bytes per object | {ours["index_bytes_per_object"]:.1f} | '
              f'{theirs["nsindex"]["table_bytes_per_object"]:.1f} | {theirs["nsindex"]["table_bytes_per_object"] / ours["index_bytes_per_object"]:.2f}x less |')
        print()
        print('raw runs:', json.dumps({'segstore': ours, 'borg': theirs}))


if __name__ == '__main__':
    main()
