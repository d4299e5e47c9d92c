#!/usr/bin/env python3
"""bench-usage.py — what counting searches for the centre costs `kho serve` (docs/privacy.md).

On a box with the bundled packs, runs wrk over a mix of searches (/api/search, each counted:
one short transaction) with reporting off and on, alternately, and prints requests/s and
latency percentiles of each, and how many searches the box could not count because another
request held the store's write lock longer than a recording waits (each is logged as
"usage not recorded"). What must hold: counting never fails a request (errors 0).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
WORDS = ["phân số", "diện tích", "hình tròn", "số thập phân", "vận tốc", "quãng đường", "tế bào",
         "quang hợp", "nguyên tử", "lực", "âm thanh", "ánh sáng", "thực vật", "động vật", "nước",
         "không khí", "năng lượng", "tỉ số phần trăm", "hình hộp chữ nhật", "thể tích",
         "duong tron", "phan so", "dien tich", "van toc", "te bao", "zzqxy wwvvk", "trung thực",
         "gia đình", "lịch sử", "địa lí", "thuật toán", "vòng lặp", "biến", "máy tính",
         "tiếng anh", "từ vựng", "ngữ pháp", "bài thơ", "truyện ngắn", "số tự nhiên"]


def wrk(url, seconds, connections, script):
    out = subprocess.run(['wrk', f'-t{min(2, connections)}', f'-c{connections}', f'-d{seconds}s', '--latency', '-s', script, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
    total = int(re.search(r'(\d+) requests in', out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r'^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$', out, re.M):
        lat[pct] = float(value) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    return rps, lat, total, int(errors.group(1)) if errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kho', default=os.path.join(SOURCE_ROOT, 'build-release', 'tools', 'kho'))
    ap.add_argument('--seconds', type=int, default=10, help='seconds of each wrk run (default 10)')
    ap.add_argument('--connections', type=int, default=4, help='wrk connections (default 4)')
    ap.add_argument('--rounds', type=int, default=3, help='off/on pairs (default 3)')
    args = ap.parse_args()
    if not shutil.which('wrk'):
        print('skipped: wrk is not installed (apt-get install wrk)')
        sys.exit(77)
    kho = os.path.abspath(args.kho)
    work = tempfile.mkdtemp(prefix='kho-bench-usage-')
    try:
        home = os.path.join(work, 'home')
        env = dict(os.environ, KHO_BUNDLED_DIR=os.path.join(SOURCE_ROOT, 'content-packs', 'packs'))
        subprocess.run([kho, '--home', home, '--quiet', 'import', '--bundled'], check=True, env=env)
        script = os.path.join(work, 'mix.lua')
        paths = ['/api/search?q=' + urllib.parse.quote(w) for w in WORDS]
        with open(script, 'w') as f:
            f.write('local paths = {\n%s\n}\nlocal i = 0\n' % ',\n'.join(json.dumps(p) for p in paths))
            f.write('request = function()\n  i = i % #paths + 1\n'
                    '  return wrk.format("GET", paths[i])\nend\n')
        log = open(os.path.join(work, 'serve.log'), 'w+')
        p = subprocess.Popen([kho, '--home', home, 'serve', '--listen', '127.0.0.1:0'],
                             stdout=subprocess.PIPE, stderr=log)
        line = p.stdout.readline().decode()
        url = line[line.index('http://'):].split()[0]
        for path in paths:
            urllib.request.urlopen(url + path.lstrip('/')).read()
        results = {'off': [], 'on': []}
        for _ in range(args.rounds):
            for mode in ('off', 'on'):
                subprocess.run([kho, '--home', home, 'usage', mode], check=True, capture_output=True)
                log.seek(0, 2)
                start = log.tell()
                rps, lat, total, errors = wrk(url, args.seconds, args.connections, script)
                log.flush()
                log.seek(start)
                dropped = log.read().count('usage not recorded')
                results[mode].append((rps, lat, total, errors, dropped))
        p.terminate()
        p.wait()
        print(f'kho serve, bundled packs, {len(paths)} searches in the mix; wrk -t{min(2, args.connections)} '
              f'-c{args.connections}, {args.seconds} s per run, {args.rounds} runs each')
        for mode in ('off', 'on'):
            runs = results[mode]
            best = max(runs, key=lambda r: r[0])
            med = sorted(runs, key=lambda r: r[1].get('99', 0))[len(runs) // 2]
            print(f'reporting {mode:3}: {best[0]:.0f} req/s (best run); p50 {med[1].get("50", 0):.2f} ms, '
                  f'p99 {med[1].get("99", 0):.2f} ms (median run); errors {sum(r[3] for r in runs)}; '
                  f'searches not counted {sum(r[4] for r in runs)} of {sum(r[2] for r in runs)}')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
