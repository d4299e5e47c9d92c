#!/usr/bin/env python3
"""bench-search.py — how fast kho searches 100,000 and 1,000,000 lessons, beside plain FTS5.

Builds corpora of N lessons from the Vietnamese Wikipedia sample in
../shared/testdata (vi-wiki.tar.zst): the articles are split into sentences,
and each lesson is a title of 2-6 words, 3 keywords and 5-15 sentences drawn
with a fixed seed (about 1 KB of text), in a unit of 100 lessons, with one of
six subjects and a grade from 1 to 12. The lessons are written as folder packs
of 10,000 lessons and imported with one `kho import` into a fresh home under
/usr/bin/time (seconds, MB/s of stored lesson text, peak RSS). Lesson i is
the same in every corpus, so the 100,000 corpus is the start of the 1,000,000
one and its packs are reused.

Queries are drawn from the corpus (fixed seed) in the classes of issue 3:
common (a very common syllable, "học" first), rare (a word in a handful of
lessons), phrase (a frequent two-syllable phrase), prefix (2 letters, typed:
typing = true), question (12 words), filtered (a common word with a grade
filter), and complete (completions: a word and the start of the next,
typing = true, limit 8). Then
  * build/tests/indexer/bench-search HOME QUERIES.tsv times kho_index_search()
    (limit 10, with snippets, total and facets, as `kho search` does), under
    /usr/bin/time for its peak RSS;
  * the same lesson text (read back from kho.db: title, keywords, unit_title,
    summary, body) goes into a plain FTS5 table (tokenize='unicode61
    remove_diacritics 2') and the same queries run there: the words,
    double-quoted, joined with OR (the last one a prefix when typed), ranked
    by bm25(t, 10, 6, 3, 2, 1) LIMIT 10, then snippet() for the 10 hits, then
    one GROUP BY pack, grade, subject over the whole result set (facets and
    total); completions are the 8 best titles.
Prints, per corpus size, a table of p50/p99 ms per class for both, index size
divided by raw lesson text (kho: the lesson_fts% tables, the word lists
index_tier with its index and index_docs, from dbstat; plain: its FTS5 tables without the
_content copy), import MB/s and peak RSS.

Usage: tests/bench/bench-search.py [--kho PATH] [--bench PATH] [--sizes 100000,1000000]
                                   [--keep DIR] [--queries N] [--repeat R] [--skip-plain]
Defaults: --kho /tmp/build-bench/tools/kho if present, else build-release/tools/kho;
--bench beside it (tests/indexer/bench-search); --sizes 100000; --queries 20 per
class; --repeat 10 runs of each query after one warm-up (sizes of 1,000,000 and
more use at most 3). Work happens in a new folder under $TMPDIR (or DIR with
--keep, which keeps everything). A 100,000 corpus needs about 0.5 GB of disk,
1,000,000 about 5 GB.
Exit codes: 0 done, 1 failure, 77 (skip) without the test data.
Python standard library only.
"""
import argparse
import html
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
TESTDATA = os.environ.get('KHO_TESTDATA',
                          os.path.join(os.path.dirname(SOURCE_ROOT), 'shared', 'testdata'))
ARCHIVE = os.path.join(TESTDATA, 'vi-wiki.tar.zst')
TIME = '/usr/bin/time'

PACK_SIZE = 10000
UNIT_SIZE = 100
SEED = 2024
SUBJECTS = ['toan', 'tieng-viet', 'khtn', 'lich-su', 'dia-ly', 'tin-hoc']
CLASSES = ['common', 'rare', 'phrase', 'prefix', 'question', 'filtered']
WEIGHTS = '10, 6, 3, 2, 1'


def skip(msg):
    print(f'bench-search: skipped: {msg}', file=sys.stderr)
    sys.exit(77)


def fail(msg):
    print(f'bench-search: {msg}', file=sys.stderr)
    sys.exit(1)


WORD = re.compile(r'\w+')
SENTENCE_END = re.compile(r'(?<=[.!?])\s+')


def words_of(text):
    return [w for w in WORD.findall(text.lower()) if w.isalpha()]


def read_sentences(folder):
    """Every sentence of the articles (no headings, lists or tables), NFC, in a
    fixed order, without repeats."""
    seen = set()
    out = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.txt') or not name[0].isdigit():
            continue
        with open(os.path.join(folder, name), encoding='utf-8', errors='replace') as f:
            for line in f:
                line = unicodedata.normalize('NFC', line.strip())
                if not line or line.startswith('=') or '|' in line:
                    continue
                for s in SENTENCE_END.split(line):
                    s = s.strip()
                    if 30 <= len(s) <= 200 and len(s.split()) >= 5 and s not in seen:
                        seen.add(s)
                        out.append(s)
    return out


