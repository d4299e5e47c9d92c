#!/usr/bin/env python3
"""Hostile repositories against kho sync, export, push and serve's /repo/: a publisher
whose key was stolen signs catalogs and indexes that try to leave the box's folders,
overwrite its blobs, install a pack under another pack's name, crash it with malformed
fields or replay an old catalog; a USB stick that hangs or links out; a neighbour box
that lacks some of what its catalog lists. Each is refused or worked around, with a
clear error, and nothing the box holds is lost or changed."""
import fcntl
import hashlib
import http.server
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import khotest
from khotest import DATA, Server, check, done, kho, kho_json, tmpdir
from khotest import http as http_get

work = tmpdir("work")
repo = os.path.join(work, "repo")
key, pub = os.path.join(work, "p.key"), os.path.join(work, "p.pub")
rc, out, err = kho(work, "keygen", "-s", key, "-p", pub, "--no-passphrase")
check(rc == 0, "keygen: " + err)
packs = os.path.join(DATA, "..", "..", "content-packs", "packs")
TOAN = "vn.kho.toan-5"
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, os.path.join(packs, TOAN),
                   os.path.join(packs, "vn.kho.tin-hoc-10"))
check(rc == 0, "publish version 1: " + out + err)
repo_v1 = os.path.join(work, "repo-v1")
shutil.copytree(repo, repo_v1)


def blake(data):
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def make_version(name, version, sentence):
    d = os.path.join(work, name)
    shutil.copytree(os.path.join(packs, TOAN), d)
    m = os.path.join(d, "manifest.xml")
    text = open(m, encoding="utf-8").read()
    open(m, "w", encoding="utf-8").write(text.replace('version="1"', 'version="%d"' % version, 1))
    lesson = os.path.join(d, "lessons", "bai-04.html")
    html = open(lesson, encoding="utf-8").read()
    open(lesson, "w", encoding="utf-8").write(html.replace("</p>", " %s</p>" % sentence, 1))
    return d


rc, out, err = kho(work, "publish", "--repo", repo, "-s", key,
                   make_version("toan-v2", 2, "Một câu mới ở phiên bản hai."))
check(rc == 0, "publish version 2: " + out + err)


def clone(src, name):
    d = os.path.join(work, name)
    shutil.copytree(src, d)
    return d


def catalog(r):
    return json.load(open(os.path.join(r, "catalog.json"), encoding="utf-8"))


def pack_entry(cat, pack_id):
    return [p for p in cat["packs"] if p["id"] == pack_id][0]


def write_json(r, rel, obj):
    """Writes `obj` as REPO/rel; returns the hash of what was written."""
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    path = os.path.join(r, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)
    return blake(data)


def sign(r, cat):
    """Writes the catalog and signs it with the publisher's (stolen) key."""
    open(os.path.join(r, "catalog.json"), "w", encoding="utf-8").write(json.dumps(cat, indent=1, sort_keys=True))
    os.remove(os.path.join(r, "catalog.json.minisig"))
    rc, out, err = kho(work, "pack", "sign", "-s", key, os.path.join(r, "catalog.json"))
    check(rc == 0, "re-signing the catalog: " + err)


def edit_index(r, pack_id, version, change):
    """Applies change(index) to a version's index, re-hashes it into a re-signed catalog
    (without its delta, so that a box fetches this index)."""
    cat = catalog(r)
    v = [v for v in pack_entry(cat, pack_id)["versions"] if v["version"] == version][0]
    index = json.load(open(os.path.join(r, v["index"]), encoding="utf-8"))
    change(index)
    v["index_hash"] = write_json(r, v["index"], index)
    v.pop("delta", None)
    sign(r, cat)


n_boxes = 0


def box(*subscriptions, source=None):
    """A new box that trusts the publisher and follows `subscriptions`; with `source`,
    it has synced from it first."""
    global n_boxes
    n_boxes += 1
    home = tmpdir("box-%d" % n_boxes)
    kho(home, "trust", "add", pub)
    for s in subscriptions:
        kho(home, "subscribe", s)
    if source:
        rc, out, err = kho(home, "sync", "--from", source)
        check(rc == 0, "the box's first sync: " + out + err)
    return home


