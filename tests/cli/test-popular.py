#!/usr/bin/env python3
"""End to end: popularity across schools. The centre folds the popularity.json of kho repo
report into its catalog (kho repo popular: only lessons of its packs, at most 200, re-signed);
a box that synced shows them on a teacher's home page ("everywhere"), only those it has; a
malformed popularity file is refused, and so is a signed catalog whose "popular" is malformed."""
import json
import os

from khotest import SOURCE, Server, Teacher, add_user, check, done, kho, tmpdir

PACKS = os.path.join(SOURCE, "content-packs", "packs")
work = tmpdir("work")
repo = os.path.join(work, "repo")
key, pub = os.path.join(work, "p.key"), os.path.join(work, "p.pub")
kho(work, "keygen", "-s", key, "-p", pub, "--no-passphrase")
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key,
                   *[os.path.join(PACKS, p) for p in ("vn.kho.toan-5", "vn.kho.khtn-7", "vn.kho.tin-hoc-10")])
check(rc == 0, "publish: " + out + err)


def L(pack, lesson, opens, schools):
    return {"pack": pack, "lesson": lesson, "opens": opens, "schools": schools}


popularity = os.path.join(work, "popularity.json")
with open(popularity, "w") as f:
    json.dump({"format": "kho-popularity-1", "lessons": [
        L("vn.kho.khtn-7", "bai-03", 90, 12), L("vn.kho.other", "x", 80, 11),
        L("vn.kho.tin-hoc-10", "bai-01", 70, 9), L("vn.kho.toan-5", "bai-02", 50, 7)]}, f)
rc, out, err = kho(work, "repo", "popular", repo, popularity, "-s", key)
check(rc == 0 and "3 popular lessons" in out, "kho repo popular: " + out + err)
catalog = json.load(open(os.path.join(repo, "catalog.json")))
check([(p["pack"], p["lesson"]) for p in catalog["popular"]] ==
      [("vn.kho.khtn-7", "bai-03"), ("vn.kho.tin-hoc-10", "bai-01"), ("vn.kho.toan-5", "bai-02")],
      "only lessons of the catalog's packs, in order: %r" % catalog["popular"])
rc, out, err = kho(work, "repo", "verify", repo, "-p", pub)
check(rc == 0, "the catalog is re-signed: " + out + err)
for name, content in (("bad.json", "{\"format\": "), ("other.json", json.dumps({"format": "x", "lessons": []})),
                      ("neg.json", json.dumps({"format": "kho-popularity-1", "lessons": [L("vn.kho.toan-5", "bai-01", -1, 1)]})),
                      ("ids.json", json.dumps({"format": "kho-popularity-1", "lessons": [L("vn.kho.toan-5", "../x", 1, 1)]}))):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(content)
    rc, out, err = kho(work, "repo", "popular", repo, path, "-s", key)
    check(rc == 1 and name in err, "%s refused: %s" % (name, err))
check(json.load(open(os.path.join(repo, "catalog.json")))["serial"] == catalog["serial"], "a refused file changes nothing")

# a box with two of the three packs shows the popular lessons it has
box = tmpdir("box")
kho(box, "trust", "add", pub)
kho(box, "subscribe", "vn.kho.toan-5")
kho(box, "subscribe", "vn.kho.khtn-7")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0, "sync: " + out + err)
add_user(box, "co.lan", "mat-khau-dai")
srv = Server(box)
lan = Teacher(srv, "co.lan", "mat-khau-dai")
status, h = lan.call("GET", "/api/home")
got = [(x["pack"], x["lesson"], x["schools"]) for x in h["everywhere"]]
check(status == 200 and got == [("vn.kho.khtn-7", "bai-03", 12), ("vn.kho.toan-5", "bai-02", 7)],
      "popular across schools, those on this box: %r" % got)
check(h["everywhere"][0]["title"] and h["everywhere"][0]["url"] == "/lesson/vn.kho.khtn-7/bai-03", "with titles")
srv.stop()

# a signed catalog with a malformed "popular" is refused by the box
catalog = json.load(open(os.path.join(repo, "catalog.json")))
catalog["popular"] = [{"pack": "vn.kho.toan-5", "lesson": "bai-01", "opens": "many", "schools": 1}]
catalog["serial"] += 1
with open(os.path.join(repo, "catalog.json"), "w") as f:
    json.dump(catalog, f)
rc, out, err = kho(work, "pack", "sign", "-s", key, os.path.join(repo, "catalog.json"))
check(rc == 0, "re-signed by hand: " + err)
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 1 and "popular" in err, "refused: " + err)
done()