class Corpus:
    """Lesson i, always the same: title, keywords, subject, grade, paragraphs."""

    def __init__(self, sentences):
        self.sentences = sentences
        self.words = [s.split() for s in sentences]

    def few_words(self, rng, lo, hi):
        ws = self.words[rng.randrange(len(self.words))]
        n = min(rng.randint(lo, hi), len(ws))
        start = rng.randrange(len(ws) - n + 1)
        text = ' '.join(w.strip('.,;:!?()[]"“”\'') for w in ws[start:start + n]).strip()
        return text or 'Bài học'

    def lesson(self, i):
        rng = random.Random(SEED * 1000003 + i)
        title = self.few_words(rng, 2, 6)
        title = title[0].upper() + title[1:]
        keywords = ', '.join(self.few_words(rng, 1, 2) for _ in range(3))
        subject = SUBJECTS[rng.randrange(len(SUBJECTS))]
        grade = rng.randint(1, 12)
        n = rng.randint(5, 15)
        picked = [self.sentences[rng.randrange(len(self.sentences))] for _ in range(n)]
        cut = sorted(rng.sample(range(1, n), min(2, n - 1)))
        paras = [' '.join(picked[a:b]) for a, b in zip([0] + cut, cut + [n]) if a < b]
        return title, keywords, subject, grade, paras

    def unit_title(self, u):
        rng = random.Random(SEED * 7 + u)
        return f'Chủ đề {u + 1}: {self.few_words(rng, 2, 4)}'


def write_pack(corpus, path, p):
    """Pack p: lessons p*PACK_SIZE … (p+1)*PACK_SIZE-1, as a folder."""
    os.makedirs(os.path.join(path, 'lessons'))
    m = ['<?xml version="1.0" encoding="UTF-8"?>\n',
         f'<pack xmlns="urn:kho:pack:1" id="bench.search.p{p:03d}" version="1" xml:lang="vi">\n',
         f'  <title>Gói đo tìm kiếm {p + 1}</title>\n',
         '  <license>CC-BY-SA-4.0</license>\n']
    first = p * PACK_SIZE
    for u0 in range(first, first + PACK_SIZE, UNIT_SIZE):
        u = u0 // UNIT_SIZE
        m.append(f'  <unit id="u{u}">\n'
                 f'    <title>{html.escape(corpus.unit_title(u), quote=False)}</title>\n')
        for i in range(u0, u0 + UNIT_SIZE):
            title, keywords, subject, grade, paras = corpus.lesson(i)
            with open(os.path.join(path, 'lessons', f'{i}.html'), 'w', encoding='utf-8') as f:
                f.write('<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
                        f'<title>{html.escape(title)}</title></head><body>\n'
                        f'<h1>{html.escape(title)}</h1>\n'
                        + ''.join(f'<p>{html.escape(t)}</p>\n' for t in paras)
                        + '</body></html>\n')
            m.append(f'    <lesson id="l{i}" href="lessons/{i}.html">'
                     f'<title>{html.escape(title, quote=False)}</title>'
                     f'<keywords>{html.escape(keywords, quote=False)}</keywords>'
                     f'<subject>{subject}</subject><grade>{grade}</grade></lesson>\n')
        m.append('  </unit>\n')
    m.append('</pack>\n')
    with open(os.path.join(path, 'manifest.xml'), 'w', encoding='utf-8') as f:
        f.write(''.join(m))


