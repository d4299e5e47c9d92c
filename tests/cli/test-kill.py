#!/usr/bin/env python3
"""Killed mid-install: an import of version 2 is killed (SIGKILL, as a power
cut would stop it) at many moments; after each, the store must pass SQLite's
integrity check and show version 1 or version 2 whole — the right lessons,
searchable, never a mix — and the next import must succeed and clean up."""
import os
import random
import signal
import sqlite3
import subprocess
import time

from khotest import KHO, check, done, kho, kho_json, tmpdir

random.seed(20261129)
LESSONS = 300


def make_pack(folder, version):
    os.makedirs(os.path.join(folder, "lessons"))
    items = []
    for i in range(LESSONS):
        word = "phienban%d" % version  # a word only this version has
        with open(os.path.join(folder, "lessons", "l%03d.html" % i), "w", encoding="utf-8") as f:
            f.write("<!DOCTYPE html><html><body><h1>Bài %d</h1><p>%s đường số %d. %s</p></body></html>"
                    % (i, word, i, "Nội dung bài học dài. " * 400))
        items.append('<lesson id="l%03d" href="lessons/l%03d.html"><title>Bài %d (bản %d)</title></lesson>'
                     % (i, i, i, version))
    with open(os.path.join(folder, "manifest.xml"), "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<pack xmlns="urn:kho:pack:1" id="test.kill" '
                'version="%d"><title>Kill test</title><unit id="u"><title>U</title>%s</unit></pack>\n'
                % (version, "".join(items)))
    return folder


work = tmpdir("packs")
v1 = make_pack(os.path.join(work, "v1"), 1)
v2 = make_pack(os.path.join(work, "v2"), 2)

# how long a whole install of v2 takes, to spread the kills over it
probe = tmpdir("probe")
kho(probe, "import", v1)
t0 = time.monotonic()
rc, out, err = kho(probe, "import", v2)
full = time.monotonic() - t0
check(rc == 0, "v2 installs: " + err)


def state(home):
    db = sqlite3.connect(os.path.join(home, "kho.db"))
    ok = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    return ok


outcomes = {1: 0, 2: 0}
for attempt in range(12):
    home = tmpdir("home%d" % attempt)
    rc, out, err = kho(home, "import", v1)
    check(rc == 0, "v1 installs")
    env = dict(os.environ)
    p = subprocess.Popen([KHO, "--home", home, "import", v2], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    time.sleep(random.uniform(0.0, full * 1.1))
    p.send_signal(signal.SIGKILL)
    p.wait()

    check(state(home) == "ok", "attempt %d: SQLite integrity check" % attempt)
    packs = kho_json(home, "list").get("packs", [])
    check(len(packs) == 1 and packs[0]["version"] in (1, 2) and packs[0]["lessons"] == LESSONS,
          "attempt %d: one whole version visible: %r" % (attempt, packs))
    if not packs:
        continue
    version = packs[0]["version"]
    outcomes[version] += 1
    mine = kho_json(home, "search", "--limit", "100", "phienban%d" % version)
    other = kho_json(home, "search", "phienban%d" % (3 - version))
    check(mine.get("total") == LESSONS, "attempt %d: all lessons of v%d searchable (%s)"
          % (attempt, version, mine.get("total")))
    check(other.get("total") == 0, "attempt %d: nothing of the other version searchable" % attempt)

    # the next import finishes the job and leaves no staged blob behind
    rc, out, err = kho(home, "import", v2)
    check(rc == 0, "attempt %d: v2 installs after the kill: %s" % (attempt, err))
    check(os.listdir(os.path.join(home, "blobs", "tmp")) == [], "attempt %d: blobs/tmp is empty" % attempt)
    check(kho_json(home, "search", "phienban2").get("total") == LESSONS, "attempt %d: v2 searchable" % attempt)

print("kills that left version 1: %d, version 2: %d" % (outcomes[1], outcomes[2]))
check(outcomes[1] > 0, "some kills landed before the commit")
done()
