#!/usr/bin/env python3
"""End to end: the static repository — kho publish (idempotent, only what changed, one
key per repository), kho repo list / verify (every altered byte named) / gc."""
import json
import os
import random
import re
import shutil

from khotest import DATA, check, done, kho, kho_json, tmpdir

work = tmpdir("work")
home = tmpdir("home")
repo = os.path.join(work, "repo")
sec, pub = os.path.join(work, "a.key"), os.path.join(work, "a.pub")
sec2, pub2 = os.path.join(work, "b.key"), os.path.join(work, "b.pub")
for s, p in ((sec, pub), (sec2, pub2)):
    rc, out, err = kho(home, "keygen", "-s", s, "-p", p, "--no-passphrase")
    check(rc == 0, "keygen: " + err)


def copy_pack(src, name):
    dst = os.path.join(work, name)
    shutil.copytree(src, dst)
    return dst


def set_version(pack, version):
    path = os.path.join(pack, "manifest.xml")
    text = open(path, encoding="utf-8").read()
    text = re.sub(r'(<pack [^>]*version=")\d+(")', r"\g<1>%d\g<2>" % version, text, count=1)
    open(path, "w", encoding="utf-8").write(text)


def published(out):
    m = re.search(r"published (\d+) versions? .*?: (\d+) new objects \(([\d.]+) kB\), (\d+) reused", out)
    return (int(m.group(1)), int(m.group(2)), float(m.group(3)), int(m.group(4))) if m else None


# --- publish, idempotent
toan = copy_pack(os.path.join(DATA, "..", "..", "content-packs", "packs", "vn.kho.toan-5"), "toan-v1")
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec, toan)
first = published(out)
check(rc == 0 and first and first[0] == 1 and first[1] > 20, "first publish: " + out + err)
check(os.path.exists(os.path.join(repo, "catalog.json.minisig")), "the catalog is signed")
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec, toan)
check(rc == 0 and "nothing new" in out and "serial 1" in out, "publishing again changes nothing: " + out)
listing = kho_json(home, "repo", "list", repo, "-p", pub)
check(listing.get("serial") == 1 and listing.get("verified") and len(listing["versions"]) == 1
      and listing["versions"][0]["lessons"] == 21, "repo list: %r" % listing)

# --- a one-lesson change moves kilobytes, not the pack
toan2 = copy_pack(toan, "toan-v2")
set_version(toan2, 2)
lessons = sorted(os.listdir(os.path.join(toan2, "lessons")))
path = os.path.join(toan2, "lessons", lessons[3])
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(text.replace("</p>", " Một câu mới cho bài này.</p>", 1))
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec, toan2)
second = published(out)
check(rc == 0 and second and second[1] == 2, "one changed lesson: its file and the manifest are new objects: %r %s" % (second, out))
check(second and second[2] < 8.0 and second[3] > 20, "a one-lesson update adds under 8 kB (%r)" % (second,))

# the same version with other content is refused
toan2b = copy_pack(toan2, "toan-v2-other")
open(os.path.join(toan2b, "lessons", lessons[4]), "a", encoding="utf-8").write("<p>khác</p>")
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec, toan2b)
check(rc == 1 and "other content" in err, "same version, other content: refused: " + err)
# another publisher's key is refused
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec2, toan2b)
check(rc == 1 and "one publisher key" in err, "another key: refused: " + err)

# --- large files: content-defined chunks, so an insertion moves little
rng = random.Random(7)
media = copy_pack(os.path.join(DATA, "packs", "mini"), "media-v1")
os.makedirs(os.path.join(media, "media"))
blob = bytes(rng.getrandbits(8) for _ in range(3 * 1024 * 1024))
open(os.path.join(media, "media", "video.bin"), "wb").write(blob)
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec, media)
m1 = published(out)
check(rc == 0 and m1 and m1[1] > 10, "a 3 MiB file becomes many chunks: " + out + err)
media2 = copy_pack(media, "media-v2")
set_version(media2, 2)
open(os.path.join(media2, "media", "video.bin"), "wb").write(blob[:1500000] + b"inserted bytes" * 7 + blob[1500000:])
rc, out, err = kho(home, "publish", "--repo", repo, "-s", sec, media2)
m2 = published(out)
check(rc == 0 and m2 and m2[1] <= 4 and m2[3] >= m1[1] - 3,
      "an insertion in a large file writes one or two chunks: %r after %r" % (m2, m1))

# --- verify: everything, then each kind of alteration, named
rc, out, err = kho(home, "repo", "verify", repo, "-p", pub)
check(rc == 0 and "verified" in out, "verify: " + out + err)
rc, out, err = kho(home, "repo", "verify", repo, "-p", pub2)
check(rc == 1 and "not trusted" in err, "verify with the wrong key: " + err)


def altered(rel, at=None):
    path = os.path.join(repo, rel)
    data = bytearray(open(path, "rb").read())
    i = len(data) // 2 if at is None else at
    data[i] ^= 0x20
    saved = open(path, "rb").read()
    open(path, "wb").write(bytes(data))
    rc, out, err = kho(home, "repo", "verify", repo, "-p", pub)
    open(path, "wb").write(saved)
    return rc, err