def sync(home, source, *args, timeout=120):
    try:
        return kho(home, "sync", "--from", source, *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % timeout


def sane(rc, err):
    """kho ended by itself with one of its exit codes, without a sanitizer's report."""
    return rc in (0, 1, 2, 3) and "Sanitizer" not in err and "runtime error" not in err


def blobs_intact(home):
    bad = []
    for root, _, files in os.walk(os.path.join(home, "blobs")):
        for f in files:
            if len(f) == 64 and blake(open(os.path.join(root, f), "rb").read()) != f:
                bad.append(f)
    return bad


def installed(home):
    return {p["id"]: p["version"] for p in kho_json(home, "list").get("packs", [])}


# --- 1. a pack id that leaves the work folder: refused before anything is built or removed
r = clone(repo_v1, "r-id")
cat = catalog(r)
pack_entry(cat, TOAN)["id"] = "../../../victim"
sign(r, cat)
victim = os.path.join(khotest._tmp, "victim-1")
os.makedirs(victim)
open(os.path.join(victim, "keep.txt"), "w").write("mine")
home = box("*")
rc, out, err = sync(home, r)
check(sane(rc, err) and rc == 1 and "not a pack id" in err, "a pack id with ../ is refused: " + err)
check(os.path.exists(os.path.join(victim, "keep.txt")), "a folder outside the box is left alone")
check(installed(home) == {}, "nothing installed")
for bad_id in ("VN.KHO.HOA", "a/b", "-x.y"):
    cat = catalog(repo_v1)
    pack_entry(cat, TOAN)["id"] = bad_id
    r = clone(repo_v1, "r-id-%d" % len(bad_id))
    sign(r, cat)
    rc, out, err = sync(box("*"), r)
    check(sane(rc, err) and rc == 1 and "not a pack id" in err, "pack id %r refused: %s" % (bad_id, err))

# a delta index outside the repository, and a delta hash that is no hash: refused
base = box(TOAN, source=repo_v1)
for name, change in (("outside", lambda d: d.update(index="../delta-outside.json")),
                     ("hash", lambda d: d.update(index_hash="../../../../x")),
                     ("shape", lambda d: d.update(**{"from": "1"}))):
    r = clone(repo, "r-delta-" + name)
    cat = catalog(r)
    v2 = pack_entry(cat, TOAN)["versions"][-1]
    shutil.copy(os.path.join(r, v2["delta"]["index"]), os.path.join(work, "delta-outside.json"))
    change(v2["delta"])
    sign(r, cat)
    home = clone(base, "box-delta-" + name)
    rc, out, err = sync(home, r)
    check(sane(rc, err) and rc == 1 and "is malformed" in err, "a delta (%s) is refused: %s" % (name, err))
    check(installed(home) == {TOAN: 1}, "the box keeps version 1")

# --- 2. the same path twice in an index (or an alias of it): refused; blobs never overwritten
for name, alias in (("twice", None), ("dot", "./"), ("slash", "lessons//")):
    r = clone(repo, "r-dup-" + name)

    def dup(index, alias=alias):
        files = index["files"]
        kept = [f for f in files if f["path"] == "lessons/bai-01.html"][0]
        changed = dict([f for f in files if f["path"] == "lessons/bai-04.html"][0])
        changed["path"] = kept["path"] if alias is None else (
            alias + "bai-01.html" if alias.endswith("//") else alias + kept["path"])
        files.insert(files.index(kept) + 1, changed)

    edit_index(r, TOAN, 2, dup)
    home = clone(base, "box-dup-" + name)
    rc, out, err = sync(home, r)
    check(sane(rc, err) and rc == 1 and "is malformed" in err, "an index naming a path twice (%s): %s" % (name, err))
    check(blobs_intact(home) == [], "every blob still holds what its name says (%s)" % name)
    check(installed(home) == {TOAN: 1}, "the box keeps version 1 (%s)" % name)

# files out of path order
r = clone(repo_v1, "r-order")
edit_index(r, TOAN, 1, lambda index: index["files"].reverse())
rc, out, err = sync(box(TOAN), r)
check(sane(rc, err) and rc == 1 and "not in path order" in err, "files out of order: " + err)

# --- 3. an installed pack is the one the catalog names, at the version it names
r = clone(repo_v1, "r-other-id")
cat = catalog(r)
pack_entry(cat, TOAN)["id"] = "vn.kho.khac"
sign(r, cat)
home = box("vn.kho.khac")
rc, out, err = sync(home, r)
check(sane(rc, err) and rc == 1 and "vn.kho.toan-5" in err, "an index of another pack is refused: " + err)
check(installed(home) == {}, "toan-5 is not installed under another name: %r" % installed(home))
r = clone(repo_v1, "r-other-manifest")
edit_index(r, TOAN, 1, lambda index: index.update(pack="vn.kho.khac"))
cat = catalog(r)
pack_entry(cat, TOAN)["id"] = "vn.kho.khac"
sign(r, cat)
home = box("vn.kho.khac")
rc, out, err = sync(home, r)
check(sane(rc, err) and rc == 1 and "its files hold vn.kho.toan-5 version 1" in err,
      "a pack whose manifest names another pack is refused: " + err)
check(installed(home) == {}, "nothing installed: %r" % installed(home))
r = clone(repo_v1, "r-other-version")
edit_index(r, TOAN, 1, lambda index: index.update(version=9))
cat = catalog(r)
pack_entry(cat, TOAN)["versions"][0]["version"] = 9
sign(r, cat)
home = box(TOAN)
rc, out, err = sync(home, r)
check(sane(rc, err) and rc == 1 and "its files hold vn.kho.toan-5 version 1" in err,
      "a version the manifest does not have is refused: " + err)
check(installed(home) == {}, "nothing installed: %r" % installed(home))

# two packs naming the same index
r = clone(repo_v1, "r-same-index")
cat = catalog(r)
twin = json.loads(json.dumps(pack_entry(cat, TOAN)))
twin["id"] = "vn.kho.toan-5b"
cat["packs"].append(twin)
sign(r, cat)
home = box("vn.kho.*")
rc, out, err = sync(home, r)
check(sane(rc, err) and rc == 1 and "is malformed" in err, "two versions with one index are refused: " + err)
check(installed(home) == {}, "nothing installed: %r" % installed(home))

# --- 9. malformed index fields: refused with a message, never a crash
first = lambda index: [f for f in index["files"] if f["path"] == "lessons/bai-01.html"][0]
big = lambda index: [f for f in index["files"] if f["path"] == "manifest.xml"][0]
cases = {
    "patch of numbers": lambda ix: first(ix).update(patch=[5, 10]),
    "patch of 50 MB": lambda ix: first(ix).update(patch=["0" * 64, 50 << 20]),
    "patch of nothing": lambda ix: first(ix).update(patch=["0" * 64]),
    "negative size": lambda ix: first(ix).update(size=-5),
    "huge size": lambda ix: first(ix).update(size=1 << 62),
    "size not its chunks'": lambda ix: first(ix).update(size=first(ix)["size"] + 1),
    "no chunks": lambda ix: first(ix).update(chunks=[]),
    "chunk of 5 MB": lambda ix: first(ix)["chunks"][0].__setitem__(1, 5 << 20),
    "empty path": lambda ix: first(ix).update(path=""),
    "path ..": lambda ix: first(ix).update(path="../../x.html"),
    "no path": lambda ix: first(ix).pop("path"),
    "version a string": lambda ix: ix.update(version="1"),
}
for name, change in cases.items():
    r = clone(repo_v1, "r-field-%d" % len(os.listdir(work)))
    edit_index(r, TOAN, 1, change)
    home = box(TOAN)
    rc, out, err = sync(home, r, timeout=60)
    check(sane(rc, err) and rc == 1 and ("is malformed" in err or "not a kho-pack-index-1" in err),
          "%s: refused (%r): %s" % (name, rc, err.strip()[-300:]))
    check(installed(home) == {}, "%s: nothing installed" % name)

# a delta whose entry has no path: the box falls back to the full index
r = clone(repo, "r-delta-nopath")
cat = catalog(r)
v2 = pack_entry(cat, TOAN)["versions"][-1]
delta = json.load(open(os.path.join(r, v2["delta"]["index"]), encoding="utf-8"))
delta["files"][0].pop("path")
delta["removed"].append(7)
v2["delta"]["index_hash"] = write_json(r, v2["delta"]["index"], delta)
sign(r, cat)
home = clone(base, "box-delta-nopath")
rc, out, err = sync(home, r)
check(sane(rc, err) and rc == 0 and "updated vn.kho.toan-5 version 2" in out,
      "a malformed delta is ignored for the full index: %r %s" % (rc, err))

# --- 12. an empty source or destination is a usage error
home = box(TOAN)
rc, out, err = kho(home, "sync", "--from", "")
check(sane(rc, err) and rc == 2, "sync --from '': usage (%r): %s" % (rc, err.strip()[-200:]))
rc, out, err = kho(home, "push", "--to", "")
check(sane(rc, err) and rc == 2, "push --to '': usage (%r): %s" % (rc, err.strip()[-200:]))
rc, out, err = kho(home, "export", "--for", os.path.join(work, "x.json"), "--from", "", os.path.join(work, "x"))
check(sane(rc, err) and rc == 2, "export --from '': usage (%r): %s" % (rc, err.strip()[-200:]))

# --- 4. the catalog's serial counts as seen once checked, whatever happens next
r = clone(repo, "r-missing")
index = json.load(open(os.path.join(r, "packs", TOAN, "2.json")))
for f in index["files"]:
    if f["path"] == "lessons/bai-04.html":
        h = f["hash"]
        for name in os.listdir(os.path.join(r, "objects", h[:2])):
            if name.startswith(h):
                os.remove(os.path.join(r, "objects", h[:2], name))
home = clone(base, "box-serial")
rc, out, err = sync(home, r)
check(rc == 1 and installed(home) == {TOAN: 1}, "a sync that fails (an object missing): " + err)
rc, out, err = sync(home, repo_v1)
check(rc == 1 and "older than one already installed" in err, "then the older catalog is refused: " + out + err)
home = clone(base, "box-serial-until")
rc, out, err = sync(home, repo, "--until", "@1")
check(rc == 3, "a sync stopped by --until: %r %s" % (rc, out + err))
rc, out, err = sync(home, repo_v1)
check(rc == 1 and "older than one already installed" in err, "then the older catalog is refused: " + out + err)
home = clone(base, "box-serial-dry")
rc, out, err = sync(home, repo, "--dry-run")
rc, out, err = sync(home, repo_v1)
check(rc == 0, "a dry run records nothing: " + err)

# --- 6. a source that lacks a subscribed version's index: that pack is left out, the rest installs
r = clone(repo_v1, "r-no-index")
os.remove(os.path.join(r, "packs", "vn.kho.tin-hoc-10", "1.json"))
home = box("*")
rc, out, err = sync(home, r)
check(rc == 0 and "not offered" in err + out and "installed vn.kho.toan-5" in out,
      "a missing index leaves that pack out: %r %s" % (rc, out + err))
check(installed(home) == {TOAN: 1}, "the other pack is installed: %r" % installed(home))

# --- 7. kho export onto a used stick: the catalog and its signature are always the repository's
offline = box(TOAN)
state = os.path.join(work, "state.json")
kho(offline, "state", state)
stick = os.path.join(work, "stick")
rc, out, err = kho(work, "export", "--for", state, "--from", repo_v1, stick)
check(rc == 0, "a first export: " + out + err)
rc, out, err = kho(work, "export", "--for", state, "--from", repo, stick)
check(rc == 0, "a second export onto the same stick: " + out + err)
for n in ("catalog.json", "catalog.json.minisig"):
    check(open(os.path.join(stick, n), "rb").read() == open(os.path.join(repo, n), "rb").read(),
          "the stick's %s is the repository's newest" % n)
rc, out, err = sync(offline, stick)
check(rc == 0 and installed(offline) == {TOAN: 2}, "the box gets version 2 from the stick: " + out + err)

# --- 10. one sync at a time on a box; one export, publish, bundle or gc at a time on a folder
home = box(TOAN)
lock = open(os.path.join(home, "sync.lock"), "w")
fcntl.flock(lock, fcntl.LOCK_EX)
rc, out, err = sync(home, repo)
check(rc == 1 and "another kho sync" in err, "a second sync is refused: %r %s" % (rc, err))
lock.close()
rc, out, err = sync(home, repo)
check(rc == 0 and installed(home) == {TOAN: 2}, "then it runs: " + out + err)
lock = open(os.path.join(stick, ".kho-lock"), "w")
fcntl.flock(lock, fcntl.LOCK_EX)
rc, out, err = kho(work, "export", "--for", state, "--from", repo, stick)
check(rc == 1 and "another kho export" in err, "a second export into one folder is refused: " + err)
lock.close()

# --- 11. a rollback switches the index along, without a full rebuild afterwards
home = clone(base, "box-rollback")
rc, out, err = sync(home, repo)
rc, out, err = kho(home, "rollback", TOAN)
check(rc == 0 and "back to version 1" in out, "rollback: " + out + err)
rc, out, err = kho(home, "search", "phan so")
check(rc == 0 and "out of step" not in err, "no rebuild after a rollback: " + err)

# --- an HTTP repository that counts requests and resumes with Range (as nginx does)
requests = []
flight = {"now": 0, "most": 0, "lock": threading.Lock()}


class Repo(http.server.BaseHTTPRequestHandler):
    root = None
    delay = 0  # seconds an object takes, to see fetches overlap

    def log_message(self, *args):
        pass

    def do_GET(self):
        rel = self.path.split("?")[0].lstrip("/")
        requests.append(rel)
        path = os.path.join(self.root, rel)
        if ".." in rel or not os.path.isfile(path):
            self.send_error(404)
            return
        if self.delay and rel.startswith("objects/"):
            with flight["lock"]:
                flight["now"] += 1
                flight["most"] = max(flight["most"], flight["now"])
            time.sleep(self.delay)
            with flight["lock"]:
                flight["now"] -= 1
        data = open(path, "rb").read()
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


def serve(root):
    Repo.root = root
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Repo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d/" % srv.server_address[1]


# --- 5. an object two files share is fetched once and counted once
import random
dup = os.path.join(work, "dup-pack")
shutil.copytree(os.path.join(DATA, "packs", "mini"), dup)
os.makedirs(os.path.join(dup, "media"))
rng = random.Random(5)
same = bytes(rng.getrandbits(8) for _ in range(60000))
for n in ("a.bin", "b.bin", "c.bin"):
    open(os.path.join(dup, "media", n), "wb").write(same)
r5 = os.path.join(work, "r-dup-objects")
rc, out, err = kho(work, "publish", "--repo", r5, "-s", key, dup)
check(rc == 0, "publish a pack with one file three times: " + err)
srv, url = serve(r5)
home = box("test.*")
rc, out, err = sync(home, url, "--dry-run")
index = json.load(open(os.path.join(r5, "packs", "test.mini", "1.json")))
unique = {c[0]: c[2] for f in index["files"] for c in f["chunks"]}
import re
m = re.search(r"([\d.]+) kB to download", out)
check(m and abs(float(m.group(1)) - sum(unique.values()) / 1000) < 0.06,
      "the plan counts each object once (%s kB, %.1f kB unique)" % (m and m.group(1), sum(unique.values()) / 1000))
del requests[:]
rc, out, err = sync(home, url)
obj = blake(same)
gets = [q for q in requests if obj in q]
check(rc == 0 and len(gets) == 1, "the shared object is fetched once (%d): %s" % (len(gets), err))
srv.shutdown()

# a source without patch objects (a neighbour box): the files' own objects are fetched
# instead, still several at a time
r = clone(repo, "r-no-patches")
v3 = make_version("toan-v3", 3, "Câu của phiên bản ba.")
for name in sorted(os.listdir(os.path.join(v3, "lessons")))[:12]:
    path = os.path.join(v3, "lessons", name)
    html = open(path, encoding="utf-8").read()
    open(path, "w", encoding="utf-8").write(html.replace("</p>", " Thêm ở bài %s.</p>" % name, 1))
rc, out, err = kho(work, "publish", "--repo", r, "-s", key, v3)
check(rc == 0, "publish version 3: " + err)
patches = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(r, "objects")) for f in fs if ".patch-" in f]
check(len(patches) >= 10, "version 3 has patches (%d)" % len(patches))
for f in patches:
    os.remove(f)
