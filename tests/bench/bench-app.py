#!/usr/bin/env python3
"""bench-app.py — how fast the teachers' web app paints on a low-end phone.

Installs the bundled packs in a temporary home, starts `kho serve` on a free loopback port and
runs bench-app.js, which drives headless Chromium (/usr/bin/chromium, or $KHO_CHROMIUM) with
playwright-core from tests/web/node_modules in a 360×740 phone viewport (deviceScaleFactor 2,
touch), with the CPU 6× slower and a Fast 3G network (150 ms latency, 1.6 Mbit/s down,
750 kbit/s up) emulated through CDP. It measures, RUNS times each (default 5):
  /                    cold (browser cache disabled)
  /search?q=phan%20so  cold
  /                    warm (second visit, cache enabled)
first-contentful-paint, DOMContentLoaded, load and the bytes transferred; and, without
throttling, the time from typing the last letter of "phan so" in the search box to the first
result being painted. Prints the median and the maximum of each. A benchmark, not a test: it
sets no targets. Exits 77 without Chromium, Node.js or playwright-core (npm ci --prefix tests/web).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
NODE_SCRIPT = os.path.join(HERE, 'bench-app.js')
PLAYWRIGHT = os.path.join(SOURCE_ROOT, 'tests', 'web', 'node_modules', 'playwright-core')


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def skip(why):
    print(f'skipped: {why}')
    sys.exit(77)


def stop(proc, grace=10):
    """SIGTERM a child (bench-app.js closes its browser on it), SIGKILL it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_server(kho, home, log):
    """(process, base URL) of `kho serve` on a free loopback port."""
    proc = subprocess.Popen([kho, '--home', home, '--quiet', 'serve', '--listen', '127.0.0.1:0'],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    line = proc.stdout.readline().decode('utf-8', 'replace')
    if 'http://' not in line:
        stop(proc)
        raise RuntimeError(f'kho serve did not say where it serves: {line.strip()!r}')
    # Keep reading stdout so that the server never blocks on a full pipe.
    threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
    url = line[line.index('http://'):].split()[0]
    return proc, url.rstrip('/') + '/'


def ms(x):
    return f'{x:,.0f} ms'


def size(x):
    return f'{x / 1000:,.1f} kB'


def table(result):
    runs = result['runs']
    s = result['samples']
    rows = []
    for key, label in (('home-cold', '/ cold'), ('search-cold', '/search?q=phan%20so cold'),
                       ('home-warm', '/ warm (2nd visit)')):
        for field, what, fmt in (('fcp', 'first contentful paint', ms),
                                 ('dcl', 'DOMContentLoaded', ms),
                                 ('load', 'load', ms),
                                 ('bytes', 'bytes transferred', size)):
            values = [run[field] for run in s[key]]
            rows.append((f'{label}: {what}', fmt(statistics.median(values)), fmt(max(values))))
    values = [run['ms'] for run in s['typing']]
    rows.append(('typing "phan so": last letter to first result', ms(statistics.median(values)), ms(max(values))))
    width = max(len(r[0]) for r in rows)
    out = [f'{"measure (" + str(runs) + " runs)":<{width}}  {"median":>10}  {"max":>10}']
    out += [f'{name:<{width}}  {med:>10}  {top:>10}' for name, med, top in rows]
    c = result['conditions']
    net = c['network']
    out.append('')
    out.append(f'conditions: {result["browser"]} headless, {c["viewport"]["width"]}×{c["viewport"]["height"]} '
               f'phone viewport at {c["deviceScaleFactor"]}× with touch; page loads with the CPU '
               f'{c["cpuSlowdown"]}× slower and Fast 3G ({net["latency"]:.0f} ms latency, '
               f'{net["downloadThroughput"] * 8 / 1e6:g} Mbit/s down, {net["uploadThroughput"] * 8 / 1e3:g} kbit/s up), '
               f'cache disabled when cold; typing unthrottled; kho serve on loopback; each run in a new '
               f'browser context, after one uncounted visit of each page')
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--kho', default=os.path.join(SOURCE_ROOT, 'build-release', 'tools', 'kho'),
                    help='the kho binary (default: build-release/tools/kho)')
    ap.add_argument('--runs', type=int, default=5, help='runs of each measure (default 5)')
    args = ap.parse_args()
    if args.runs < 1:
        ap.error('--runs must be at least 1')

    chromium = os.environ.get('KHO_CHROMIUM', '/usr/bin/chromium')
    if not os.path.exists(chromium):
        skip(f'{chromium} is missing (apt-get install chromium)')
    if not os.path.isdir(PLAYWRIGHT):
        skip('playwright-core is not installed in tests/web/node_modules (npm ci --prefix tests/web)')
    node = shutil.which('node')
    if not node:
        skip('Node.js is missing (apt-get install nodejs)')
    kho = os.path.abspath(args.kho)
    if not os.access(kho, os.X_OK):
        print(f'bench-app: {kho} is not an executable kho (ninja -C build-release)', file=sys.stderr)
        return 1

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    work = tempfile.mkdtemp(prefix='kho-bench-app-')
    home = os.path.join(work, 'home')
    server = browser = None
    log = open(os.path.join(work, 'server.log'), 'wb')
    try:
        imp = subprocess.run([kho, '--home', home, '--quiet', 'import', '--bundled'],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if imp.returncode != 0:
            raise RuntimeError(f'kho import --bundled failed ({imp.returncode}): {imp.stderr.strip()}')
        server, url = start_server(kho, home, log)
        browser = subprocess.Popen([node, NODE_SCRIPT, url, str(args.runs)], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, env=dict(os.environ, KHO_CHROMIUM=chromium))
        out = browser.stdout.read().decode('utf-8', 'replace')
        code = browser.wait()
        browser = None
        if code == 77:
            return 77           # bench-app.js said why on stderr
        if code != 0:
            raise RuntimeError(f'bench-app.js failed with exit code {code}')
        if server.poll() is not None:
            raise RuntimeError(f'kho serve ended during the benchmark ({server.returncode})')
        result = json.loads(out.strip().splitlines()[-1])
        print(table(result))
        return 0
    except (RuntimeError, OSError, ValueError, IndexError, KeyError) as e:
        print(f'bench-app: {e}', file=sys.stderr)
        log.flush()
        with open(log.name, 'rb') as f:
            tail = f.read()[-2000:].decode('utf-8', 'replace').strip()
        if tail:
            print(f'kho serve said:\n{tail}', file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt) as e:
        print(f'bench-app: interrupted ({str(e) or "SIGINT"})', file=sys.stderr)
        return 1
    finally:
        # Ignore further signals while cleaning up, so that the cleanup itself is not cut short.
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        stop(browser)
        stop(server)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
