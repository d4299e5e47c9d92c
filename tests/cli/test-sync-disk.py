#!/usr/bin/env python3
"""A sync onto a box whose disk is too small: refused before anything is fetched, with a
clear message, and the box unchanged. The box's home is a 3 MiB tmpfs (needs root to
mount; skipped otherwise)."""
import os
import random
import shutil
import subprocess

from khotest import DATA, check, done, kho, kho_json, skip, tmpdir

if os.geteuid() != 0:
    skip("mounting a small tmpfs needs root")
work = tmpdir("work")
repo = os.path.join(work, "repo")
key, pub = os.path.join(work, "p.key"), os.path.join(work, "p.pub")
kho(work, "keygen", "-s", key, "-p", pub, "--no-passphrase")
big = os.path.join(work, "big")
shutil.copytree(os.path.join(DATA, "packs", "mini"), big)
os.makedirs(os.path.join(big, "media"))
rng = random.Random(5)
open(os.path.join(big, "media", "film.bin"), "wb").write(bytes(rng.getrandbits(8) for _ in range(4000000)))
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, big)
check(rc == 0, "publish: " + err)

home = os.path.join(work, "small")
os.makedirs(home)
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", home]).returncode != 0:
    skip("cannot mount a tmpfs here")
try:
    kho(home, "trust", "add", pub)
    kho(home, "subscribe", "*")
    before = kho_json(home, "list")
    rc, out, err = kho(home, "sync", "--from", repo)
    check(rc == 1 and "MB of disk" in err and "nothing was fetched" in err, "refused for disk: " + err)
    check(kho_json(home, "list") == before, "the box is unchanged")
    objects = os.path.join(home, "sync", "objects")
    fetched = sum(len(f) for _, _, f in os.walk(objects)) if os.path.exists(objects) else 0
    check(fetched == 0, "no object was fetched (%d)" % fetched)
    check(kho_json(home, "search", "duong")["total"] == 0, "searches still answer")
finally:
    subprocess.run(["umount", home])
done()