def make_queries(corpus, n_lessons, per_class, path):
    """QUERIES.tsv from the first n_lessons lessons; returns the list of
    (class, text, grade)."""
    df = Counter()
    for i in range(n_lessons):
        title, keywords, _, _, paras = corpus.lesson(i)
        df.update(set(words_of(' '.join([title, keywords] + paras))))
    rng = random.Random(SEED + 1)
    by_df = [w for w, _ in df.most_common() if len(w) >= 2]
    bigrams = Counter()
    for ws in corpus.words:
        ws = [w.lower() for w in ws]
        for a, b in zip(ws, ws[1:]):
            if a.isalpha() and b.isalpha() and a != b:
                bigrams[a + ' ' + b] += 1
    top_bigrams = [b for b, _ in bigrams.most_common(600)]

    q = []
    common = ['học'] + [w for w in by_df[:per_class + 1] if w != 'học']
    q += [('common', w, '') for w in common[:per_class]]
    rare = [w for w, c in df.items() if 2 <= c <= 10 and len(w) >= 4]
    rare.sort()
    q += [('rare', w, '') for w in rng.sample(rare, min(per_class, len(rare)))]
    q += [('phrase', b, '') for b in rng.sample(top_bigrams[20:], per_class)]
    prefixes = []
    for w in by_df[:300]:
        p = w[:2]
        if len(p) == 2 and p not in prefixes:
            prefixes.append(p)
    q += [('prefix', p, '') for p in prefixes[:per_class]]
    long = [ws for ws in corpus.words if len(ws) >= 14]
    for _ in range(per_class):
        ws = long[rng.randrange(len(long))]
        start = rng.randrange(len(ws) - 10 + 1)
        body = ' '.join(w.strip('.,;:!?()[]"“”\'') for w in ws[start:start + 10])
        q.append(('question', f'Vì sao {body.lower()}?', ''))
    mid = by_df[20:300]
    q += [('filtered', w, str(rng.randint(1, 12))) for w in rng.sample(mid, per_class)]
    for k in range(per_class):
        a, b = rng.choice(top_bigrams[:300]).split()
        q.append(('complete', f'{a} {b[:1 + k % 3]}' if k % 2 == 0 else a[:3], ''))
    with open(path, 'w', encoding='utf-8') as f:
        for cls, text, grade in q:
            f.write(f'{cls}\t{text}' + (f'\t{grade}' if grade else '') + '\n')
    return q


def timed(cmd, timing):
    """Runs cmd under /usr/bin/time; returns (stdout, wall s, user s, peak RSS kB)."""
    r = subprocess.run([TIME, '-f', '%e %U %S %M', '-o', timing] + cmd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail(f'{" ".join(cmd[:4])} … failed ({r.returncode}):\n{r.stdout[-3000:]}{r.stderr[-3000:]}')
    with open(timing) as f:
        wall, user, system, rss = f.read().split()[-4:]
    return r.stdout, float(wall), float(user), int(rss)


def kho_sizes(db_path):
    """(raw lesson text bytes, kho index bytes, lessons, db bytes)."""
    db = sqlite3.connect(f'file:{db_path}?mode=ro', uri=True)
    try:
        n, raw = db.execute(
            'SELECT count(*), sum(length(CAST(title AS BLOB)) + length(CAST(keywords AS BLOB))'
            ' + length(CAST(unit_title AS BLOB)) + length(CAST(summary AS BLOB))'
            ' + length(CAST(body AS BLOB))) FROM lessons').fetchone()
        # the FTS5 tables, the word lists and the list of indexed lessons
        idx = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'lesson_fts%'"
                         " OR name IN ('index_tier', 'sqlite_autoindex_index_tier_1', 'index_docs')").fetchone()[0]
    finally:
        db.close()
    return raw or 0, idx or 0, n, os.path.getsize(db_path)


def build_plain(kho_db, path):
    """The plain FTS5 database of the same lesson text; returns its index bytes
    (FTS5 tables without the _content copy of the text) and build seconds."""
    src = sqlite3.connect(f'file:{kho_db}?mode=ro', uri=True)
    db = sqlite3.connect(path)
    db.execute('PRAGMA journal_mode=OFF')
    db.execute('PRAGMA synchronous=OFF')
    db.execute('CREATE VIRTUAL TABLE t USING fts5(title, keywords, unit_title, summary, body,'
               " tokenize='unicode61 remove_diacritics 2')")
    db.execute('CREATE TABLE meta (id INTEGER PRIMARY KEY, pack TEXT, grade TEXT, subject TEXT)')
    start = time.monotonic()
    rows = src.execute('SELECT l.id, l.title, l.keywords, l.unit_title, l.summary, l.body,'
                       ' v.pack_id, l.grades, l.subjects'
                       ' FROM lessons l JOIN pack_versions v ON v.id = l.pv ORDER BY l.id')
    while True:
        batch = rows.fetchmany(5000)
        if not batch:
            break
        db.executemany('INSERT INTO t (rowid, title, keywords, unit_title, summary, body)'
                       ' VALUES (?, ?, ?, ?, ?, ?)', [r[:6] for r in batch])
        db.executemany('INSERT INTO meta VALUES (?, ?, ?, ?)',
                       [(r[0], r[6], r[7], r[8]) for r in batch])
    db.commit()
    secs = time.monotonic() - start
    src.close()
    idx = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 't_%'"
                     " AND name != 't_content'").fetchone()[0]
    db.close()
    return idx, secs


