#!/usr/bin/env python3
"""bench-import.py — how fast `kho import` turns a large pack into lessons.

Builds one pack from the Vietnamese Wikipedia sample in ../shared/testdata
(vi-wiki.tar.zst: 7,878 articles, 84 MB of text) — each article a lesson
HTML file, 100 lessons to a unit — as a folder and as a .kho zip, then
imports each into a fresh home under /usr/bin/time and prints lessons, MB of
lesson text in the store (10^6 bytes), wall, user and system seconds, MB/s
and lessons/s (per wall second) and peak RSS (MiB).

The kho binary should be an optimised build:
    meson setup build-release --buildtype=release && ninja -C build-release
Usage: tests/bench/bench-import.py [--kho PATH] [--keep DIR] [--limit N] [--pack-only]
                                   [--cores N[,N…]] [--repeat R]
--cores runs kho on the first N processors only (taskset; "on one core" is
--cores 1; 0 means all of them); with a list, each import is made for each
N. --repeat R imports each pack R times, alternating, into fresh homes, and
prints every run and then the best and the median of each (shared machines
are noisy: the best run is the machine's speed, the median what a run may
expect). One invocation measures everything before it deletes anything.
Work happens in a new folder under $TMPDIR (or DIR with --keep). On ext4
without a journal, creating files within minutes of deleting thousands is
slow (the kernel skips recently freed inodes), which shows as system time:
leave a few minutes between runs, or compare user time.
Exit codes: 0 done, 1 an import failed, 77 (skip) without the test data.
Python standard library only.
"""
import argparse
import html
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
TESTDATA = os.environ.get('KHO_TESTDATA',
                          os.path.join(os.path.dirname(SOURCE_ROOT), 'shared', 'testdata'))
ARCHIVE = os.path.join(TESTDATA, 'vi-wiki.tar.zst')
SCHEMA = os.path.join(SOURCE_ROOT, 'content-packs', 'kho-pack-1.rng')
TIME = '/usr/bin/time'

PACK_ID = 'bench.viwiki'
UNIT_SIZE = 100
TITLE_MAX = 500          # characters, kho-pack-1.rng


def skip(msg):
    print(f'bench-import: skipped: {msg}', file=sys.stderr)
    sys.exit(77)


def fail(msg):
    print(f'bench-import: {msg}', file=sys.stderr)
    sys.exit(1)


def read_titles(folder):
    """number (the file's stem, '00001') -> title, from titles.tsv."""
    titles = {}
    with open(os.path.join(folder, 'titles.tsv'), encoding='utf-8') as f:
        for line in f:
            num, sep, title = line.rstrip('\r\n').partition('\t')
            if sep:
                titles[num] = title.strip()
    return titles


def article_html(title, text):
    """A lesson page: the title as <h1>, '== x ==' lines as <h2>/<h3>, every
    other non-blank line a paragraph."""
    t = html.escape(title)
    out = ['<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">',
           f'<title>{t}</title></head>\n<body>\n<h1>{t}</h1>\n']
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if len(line) > 4 and line.startswith('==') and line.endswith('=='):
            level = min(len(line) - len(line.lstrip('=')), 4)
            head = line.strip('=').strip()
            if head:
                out.append(f'<h{level}>{html.escape(head)}</h{level}>\n')
                continue
        out.append(f'<p>{html.escape(line)}</p>\n')
    out.append('</body></html>\n')
    return ''.join(out)


