#!/usr/bin/env python3
"""bench-serve.py — how fast `kho serve` answers, measured with wrk.

On a 100,000-lesson store made by bench-search.py's corpus generator (or a kept one,
--home), starts `kho serve` on a free loopback port and measures:
  cold start  from starting the process to the first answer of a search (ms);
  search mix  wrk over the queries of bench-search (every class: common, rare, phrase,
              prefix as typed, question, filtered, completions through /api/suggest),
              requests/s and latency percentiles;
  static file wrk on one lesson file (/files/…), requests/s and latency;
  RSS         the server's peak resident memory (VmHWM) after both runs.
Targets (issue 4, on this 2-core machine, wrk on the same machine): search ≥ 500 req/s
with p99 ≤ 50 ms; static file ≥ 5,000 req/s; RSS ≤ 64 MB; cold start ≤ 300 ms.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))


def load_bench_search():
    spec = importlib.util.spec_from_file_location('bench_search', os.path.join(HERE, 'bench-search.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_store(kho, work, lessons):
    """A store of `lessons` lessons and its queries.tsv, as bench-search.py makes them."""
    bs = load_bench_search()
    if not os.path.exists(bs.ARCHIVE):
        print(f'skipped: {bs.ARCHIVE} is absent')
        sys.exit(77)
    subprocess.run(['tar', '--zstd', '-xf', bs.ARCHIVE, '-C', work], check=True)
    corpus = bs.Corpus(bs.read_sentences(os.path.join(work, 'vi-wiki')))
    queries = os.path.join(work, 'queries.tsv')
    bs.make_queries(corpus, lessons, 20, queries)
    packs = []
    for p in range(lessons // bs.PACK_SIZE):
        path = os.path.join(work, 'packs', f'p{p:03d}')
        bs.write_pack(corpus, path, p)
        packs.append(path)
    home = os.path.join(work, 'home')
    subprocess.run([kho, '--home', home, '--quiet', 'import'] + packs, check=True)
    shutil.rmtree(os.path.join(work, 'packs'))
    shutil.rmtree(os.path.join(work, 'vi-wiki'))
    return home, queries


def query_paths(queries_tsv):
    paths = []
    for line in open(queries_tsv, encoding='utf-8'):
        parts = line.rstrip('\n').split('\t')
        cls, text = parts[0], parts[1]
        q = urllib.parse.quote(text)
        if cls == 'complete':
            paths.append(f'/api/suggest?q={q}&limit=8')
        elif cls == 'prefix':
            paths.append(f'/api/search?q={q}&prefix=1')
        elif cls == 'filtered':
            paths.append(f'/api/search?q={q}&grade={parts[2]}')
        else:
            paths.append(f'/api/search?q={q}')
    return paths


def start(kho, home):
    """(process, url, ms from exec to the first answer of a search)."""
    t0 = time.monotonic()
    p = subprocess.Popen([kho, '--home', home, '--quiet', 'serve', '--listen', '127.0.0.1:0'],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    url = line[line.index('http://'):].split()[0]
    with urllib.request.urlopen(url + 'api/search?q=h%E1%BB%8Dc') as r:
        r.read()
    return p, url, (time.monotonic() - t0) * 1000


def wrk(url, seconds, connections, script=None):
    cmd = ['wrk', '-t2', f'-c{connections}', f'-d{seconds}s', '--latency']
    if script:
        cmd += ['-s', script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r'^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$', out, re.M):
        lat[pct] = float(value) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    return rps, lat, int(errors.group(1)) if errors else 0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kho', default=os.path.join(SOURCE_ROOT, 'build-release', 'tools', 'kho'))
    ap.add_argument('--home', help='a kept store (with queries.tsv beside it) instead of a new one')
    ap.add_argument('--lessons', type=int, default=100000, help='lessons of a new store (default 100,000)')
    ap.add_argument('--seconds', type=int, default=20, help='seconds of each wrk run (default 20)')
    args = ap.parse_args()
    if not shutil.which('wrk'):
        print('skipped: wrk is not installed (apt-get install wrk)')
        sys.exit(77)
    kho = os.path.abspath(args.kho)
    work = tempfile.mkdtemp(prefix='kho-bench-serve-')
    try:
        if args.home:
            home = os.path.abspath(args.home)
            queries = os.path.join(os.path.dirname(home), 'queries.tsv')
        else:
            t = time.monotonic()
            home, queries = make_store(kho, work, args.lessons)
            print(f'store of {args.lessons} lessons made in {time.monotonic() - t:.0f} s', flush=True)
        paths = query_paths(queries)
        script = os.path.join(work, 'mix.lua')
        with open(script, 'w') as f:
            f.write('local paths = {\n%s\n}\nlocal i = 0\n' % ',\n'.join(json.dumps(p) for p in paths))
            f.write('request = function()\n  i = i % #paths + 1\n'
                    '  return wrk.format("GET", paths[i])\nend\n')

        colds = []
        for _ in range(3):  # the page cache is warm after the first; each run is a new process
            p, url, ms = start(kho, home)
            colds.append(ms)
            p.terminate()
            p.wait()
        p, url, _ = start(kho, home)
        with urllib.request.urlopen(url + 'api/search?q=h%E1%BB%8Dc') as r:
            hit = json.load(r)['results'][0]
        with urllib.request.urlopen(url + f"api/lessons/{hit['pack']}/{hit['lesson']}") as r:
            file_path = json.load(r)['file']
        # every query once, so that the mix measures the steady state
        for path in paths:
            urllib.request.urlopen(url + path.lstrip('/')).read()
        s_rps, s_lat, s_err, _ = wrk(url, args.seconds, 16, script)
        f_rps, f_lat, f_err, _ = wrk(url + file_path.lstrip('/'), args.seconds, 32)
        rss = 0
        for line in open(f'/proc/{p.pid}/status'):
            if line.startswith('VmHWM:'):
                rss = int(line.split()[1]) / 1024
        p.terminate()
        p.wait()

        def mark(ok):
            return 'met' if ok else 'NOT met'
        print(f'\nkho serve on {home} ({len(paths)} queries in the mix; wrk -t2, {args.seconds} s)')
        print(f'cold start to first answer: {min(colds):.0f} ms (runs: '
              f'{", ".join(f"{c:.0f}" for c in colds)})  target <= 300 ms: {mark(max(colds) <= 300)}')
        print(f'search mix, 16 connections: {s_rps:.0f} req/s, p50 {s_lat.get("50", 0):.1f} ms, '
              f'p90 {s_lat.get("90", 0):.1f} ms, p99 {s_lat.get("99", 0):.1f} ms, errors {s_err}  '
              f'target >= 500 req/s, p99 <= 50 ms: {mark(s_rps >= 500 and s_lat.get("99", 1e9) <= 50)}')
        print(f'static file {file_path}, 32 connections: {f_rps:.0f} req/s, p50 '
              f'{f_lat.get("50", 0):.2f} ms, p99 {f_lat.get("99", 0):.2f} ms, errors {f_err}  '
              f'target >= 5000 req/s: {mark(f_rps >= 5000)}')
        print(f'server peak RSS: {rss:.1f} MiB  target <= 64 MB: {mark(rss <= 64 * 1e6 / 2**20)}')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
