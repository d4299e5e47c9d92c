#!/usr/bin/env python3
"""bench-sync.py — bytes and time of kho sync over a realistic update series.

The series: the bundled packs plus a large pack of Vietnamese Wikipedia articles (from
../shared/testdata/vi-wiki.tar.zst), published to a repository served by nginx on
127.0.0.1; a box syncs the first release, then three updates of the large pack: 1% of its
lessons edited, 10% edited, and a new 5 MB media file. For each step it reports the bytes
nginx served to kho (its access log), the bytes rsync would move (the unpacked tree, and the
.kho zip, each with rsync's delta algorithm: --no-whole-file), the bytes casync would move
(the new chunks its store gains), and kho's target for an update (1.5 × the zstd -19 size
of the changed files + 8 KiB). Then the 1% update again at 2 Mbit/s (--max-rate 250K):
time to plan, to fetch and to install (and reindex), and the sync's peak RSS.

Usage: bench-sync.py [--kho KHO] [--articles N]   (default 1,500 articles)
"""
import argparse
import importlib.util
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUNDLED = os.path.join(ROOT, 'content-packs', 'packs')


def load(name):
    spec = importlib.util.spec_from_file_location(name.replace('-', '_'), os.path.join(HERE, name + '.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def served(log):
    total = 0
    for line in open(log):
        m = re.search(r'" (\d{3}) (\d+) ', line)
        if m and m.group(1) in ('200', '206'):
            total += int(m.group(2))
    return total


def set_version(pack, version):
    path = os.path.join(pack, 'manifest.xml')
    text = open(path, encoding='utf-8').read()
    open(path, 'w', encoding='utf-8').write(
        re.sub(r'(<pack [^>]*version=")\d+(")', r'\g<1>%d\g<2>' % version, text, count=1))


def edit(pack, share, rng, version):
    """Edits `share` of the lessons (a sentence added to each); returns the changed paths."""
    lessons = sorted(os.listdir(os.path.join(pack, 'lessons')))
    changed = rng.sample(lessons, max(1, int(len(lessons) * share)))
    for name in changed:
        p = os.path.join(pack, 'lessons', name)
        html = open(p, encoding='utf-8').read()
        open(p, 'w', encoding='utf-8').write(html.replace('</p>', ' Đoạn này được sửa ở phiên bản %d.</p>' % version, 1))
    set_version(pack, version)
    return [os.path.join('lessons', n) for n in changed] + ['manifest.xml']


def make_zip(pack, path):
    """The pack as a .kho zip, every file in it, in path order."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        for r, _, fs in sorted(os.walk(pack)):
            for f in sorted(fs):
                full = os.path.join(r, f)
                z.write(full, os.path.relpath(full, pack))


def zstd_size(path):
    return len(subprocess.run(['zstd', '-19', '-q', '-c', path], capture_output=True).stdout)


def rsync_bytes(old, new):
    """Bytes rsync's delta algorithm sends to turn `old` into `new` (a copy of old is
    updated in place, as on a box)."""
    with tempfile.TemporaryDirectory() as t:
        dst = os.path.join(t, 'dst')
        if os.path.isdir(old):
            shutil.copytree(old, dst)
            src = new.rstrip('/') + '/'
            dst += '/'
        else:
            shutil.copy(old, dst)
            src = new
        r = run(['rsync', '-a', '--no-whole-file', '--stats', src, dst])
        m = re.search(r'Total bytes sent: ([\d,.]+)', r.stdout)
        return int(re.sub(r'[,.]', '', m.group(1))) if m else -1


def casync_bytes(store, tree):
    """Bytes of the chunks casync's store gains for `tree` (what a client would fetch)."""
    def size():
        return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(store) for f in fs) \
            if os.path.exists(store) else 0
    before = size()
    r = run(['casync', 'make', '--store=' + store, os.path.join(os.path.dirname(store), 'x.caidx'), tree])
    return size() - before if r.returncode == 0 else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kho', default=os.path.join(ROOT, 'build-release', 'tools', 'kho'))
    ap.add_argument('--articles', type=int, default=1500)
    args = ap.parse_args()
    bi = load('bench-import')
    if not os.path.exists(bi.ARCHIVE):
        print('skipped: %s is absent' % bi.ARCHIVE)
        sys.exit(77)
    for tool in ('nginx', 'rsync', 'zstd'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            print('skipped: %s is not installed (scripts/install-deps.sh --bench)' % tool)
            sys.exit(77)
    kho = os.path.abspath(args.kho)
    work = tempfile.mkdtemp(prefix='kho-bench-sync-')
    os.chmod(work, 0o755)
    nginx_proc = None
    try:
        def k(home, *a):
            r = run([kho, '--home', home] + list(a))
            if r.returncode != 0:
                raise SystemExit('kho %s failed: %s' % (' '.join(a), r.stderr))
            return r.stdout
        subprocess.run(['tar', '--zstd', '-xf', bi.ARCHIVE, '-C', work], check=True)
        big = os.path.join(work, 'wiki-v1')
        lessons, text = bi.make_pack(os.path.join(work, 'vi-wiki'), big, args.articles)
        repo = os.path.join(work, 'repo')
        k(work, 'keygen', '-s', os.path.join(work, 'p.key'), '-p', os.path.join(work, 'p.pub'), '--no-passphrase')
        key = os.path.join(work, 'p.key')
        k(work, 'publish', '--repo', repo, '-s', key, big, *[os.path.join(BUNDLED, p) for p in sorted(os.listdir(BUNDLED))])
        port = free_port()
        ndir = os.path.join(work, 'nginx')
        os.makedirs(ndir)
        log = os.path.join(ndir, 'access.log')
        conf = os.path.join(ndir, 'nginx.conf')
        open(conf, 'w').write('''daemon off; pid %(d)s/pid; error_log %(d)s/error.log;
events { worker_connections 64; }
http { access_log %(log)s; client_body_temp_path %(d)s; proxy_temp_path %(d)s;
  fastcgi_temp_path %(d)s; uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
  types { application/json json; } default_type application/octet-stream;
  gzip on; gzip_types application/json;
  server { listen 127.0.0.1:%(port)d; root %(repo)s; } }
''' % {'d': ndir, 'log': log, 'port': port, 'repo': repo})
        nginx_proc = subprocess.Popen([shutil.which('nginx') or '/usr/sbin/nginx', '-c', conf, '-p', ndir])
        for _ in range(50):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = 'http://127.0.0.1:%d/' % port
        box = os.path.join(work, 'box')
        k(box, 'trust', 'add', os.path.join(work, 'p.pub'))
        k(box, 'subscribe', '*')
        before = served(log)
        t0 = time.monotonic()
        k(box, 'sync', '--from', url)
        first = (served(log) - before, time.monotonic() - t0)
        pack_bytes = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(big) for f in fs)
        print('first sync: %d packs, %.1f MB of files; kho fetched %.1f MB in %.1f s' % (
            len(os.listdir(BUNDLED)) + 1, pack_bytes / 1e6, first[0] / 1e6, first[1]))

        rng = random.Random(2026)
        rows = []
        prev = big
        casync_store = os.path.join(work, 'casync', 'store.castr')
        os.makedirs(os.path.dirname(casync_store))
        casync_bytes(casync_store, prev)
        prev_zip = os.path.join(work, 'v1.kho')
        make_zip(prev, prev_zip)
        steps = [('1% of lessons edited', 0.01, None), ('10% of lessons edited', 0.10, None),
                 ('a new 5 MB media file', 0, 5 * 1000 * 1000)]
        for n, (name, share, media) in enumerate(steps, start=2):
            cur = os.path.join(work, 'wiki-v%d' % n)
            shutil.copytree(prev, cur)
            if media:
                os.makedirs(os.path.join(cur, 'media'), exist_ok=True)
                open(os.path.join(cur, 'media', 'video-%d.bin' % n), 'wb').write(os.urandom(media))
                set_version(cur, n)
                changed = ['manifest.xml', os.path.join('media', 'video-%d.bin' % n)]
            else:
                changed = edit(cur, share, rng, n)
            k(work, 'publish', '--repo', repo, '-s', key, cur)
            target = 1.5 * sum(zstd_size(os.path.join(cur, c)) for c in changed) + 8192
            before = served(log)
            k(box, 'sync', '--from', url)
            moved = served(log) - before
            cur_zip = os.path.join(work, 'v%d.kho' % n)
            make_zip(cur, cur_zip)
            rows.append((name, len(changed) - 1, moved, target, rsync_bytes(prev, cur),
                         rsync_bytes(prev_zip, cur_zip), casync_bytes(casync_store, cur)))
            prev, prev_zip = cur, cur_zip

        print('\nupdate                    changed  kho bytes  target (1.5×zstd+8K)  rsync tree  rsync .kho  casync')
        for name, nchanged, moved, target, rt, rz, ca in rows:
            print('%-25s %7d %10d %21d %11d %11d %7s  %s' % (
                name, nchanged, moved, target, rt, rz, ca if ca >= 0 else 'n/a',
                'met' if moved <= target else 'NOT met'))

        # the 1% update again, at 2 Mbit/s: times and memory
        cur = os.path.join(work, 'wiki-v9')
        shutil.copytree(prev, cur)
        edit(cur, 0.01, rng, 9)
        k(work, 'publish', '--repo', repo, '-s', key, cur)
        t0 = time.monotonic()
        k(box, 'sync', '--from', url, '--dry-run')
        plan = time.monotonic() - t0
        r = run(['/usr/bin/time', '-f', '%e %M', kho, '--home', box, '--verbose', 'sync', '--from', url,
                 '--max-rate', '250K'])
        wall, rss = r.stderr.strip().splitlines()[-1].split()
        print('\n1%% update at 2 Mbit/s (--max-rate 250K): plan %.2f s; sync (fetch, check, install, '
              'reindex) %.2f s wall; peak RSS %.1f MiB' % (plan, float(wall), int(rss) / 1024))
    finally:
        if nginx_proc:
            nginx_proc.terminate()
            nginx_proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
