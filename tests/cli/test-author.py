#!/usr/bin/env python3
"""End to end, as docs/authoring.md walks an author through it: write a pack folder,
lint it, build the .kho, make a key, sign, verify, publish to a repository, verify the
repository, and import the signed pack on a box that trusts the key."""
import os
import shutil

from khotest import DATA, check, done, kho, kho_json, tmpdir

work = tmpdir("work")
box = tmpdir("box")
author = tmpdir("author")

folder = os.path.join(work, "my-pack")
shutil.copytree(os.path.join(DATA, "packs", "mini"), folder)
pack = os.path.join(work, "my-pack.kho")
key, pub = os.path.join(work, "me.key"), os.path.join(work, "me.pub")
repo = os.path.join(work, "repo")

steps = [
    ("lint", ["pack", "lint", "--strict", folder]),
    ("build", ["pack", "build", folder, "-o", pack]),
    ("keygen", ["keygen", "-s", key, "-p", pub, "--no-passphrase"]),
    ("sign", ["pack", "sign", "-s", key, pack]),
    ("verify", ["pack", "verify", "-p", pub, pack]),
    ("publish", ["publish", "--repo", repo, "-s", key, pack]),
    ("repo verify", ["repo", "verify", repo, "-p", pub]),
]
for name, args in steps:
    rc, out, err = kho(author, *args)
    check(rc == 0, "%s: %s%s" % (name, out, err))

rc, out, err = kho(box, "trust", "add", pub)
check(rc == 0, "trust add: " + err)
rc, out, err = kho(box, "import", pack)
check(rc == 0 and "signature verified" in out, "import on the box: " + out + err)
packs = kho_json(box, "list")["packs"]
check(len(packs) == 1 and packs[0]["signed_by"], "installed as verified: %r" % packs)
res = kho_json(box, "search", "duong")
check(res.get("total", 0) >= 1, "and searchable")
done()