def make_pack(wiki, pack_dir, limit):
    """Writes the pack folder; returns (lessons, bytes of article text)."""
    titles = read_titles(wiki)
    numbers = sorted(n[:-4] for n in os.listdir(wiki) if n.endswith('.txt'))
    if limit:
        numbers = numbers[:limit]
    if not numbers:
        fail(f'no articles in {wiki}')
    os.makedirs(os.path.join(pack_dir, 'lessons'))
    text_bytes = 0
    entries = []
    for num in numbers:
        with open(os.path.join(wiki, num + '.txt'), encoding='utf-8', errors='replace') as f:
            text = f.read()
        text_bytes += len(text.encode('utf-8'))
        title = titles.get(num) or f'Bài {num}'
        with open(os.path.join(pack_dir, 'lessons', num + '.html'), 'w', encoding='utf-8') as f:
            f.write(article_html(title, text))
        entries.append((num, title[:TITLE_MAX]))

    m = ['<?xml version="1.0" encoding="UTF-8"?>\n',
         f'<pack xmlns="urn:kho:pack:1" id="{PACK_ID}" version="1" xml:lang="vi">\n',
         '  <title>Wikipedia tiếng Việt (gói đo tốc độ)</title>\n',
         f'  <summary>{len(entries)} bài viết Wikipedia tiếng Việt, dùng để đo tốc độ nhập gói.'
         '</summary>\n',
         '  <license>CC-BY-SA-4.0</license>\n',
         '  <subject>khtn</subject>\n']
    for u in range(0, len(entries), UNIT_SIZE):
        m.append(f'  <unit id="u{u // UNIT_SIZE + 1:03d}">\n'
                 f'    <title>Phần {u // UNIT_SIZE + 1}</title>\n')
        for num, title in entries[u:u + UNIT_SIZE]:
            m.append(f'    <lesson id="a{num}" href="lessons/{num}.html">'
                     f'<title>{html.escape(title, quote=False)}</title></lesson>\n')
        m.append('  </unit>\n')
    m.append('</pack>\n')
    manifest = os.path.join(pack_dir, 'manifest.xml')
    with open(manifest, 'w', encoding='utf-8') as f:
        f.write(''.join(m))
    if shutil.which('xmllint') and os.path.exists(SCHEMA):
        r = subprocess.run(['xmllint', '--noout', '--relaxng', SCHEMA, manifest],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'the generated manifest does not validate:\n{r.stderr[-2000:]}')
    return len(entries), text_bytes