index = json.load(open(os.path.join(repo, "packs", "vn.kho.toan-5", "1.json")))
obj = index["files"][0]["chunks"][0][0]
for rel in ("catalog.json", "packs/vn.kho.toan-5/1.json", "objects/%s/%s.zst" % (obj[:2], obj)):
    rc, err = altered(rel)
    check(rc == 1 and rel.split("/")[-1] in err, "one altered byte in %s is named: %s" % (rel, err.strip()))
os.rename(os.path.join(repo, "objects", obj[:2], obj + ".zst"), os.path.join(work, "moved.zst"))
rc, out, err = kho(home, "repo", "verify", repo, "-p", pub)
check(rc == 1 and "missing" in err, "a missing object is named: " + err)
os.rename(os.path.join(work, "moved.zst"), os.path.join(repo, "objects", obj[:2], obj + ".zst"))
for hostile in (b"", b"{", b'{"format": "kho-repository-1"}', b"[1,2]", b"\x00" * 50,
                b'{"format":"kho-repository-1","serial":1,"packs":[{"id":"x","versions":[{"version":1,"index":"../../etc/passwd","index_hash":"' + b"0" * 64 + b'"}]}]}'):
    saved = open(os.path.join(repo, "catalog.json"), "rb").read()
    open(os.path.join(repo, "catalog.json"), "wb").write(hostile)
    rc, out, err = kho(home, "repo", "verify", repo)
    check(rc == 1 and err.startswith("kho: repo verify:"), "hostile catalog %r: %s" % (hostile[:20], err.strip()))
    open(os.path.join(repo, "catalog.json"), "wb").write(saved)

# --- gc keeps the newest version of each pack and what it uses
before = sum(len(fs) for _, _, fs in os.walk(os.path.join(repo, "objects")))
rc, out, err = kho(home, "repo", "gc", repo, "--keep", "1", "-s", sec)
check(rc == 0 and "dropped 2 old versions" in out, "gc: " + out + err)
after = sum(len(fs) for _, _, fs in os.walk(os.path.join(repo, "objects")))
check(after < before, "gc removed objects (%d → %d)" % (before, after))
rc, out, err = kho(home, "repo", "verify", repo, "-p", pub)
check(rc == 0, "the repository verifies after gc: " + err)
listing = kho_json(home, "repo", "list", repo, "-p", pub)
check([(v["pack"], v["version"]) for v in listing["versions"]] == [("test.mini", 2), ("vn.kho.toan-5", 2)]
      and listing["serial"] > 4, "after gc: %r" % listing)
rc, out, err = kho(home, "repo", "list", os.path.join(work, "nothing"))
check(rc == 1 and "not a kho repository" in err, "list of a folder that is no repository")

# --- gc also removes the indexes and deltas no kept version names, and what a killed
# publish left in packs/
repo3 = os.path.join(work, "repo3")
for version in (1, 2, 3):
    pack = copy_pack(toan, "toan-gc-%d" % version)
    set_version(pack, version)
    open(os.path.join(pack, "lessons", lessons[5]), "a", encoding="utf-8").write("<p>%d</p>" % version)
    rc, out, err = kho(home, "publish", "--repo", repo3, "-s", sec, pack)
    check(rc == 0, "publish version %d: %s" % (version, err))
tdir = os.path.join(repo3, "packs", "vn.kho.toan-5")
check(sorted(os.listdir(tdir)) == ["1.json", "2.from-1.json", "2.json", "3.from-2.json", "3.json"],
      "three versions, two deltas: %r" % sorted(os.listdir(tdir)))
os.makedirs(os.path.join(repo3, "packs", "gone.pack"))
open(os.path.join(repo3, "packs", "gone.pack", "1.json"), "w").write("{}")
open(os.path.join(tdir, "4.json.tmp"), "w").write("{")
rc, out, err = kho(home, "repo", "gc", repo3, "--keep", "1", "-s", sec)
check(rc == 0 and "dropped 2 old versions" in out and "5 index files" in out, "gc: " + out + err)
check(sorted(os.listdir(tdir)) == ["3.from-2.json", "3.json"], "what the kept version names stays: %r" % sorted(os.listdir(tdir)))
check(not os.path.exists(os.path.join(repo3, "packs", "gone.pack")), "a pack the catalog does not name is gone")
rc, out, err = kho(home, "repo", "verify", repo3, "-p", pub)
check(rc == 0, "and the repository verifies: " + err)

# --- one writer at a time: publish, bundle and gc share the repository's lock
import fcntl
lock = open(os.path.join(repo3, ".kho-lock"), "w")
fcntl.flock(lock, fcntl.LOCK_EX)
for args in (("publish", "--repo", repo3, "-s", sec, media2), ("repo", "gc", repo3, "--keep", "1", "-s", sec),
             ("repo", "bundle", repo3, "all", "-s", sec)):
    rc, out, err = kho(home, *args)
    check(rc == 1 and "another kho publish, repo bundle or gc" in err, "%s while another writes: %s" % (args[0:2], err))
lock.close()
rc, out, err = kho(home, "publish", "--repo", repo3, "-s", sec, media2)
check(rc == 0, "then it writes: " + err)
done()
