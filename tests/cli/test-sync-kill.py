#!/usr/bin/env python3
"""kill -9 of kho sync at random moments during download and install: after each, the box
opens, shows each pack at its old or its new version (never a mix) and searches; a last run
completes the sync."""
import os
import random
import shutil
import signal
import subprocess
import time

from khotest import DATA, KHO, check, done, kho, kho_json, tmpdir

work = tmpdir("work")
repo = os.path.join(work, "repo")
key, pub = os.path.join(work, "p.key"), os.path.join(work, "p.pub")
kho(work, "keygen", "-s", key, "-p", pub, "--no-passphrase")
src = os.path.join(DATA, "..", "..", "content-packs", "packs")
packs = sorted(os.listdir(src))
rng = random.Random(11)
# a pack with a large file, so that the download takes a while at a capped rate
big = os.path.join(work, "big")
shutil.copytree(os.path.join(DATA, "packs", "mini"), big)
os.makedirs(os.path.join(big, "media"))
open(os.path.join(big, "media", "film.bin"), "wb").write(bytes(rng.getrandbits(8) for _ in range(1500000)))
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, big, *[os.path.join(src, p) for p in packs])
check(rc == 0, "publish: " + err)
expected = {}
for v in kho_json(work, "repo", "list", repo)["versions"]:
    expected[v["pack"]] = v["lessons"]

box = tmpdir("box")
kho(box, "trust", "add", pub)
kho(box, "subscribe", "*")
env = dict(os.environ)
env.pop("KHO_HOME", None)
kills = 0
for attempt in range(8):
    p = subprocess.Popen([KHO, "--home", box, "sync", "--from", repo, "--max-rate", "400K"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(rng.uniform(0.1, 1.5))
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        kills += 1
    p.wait()
    listing = kho_json(box, "list")
    for pk in listing.get("packs", []):
        check(pk["lessons"] == expected.get(pk["id"]),
              "after kill %d: %s has %d lessons, as published (%r)" % (attempt, pk["id"], pk["lessons"], expected.get(pk["id"])))
    rc, out, err = kho(box, "search", "--json", "bai")
    check(rc == 0, "after kill %d: search works: %s" % (attempt, err))
check(kills >= 3, "kho sync was killed mid-way %d times" % kills)
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0, "a last run completes: " + out + err)
installed = {pk["id"]: pk["lessons"] for pk in kho_json(box, "list")["packs"]}
check(installed == expected, "every pack installed: %r" % sorted(installed))
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "0 packs to install or update" in out, "then nothing to do: " + out)
done()