def make_zip(pack_dir, path):
    """The same pack as a .kho file: manifest first, then the lessons."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.write(os.path.join(pack_dir, 'manifest.xml'), 'manifest.xml')
        lessons = os.path.join(pack_dir, 'lessons')
        for name in sorted(os.listdir(lessons)):
            zf.write(os.path.join(lessons, name), 'lessons/' + name)


def folder_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def import_once(kho, home, pack, cores):
    """Runs `kho import` under /usr/bin/time (on the first `cores`
    processors when given); returns (wall, user, system seconds, peak RSS kB)."""
    timing = os.path.join(os.path.dirname(home), os.path.basename(home) + '.time')
    pin = ['taskset', '-c', f'0-{cores - 1}'] if cores else []
    cmd = [TIME, '-f', '%e %U %S %M', '-o', timing] + pin + [kho, '--home', home, 'import', pack]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail(f'{" ".join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}')
    with open(timing) as f:
        wall, user, system, rss = f.read().split()[-4:]
    return float(wall), float(user), float(system), int(rss)


def stored_text(home):
    """Lessons and bytes of lesson text as the store holds them."""
    db = sqlite3.connect(f'file:{os.path.join(home, "kho.db")}?mode=ro', uri=True)
    try:
        n, size = db.execute('SELECT COUNT(*), SUM(length(CAST(body AS BLOB))) '
                             'FROM lessons').fetchone()
    finally:
        db.close()
    return n, size or 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kho', default=os.path.join(SOURCE_ROOT, 'build-release', 'tools', 'kho'),
                    help='the kho binary (default: build-release/tools/kho)')
    ap.add_argument('--keep', metavar='DIR',
                    help='work in DIR and keep the packs and homes there')
    ap.add_argument('--limit', type=int, default=0,
                    help='use only the first N articles (quick runs)')
    ap.add_argument('--pack-only', action='store_true',
                    help='build the packs, print their sizes and stop')
    ap.add_argument('--cores', default='0',
                    help='run kho on the first N processors only (taskset); a list: each')
    ap.add_argument('--repeat', type=int, default=1,
                    help='import each pack R times, alternating; print the best and median')
    args = ap.parse_args()

    if not os.path.exists(ARCHIVE):
        skip(f'{ARCHIVE} is absent')
    if not args.pack_only:
        if not os.access(args.kho, os.X_OK):
            fail(f'no kho binary at {args.kho}; build one with\n'
                 '  meson setup build-release --buildtype=release && ninja -C build-release')
        if not os.access(TIME, os.X_OK):
            fail(f'{TIME} is missing (Debian package "time")')
        try:
            args.cores = [int(n) for n in args.cores.split(',')]
        except ValueError:
            fail(f'--cores takes numbers separated by commas, not {args.cores!r}')
        if any(args.cores) and not shutil.which('taskset'):
            fail('taskset is missing (Debian package "util-linux")')
        if min(args.cores) < 0 or args.repeat < 1:
            fail('--cores must be 0 or more and --repeat 1 or more')
        args.kho = os.path.abspath(args.kho)

    if args.keep:
        work = os.path.abspath(args.keep)
        if os.path.exists(work) and os.listdir(work):
            fail(f'{work} is not empty')
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix='kho-bench-import-')
    try:
        r = subprocess.run(['tar', '--zstd', '-xf', ARCHIVE, '-C', work],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'cannot extract {ARCHIVE}: {r.stderr.strip()}')
        pack_dir = os.path.join(work, 'pack')
        pack_zip = os.path.join(work, 'bench-viwiki.kho')
        # Nothing is deleted until the end: on ext4 without a journal, creating
        # files soon after deleting thousands is slowed down by the kernel's
        # inode allocator (recently_deleted()), which would be measured as kho.
        lessons, text = make_pack(os.path.join(work, 'vi-wiki'), pack_dir, args.limit)
        make_zip(pack_dir, pack_zip)
        print(f'pack: {lessons} lessons, {text / 1e6:.1f} MB of article text; '
              f'folder {folder_size(pack_dir) / 1e6:.1f} MB, '
              f'.kho {os.path.getsize(pack_zip) / 1e6:.1f} MB')
        if args.pack_only:
            return 0

        print(f'kho: {args.kho}')
        print(f'{"pack":<8} {"cores":>5} {"lessons":>8} {"text MB":>8} {"seconds":>8} {"user s":>7} '
              f'{"sys s":>6} {"MB/s":>6} {"lessons/s":>10} {"peak RSS MiB":>13}')
        runs = {}
        for r in range(args.repeat):
            for cores in args.cores:
                for kind, pack in (('folder', pack_dir), ('zip', pack_zip)):
                    home = os.path.join(work, f'home-{kind}-{cores}-{r + 1}')
                    runs.setdefault((kind, cores), []).append(
                        import_once(args.kho, home, pack, cores) + (home,))
                    secs, user, system, rss_kb, _ = runs[(kind, cores)][-1]
                    n, size = stored_text(home)
                    if n != lessons:
                        fail(f'{kind}: the store holds {n} lessons, the pack has {lessons}')
                    mb = size / 1e6
                    rate = mb / secs if secs > 0 else float('inf')
                    per = n / secs if secs > 0 else float('inf')
                    runs[(kind, cores)][-1] = (rate, rss_kb)
                    print(f'{kind:<8} {cores or "all":>5} {n:>8} {mb:>8.1f} {secs:>8.2f} '
                          f'{user:>7.2f} {system:>6.2f} {rate:>6.1f} {per:>10.0f} '
                          f'{rss_kb / 1024:>13.1f}')
        if args.repeat > 1:
            for (kind, cores), got in runs.items():
                rates = sorted(rate for rate, _ in got)
                print(f'{kind} on {cores or "all"} core(s): best {rates[-1]:.1f} MB/s, median '
                      f'{statistics.median(rates):.1f} MB/s over {len(rates)} runs; peak RSS at '
                      f'most {max(rss for _, rss in got) / 1024:.1f} MiB')
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