def plain_expression(text, typing):
    words = []
    for word in text.split():
        word = ''.join(c for c in word if unicodedata.category(c)[0] in 'LNM')
        if word:
            words.append('"%s"' % word)
    if typing and words and not text.endswith(' '):
        words[-1] += '*'
    return ' OR '.join(words)


def percentile(sorted_v, p):
    if not sorted_v:
        return 0.0
    rank = max(1, min(len(sorted_v), int(p / 100 * len(sorted_v) + 0.999999)))
    return sorted_v[rank - 1]


def run_plain(path, queries, repeat):
    """class -> (p50, p99, mean total) in ms over every run of its queries."""
    db = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    rank_sql = ('SELECT t.rowid FROM t JOIN meta m ON m.id = t.rowid WHERE t MATCH ?1'
                ' AND (?2 IS NULL OR m.grade = ?2)'
                f' ORDER BY bm25(t, {WEIGHTS}), t.rowid LIMIT 10')
    snip_sql = ("SELECT title, snippet(t, 4, '<mark>', '</mark>', '…', 16) FROM t"
                ' WHERE t MATCH ?1 AND rowid = ?2')
    facet_sql = ('SELECT m.pack, m.grade, m.subject, count(*) FROM t JOIN meta m ON m.id = t.rowid'
                 ' WHERE t MATCH ?1 AND (?2 IS NULL OR m.grade = ?2) GROUP BY 1, 2, 3')
    complete_sql = f'SELECT title FROM t WHERE t MATCH ?1 ORDER BY bm25(t, {WEIGHTS}), rowid LIMIT 8'
    samples, totals = {}, {}
    for cls, text, grade in queries:
        expr = plain_expression(text, cls in ('prefix', 'complete'))
        grade = grade or None
        total = 0
        for r in range(repeat + 1):
            start = time.perf_counter()
            if cls == 'complete':
                db.execute(complete_sql, (expr,)).fetchall()
            else:
                ids = [row[0] for row in db.execute(rank_sql, (expr, grade))]
                for i in ids:
                    db.execute(snip_sql, (expr, i)).fetchall()
                facets = db.execute(facet_sql, (expr, grade)).fetchall()
                total = sum(f[3] for f in facets)
            ms = (time.perf_counter() - start) * 1000
            if r > 0:
                samples.setdefault(cls, []).append(ms)
        totals.setdefault(cls, []).append(total)
    db.close()
    out = {}
    for cls, v in samples.items():
        v.sort()
        out[cls] = (percentile(v, 50), percentile(v, 99), statistics.mean(totals[cls]))
    return out


def parse_kho(stdout):
    out = {}
    for line in stdout.splitlines():
        f = line.split('\t')
        if f[0] == 'result' and len(f) == 9:
            out[f[1]] = (float(f[4]), float(f[5]), float(f[8]))
    return out