srv, url = serve(r)
Repo.delay = 0.25
home = clone(base, "box-no-patches")
rc, out, err = sync(home, url)
Repo.delay = 0
check(rc == 0 and installed(home) == {TOAN: 3}, "an update from a source without patches: " + out + err)
check(flight["most"] >= 2, "the files' objects are fetched several at a time (%d)" % flight["most"])
srv.shutdown()

# --- 8. a download cut off is resumed only from the source it came from
srv, url = serve(repo_v1)
home = box(TOAN)
index = json.load(open(os.path.join(repo_v1, "packs", TOAN, "1.json")))
target = [f for f in index["files"] if f["path"] == "manifest.xml"][0]["chunks"][0][0]
rel = os.path.join("objects", target[:2], target + ".zst")
good = open(os.path.join(repo_v1, rel), "rb").read()
other = bytes(x ^ 0x5A for x in good[:len(good) // 2])  # what another source had sent
os.makedirs(os.path.join(home, "sync", "objects", target[:2]))
for suffix in (".part", ".part-" + blake(url.encode())[:8]):
    open(os.path.join(home, "sync", rel + suffix), "wb").write(other)
rc, out, err = sync(home, url)
check(rc == 0 and installed(home) == {TOAN: 1}, "a mismatched partial download is fetched again: " + out + err)
srv.shutdown()

# an object larger than any object may be: named as such
r = clone(repo_v1, "r-huge-object")
open(os.path.join(r, rel), "wb").write(b"\0" * (3 << 20))
srv, url = serve(r)
rc, out, err = sync(box(TOAN), url)
check(rc == 1 and "larger than" in err, "an oversized object is named as such: " + err)
srv.shutdown()

# --- a USB stick that hangs (a FIFO) or links out of itself (a symbolic link)
r = clone(repo_v1, "r-fifo")
os.remove(os.path.join(r, rel))
os.mkfifo(os.path.join(r, rel))
rc, out, err = sync(box(TOAN), r, timeout=60)
check(rc == 1 and "not a regular file" in err, "a FIFO on a stick is refused, not waited on: %r %s" % (rc, err))
r = clone(repo_v1, "r-symlink")
shutil.move(os.path.join(r, rel), os.path.join(work, "outside.zst"))
os.symlink(os.path.join(work, "outside.zst"), os.path.join(r, rel))
rc, out, err = sync(box(TOAN), r)
check(rc == 1 and "symbolic link" in err, "a symbolic link on a stick is refused: " + err)

# --- a file name with two dots in it is a file name
dots = os.path.join(work, "dots-pack")
shutil.copytree(os.path.join(DATA, "packs", "mini"), dots)
os.makedirs(os.path.join(dots, "media"))
open(os.path.join(dots, "media", "a..b.txt"), "w").write("hai chấm")
r = os.path.join(work, "r-dots")
rc, out, err = kho(work, "publish", "--repo", r, "-s", key, dots)
check(rc == 0, "publish a pack with a..b.txt: " + err)
home = box("test.*")
rc, out, err = sync(home, r)
check(rc == 0 and installed(home) == {"test.mini": 1}, "a..b.txt syncs: " + out + err)

# --- 14. a neighbour offers only what its synced indexes name, not every blob it holds
home = box(TOAN, source=repo_v1)
rc, out, err = kho(home, "import", dots)
check(rc == 0, "a pack imported by hand: " + err)
neighbour = Server(home)
hand = blake("hai chấm".encode())
status, _, _ = http_get(neighbour, "/repo/objects/%s/%s.zst" % (hand[:2], hand))
check(status == 404, "a blob of a hand-imported pack is not offered: %d" % status)
status, _, body = http_get(neighbour, "/repo/" + rel)
check(status == 200 and body, "an object of a synced version is: %d" % status)
three = json.load(open(os.path.join(repo_v1, "packs", TOAN, "1.json")))["files"][3]["chunks"][0][0]
status, _, _ = http_get(neighbour, "/repo/objects/%s/%s.zst" % (three[:2], three))
check(status == 200, "and another: %d" % status)
neighbour.stop()
done()
