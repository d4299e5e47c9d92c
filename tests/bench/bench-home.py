#!/usr/bin/env python3
"""bench-home.py — how long a signed-in teacher's home page (GET /api/home) and a signed-in
search take on `kho serve`.

On a copy of a home (--home DIR, e.g. the 100,000-lesson home kept by bench-search.py --keep;
by default a new home of the bundled packs), adds --teachers teachers, each with a profile
(a grade and a subject the home has) and --history lessons opened (drawn with a fixed seed from
the visible lessons, written through POST /api/history), then times, over HTTP on loopback:
  home         GET /api/home for every teacher, --rounds times (issue 7: ≤ 50 ms);
  search       the same searches (the words of lesson titles, 1-3 words) anonymous and as a
               teacher, alternating, to show what personal ranking and the session cost.
Prints p50/p99/mean ms per class and lines  result<TAB>CLASS<TAB>N<TAB>P50<TAB>P99<TAB>MEAN.

Usage: tests/bench/bench-home.py [--kho PATH] [--home DIR] [--teachers 40] [--history 200]
                                 [--rounds 5] [--searches 200]
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))


def start(kho, home):
    p = subprocess.Popen([kho, '--home', home, '--quiet', 'serve', '--listen', '127.0.0.1:0'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    url = line[line.index('http://'):].split()[0].rstrip('/')
    host, port = url[len('http://'):].rsplit(':', 1)
    return p, host, int(port)


class Client:
    def __init__(self, host, port):
        self.c = http.client.HTTPConnection(host, port, timeout=60)
        self.cookie = self.csrf = None

    def call(self, method, path, body=None):
        headers = {}
        if self.cookie:
            headers['Cookie'] = self.cookie
        if self.csrf:
            headers['X-CSRF-Token'] = self.csrf
        data = json.dumps(body) if body is not None else None
        if data:
            headers['Content-Type'] = 'application/json'
        t0 = time.perf_counter()
        self.c.request(method, path, body=data, headers=headers)
        r = self.c.getresponse()
        text = r.read()
        ms = (time.perf_counter() - t0) * 1000
        cookie = r.getheader('Set-Cookie')
        if cookie and cookie.startswith('kho_session='):
            self.cookie = cookie.split(';')[0]
        if r.status >= 300:
            raise RuntimeError('%s %s: %d %s' % (method, path, r.status, text[:200]))
        return json.loads(text), ms


def stats(name, samples):
    s = sorted(samples)
    p50 = s[len(s) // 2]
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    mean = sum(s) / len(s)
    print('%-16s %7d %9.2f %9.2f %9.2f' % (name, len(s), p50, p99, mean))
    print('result\t%s\t%d\t%.3f\t%.3f\t%.3f' % (name, len(s), p50, p99, mean), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    default_kho = os.path.join(SOURCE_ROOT, 'build-release', 'tools', 'kho')
    ap.add_argument('--kho', default=default_kho)
    ap.add_argument('--home')
    ap.add_argument('--teachers', type=int, default=40)
    ap.add_argument('--history', type=int, default=200)
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--searches', type=int, default=200)
    args = ap.parse_args()
    if not os.path.exists(args.kho):
        print('bench-home: skipped: no %s (build it: meson setup build-release --buildtype=release)' % args.kho)
        return 77
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix='kho-bench-home-')
    try:
        home = os.path.join(work, 'home')
        if args.home:
            shutil.copytree(args.home, home)
        else:
            subprocess.run([args.kho, '--home', home, '--quiet', 'import', '--bundled'], check=True,
                           stdin=subprocess.DEVNULL)
        db = sqlite3.connect(os.path.join(home, 'kho.db'))
        lessons = db.execute("SELECT p.id, l.lesson_id, l.title, l.grades, l.subjects FROM lessons l"
                             " JOIN pack_versions v ON v.id = l.pv"
                             " JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version").fetchall()
        db.close()
        print('%s: %d lessons; %d teachers with %d lessons opened each' % (
            args.home or 'bundled packs', len(lessons), args.teachers, args.history))
        for i in range(args.teachers):
            subprocess.run([args.kho, '--home', home, '--quiet', 'user', 'add', 't%d' % i],
                           input=b'mat-khau-dai\n', check=True, capture_output=True)
        proc, host, port = start(args.kho, home)
        try:
            teachers = []
            for i in range(args.teachers):
                c = Client(host, port)
                me, _ = c.call('POST', '/api/login', {'name': 't%d' % i, 'password': 'mat-khau-dai'})
                c.csrf = me['csrf']
                pack, lesson, title, grades, subjects = rng.choice(lessons)
                c.call('POST', '/api/me', {'grades': grades.split()[0] if grades else '',
                                           'subjects': subjects.split()[0] if subjects else ''})
                # a teacher works through units: runs of consecutive lessons
                start_at = rng.randrange(len(lessons))
                for k in range(args.history):
                    p, l = lessons[(start_at + k) % len(lessons)][:2] if k % 4 else rng.choice(lessons)[:2]
                    c.call('POST', '/api/history', {'pack': p, 'lesson': l})
                teachers.append(c)
            home_ms = []
            for _ in range(args.rounds):
                for c in teachers:
                    home_ms.append(c.call('GET', '/api/home')[1])
            anon = Client(host, port)
            plain, personal = [], []
            for k in range(args.searches):
                words = rng.choice(lessons)[2].split()
                n = rng.randint(1, min(3, len(words)))
                at = rng.randrange(len(words) - n + 1)
                q = '/api/search?q=' + urllib.parse.quote(' '.join(words[at:at + n]))
                plain.append(anon.call('GET', q)[1])
                personal.append(teachers[k % len(teachers)].call('GET', q)[1])
            print('%-16s %7s %9s %9s %9s' % ('class', 'samples', 'p50 ms', 'p99 ms', 'mean ms'))
            stats('home', home_ms)
            stats('search', plain)
            stats('search+teacher', personal)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