def mark(ok):
    return 'met' if ok else 'NOT met'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    default_kho = '/tmp/build-bench/tools/kho'
    if not os.access(default_kho, os.X_OK):
        default_kho = os.path.join(SOURCE_ROOT, 'build-release', 'tools', 'kho')
    ap.add_argument('--kho', default=default_kho, help=f'the kho binary (default {default_kho})')
    ap.add_argument('--bench', help='the bench-search binary (default: beside kho, '
                    'in ../tests/indexer/)')
    ap.add_argument('--sizes', default='100000',
                    help='corpus sizes in lessons, comma-separated (multiples of 10,000)')
    ap.add_argument('--keep', metavar='DIR', help='work in DIR and keep everything there')
    ap.add_argument('--queries', type=int, default=20, help='queries per class (default 20)')
    ap.add_argument('--repeat', type=int, default=10,
                    help='runs of each query after a warm-up (default 10; at most 3 from 1M)')
    ap.add_argument('--skip-plain', action='store_true', help='do not run plain FTS5')
    args = ap.parse_args()

    sizes = sorted(int(s) for s in args.sizes.split(','))
    if any(s <= 0 or s % PACK_SIZE for s in sizes):
        fail(f'sizes must be multiples of {PACK_SIZE}')
    if not os.path.exists(ARCHIVE):
        skip(f'{ARCHIVE} is absent')
    args.kho = os.path.abspath(args.kho)
    bench = os.path.abspath(args.bench or os.path.join(
        os.path.dirname(os.path.dirname(args.kho)), 'tests', 'indexer', 'bench-search'))
    for exe in (args.kho, bench, TIME):
        if not os.access(exe, os.X_OK):
            fail(f'{exe} is missing; build with\n'
                 '  meson setup build-release --buildtype=release && ninja -C build-release')

    if args.keep:
        work = os.path.abspath(args.keep)
        if os.path.exists(work) and os.listdir(work):
            fail(f'{work} is not empty')
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix='kho-bench-search-')
    try:
        r = subprocess.run(['tar', '--zstd', '-xf', ARCHIVE, '-C', work],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'cannot extract {ARCHIVE}: {r.stderr.strip()}')
        t = time.monotonic()
        corpus = Corpus(read_sentences(os.path.join(work, 'vi-wiki')))
        print(f'sentences: {len(corpus.sentences)} ({time.monotonic() - t:.1f} s)')
        queries_path = os.path.join(work, 'queries.tsv')
        t = time.monotonic()
        queries = make_queries(corpus, min(sizes[0], 100000), args.queries, queries_path)
        print(f'queries: {len(queries)} in {queries_path} ({time.monotonic() - t:.1f} s)')
        packs = []
        for size in sizes:
            t = time.monotonic()
            while len(packs) * PACK_SIZE < size:
                p = len(packs)
                path = os.path.join(work, 'packs', f'p{p:03d}')
                write_pack(corpus, path, p)
                packs.append(path)
            print(f'\n== {size} lessons: {size // PACK_SIZE} packs written '
                  f'({time.monotonic() - t:.0f} s)', flush=True)
            home = os.path.join(work, f'home-{size}')
            _, secs, user, rss = timed(
                [args.kho, '--home', home, 'import'] + packs[:size // PACK_SIZE],
                os.path.join(work, f'import-{size}.time'))
            raw, idx, n, db_bytes = kho_sizes(os.path.join(home, 'kho.db'))
            if n != size:
                fail(f'the store holds {n} lessons, expected {size}')
            print(f'import: {secs:.1f} s wall, {user:.1f} s user, {raw / 1e6:.1f} MB of text, '
                  f'{raw / 1e6 / secs:.1f} MB/s, peak RSS {rss / 1024:.1f} MiB; '
                  f'kho.db {db_bytes / 1e6:.0f} MB, index {idx / 1e6:.1f} MB '
                  f'= {idx / raw:.2f} x raw text ({raw / n:.0f} bytes a lesson)', flush=True)
            repeat = args.repeat if size < 1000000 else min(args.repeat, 3)
            out, bsecs, _, brss = timed([bench, '-r', str(repeat), home, queries_path],
                                        os.path.join(work, f'bench-{size}.time'))
            print(out, end='', flush=True)
            kho = parse_kho(out)
            plain = {}
            if not args.skip_plain:
                plain_path = os.path.join(work, f'plain-{size}.db')
                pidx, psecs = build_plain(os.path.join(home, 'kho.db'), plain_path)
                print(f'plain FTS5: built in {psecs:.1f} s, index {pidx / 1e6:.1f} MB '
                      f'= {pidx / raw:.2f} x raw text', flush=True)
                plain = run_plain(plain_path, queries, repeat)

            print(f'\n{size} lessons ({repeat} runs a query, {args.queries} queries a class; ms)')
            print(f'{"class":<10} {"kho p50":>8} {"kho p99":>8} {"plain p50":>10} '
                  f'{"plain p99":>10} {"matches":>9}  target')
            p99_max = 30 if size <= 100000 else 150
            for cls in CLASSES + ['complete']:
                k = kho.get(cls, (0, 0, 0))
                p = plain.get(cls, (float('nan'),) * 3)
                if cls == 'complete':
                    ok, tgt = k[1] <= 10, 'p99 <= 10'
                elif size <= 100000:
                    ok, tgt = k[0] <= 5 and k[1] <= 30, 'p50 <= 5, p99 <= 30'
                else:
                    ok, tgt = k[1] <= p99_max, f'p99 <= {p99_max}'
                print(f'{cls:<10} {k[0]:>8.2f} {k[1]:>8.2f} {p[0]:>10.2f} {p[1]:>10.2f} '
                      f'{k[2]:>9.0f}  {tgt}: {mark(ok)}')
            print(f'index / raw text: {idx / raw:.2f} (target <= 0.6: {mark(idx / raw <= 0.6)})')
            print(f'import: {raw / 1e6 / secs:.1f} MB/s; peak RSS import {rss / 1024:.1f} MiB, '
                  f'search {brss / 1024:.1f} MiB (target <= 64: '
                  f'{mark(max(rss, brss) / 1024 <= 64)})', flush=True)
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
