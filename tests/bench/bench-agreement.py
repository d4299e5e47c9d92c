#!/usr/bin/env python3
"""bench-agreement.py — how often ranking through the word lists gives another
first page than ranking without them.

Takes a home made by bench-search.py (--keep DIR, then DIR/home-N) and its
queries.tsv. Copies the home's kho.db, has kho rebuild the copy's index with
no word lists ($KHO_TIER_MIN_DF set past any word's count), then runs every
query (as `kho search --json`, limit 10; `--prefix` for the prefix class,
`--suggest` for completions) on both and prints, per class, the mean overlap
of the two first pages (shared lessons / 10), how often the first result is
the same, and how often the two pages are identical in order.

Without lists, a search takes its candidates from FTS5's bm25 over every
match (the 50 best, then scored from their text): the reference here.

Usage: tests/bench/bench-agreement.py --kho PATH HOME QUERIES.tsv
Python standard library only.
"""
import argparse
import collections
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile


def search(kho, home, cls, text, env):
    args = [kho, '--home', home, 'search', '--json', '--limit', '10']
    if cls == 'prefix':
        args.append('--prefix')
    if cls == 'complete':
        args.append('--suggest')
    if cls == 'filtered':
        text, grade = text.rsplit('\t', 1) if '\t' in text else (text, None)
        if grade:
            args += ['--grade', grade]
    r = subprocess.run(args + ['--', text], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f'kho search failed for {text!r}: {r.stderr.strip()}')
    out = json.loads(r.stdout)
    rows = out.get('results', out.get('suggestions', []))
    return [f"{h['pack']}/{h['lesson']}" for h in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kho', required=True)
    ap.add_argument('home')
    ap.add_argument('queries')
    args = ap.parse_args()

    queries = []
    with open(args.queries, encoding='utf-8') as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) >= 2:
                queries.append((parts[0], '\t'.join(parts[1:])))

    work = tempfile.mkdtemp(prefix='kho-agreement-')
    try:
        ref = os.path.join(work, 'home')
        os.makedirs(ref)
        src = sqlite3.connect(os.path.join(args.home, 'kho.db'))
        dst = sqlite3.connect(os.path.join(ref, 'kho.db'))
        src.backup(dst)
        src.close()
        # an index of another format is rebuilt on open
        dst.execute("UPDATE index_meta SET value = '0' WHERE key = 'format'")
        dst.commit()
        dst.close()
        env_ref = dict(os.environ, KHO_TIER_MIN_DF=str(10 ** 12))
        subprocess.run([args.kho, '--home', ref, 'search', 'x'], capture_output=True,
                       env=env_ref, check=True)
        lists = sqlite3.connect(os.path.join(ref, 'kho.db')).execute(
            'SELECT count(*) FROM index_tier').fetchone()[0]
        if lists:
            sys.exit('the reference home still has word lists')

        stats = collections.defaultdict(lambda: [0, 0.0, 0, 0])
        for cls, text in queries:
            a = search(args.kho, args.home, cls, text, os.environ)
            b = search(args.kho, ref, cls, text, env_ref)
            s = stats[cls]
            s[0] += 1
            s[1] += len(set(a) & set(b)) / max(len(b), 1)
            s[2] += bool(a) and bool(b) and a[0] == b[0]
            s[3] += a == b
        print(f"{'class':10} {'queries':>7} {'overlap@10':>10} {'same first':>10} {'same page':>9}")
        for cls, (n, overlap, first, page) in stats.items():
            print(f'{cls:10} {n:7d} {overlap / n:10.2f} {first / n:10.2f} {page / n:9.2f}')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
