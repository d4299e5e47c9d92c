#!/usr/bin/env python3
"""End to end: teachers' collections over the API — made, ordered, renamed, shared or private;
a teacher never reads another's private collection nor changes another's shared one; an
anonymous user changes nothing; exported as a native pack that imports on another box with its
images and style sheets; queued in the outbox for the centre; kept by kho backup."""
import io
import os
import re
import zipfile

from khotest import SOURCE, Server, Teacher, add_user, check, done, http, kho, kho_json, tmpdir

PACKS = os.path.join(SOURCE, "content-packs", "packs")
home = tmpdir("home")
rc, out, err = kho(home, "import", os.path.join(PACKS, "vn.kho.toan-5"), os.path.join(PACKS, "vn.kho.khtn-7"))
check(rc == 0, "import: " + err)
add_user(home, "co.lan", "mat-khau-dai")
add_user(home, "thay.nam", "mat-khau-dai")
srv = Server(home)
lan = Teacher(srv, "co.lan", "mat-khau-dai")
nam = Teacher(srv, "thay.nam", "mat-khau-dai")

status, c = lan.call("POST", "/api/collections", {"name": "Tuần 12 – Lớp 5A"})
check(status == 201 and c["name"] == "Tuần 12 – Lớp 5A" and c["shared"] is False and c["mine"] and c["items"] == [],
      "a new collection: %r" % c)
cid = c["id"]
for lesson in ("bai-03", "bai-01", "bai-02"):
    status, c = lan.call("POST", "/api/collections/%d/items" % cid, {"pack": "vn.kho.toan-5", "lesson": lesson})
    check(status == 200, "add %s: %r" % (lesson, c))
status, c = lan.call("POST", "/api/collections/%d/items" % cid, {"pack": "vn.kho.toan-5", "lesson": "bai-01"})
check([i["lesson"] for i in c["items"]] == ["bai-03", "bai-01", "bai-02"], "in the order added, each once: %r" % c["items"])
check(c["items"][0]["title"].startswith("Bài 3") and c["items"][0]["url"] == "/lesson/vn.kho.toan-5/bai-03",
      "items carry titles and app addresses: %r" % c["items"][0])
status, res = lan.call("POST", "/api/collections/%d/items" % cid, {"pack": "vn.kho.toan-5", "lesson": "nope"})
check(status == 400 and "nope" in res["error"], "a lesson not on the box: 400 %r" % res)
status, c = lan.call("POST", "/api/collections/%d" % cid, {"items": [
    {"pack": "vn.kho.toan-5", "lesson": "bai-01"}, {"pack": "vn.kho.toan-5", "lesson": "bai-02"},
    {"pack": "vn.kho.khtn-7", "lesson": c["items"][0]["lesson"] if False else "bai-01"}]})
check(status == 200 and [(i["pack"][7:], i["lesson"]) for i in c["items"]] ==
      [("toan-5", "bai-01"), ("toan-5", "bai-02"), ("khtn-7", "bai-01")], "reordered, from two packs: %r" % c)
status, c2 = lan.call("POST", "/api/collections", {"name": "Ôn tập", "shared": True})
check(status == 201 and c2["shared"], "a shared collection")

# access control
status, res = nam.call("GET", "/api/collections")
check(status == 200 and [x["name"] for x in res["collections"]] == ["Ôn tập"], "another teacher lists only the shared one: %r" % res)
check(res["collections"][0]["owner"] == "co.lan" and not res["collections"][0]["mine"], "owner named, not theirs")
status, res = nam.call("GET", "/api/collections/%d" % cid)
check(status == 404, "another's private collection does not exist for them: %d" % status)
for method, path, body in (("POST", "/api/collections/%d" % c2["id"], {"name": "mine now"}),
                           ("POST", "/api/collections/%d/items" % c2["id"], {"pack": "vn.kho.toan-5", "lesson": "bai-01"}),
                           ("DELETE", "/api/collections/%d" % c2["id"], None)):
    status, res = nam.call(method, path, body)
    check(status == 403, "%s %s on another's shared collection: 403 (%d)" % (method, path, status))
for method, path, body in (("POST", "/api/collections/%d" % cid, {"name": "x"}),
                           ("DELETE", "/api/collections/%d" % cid, None),
                           ("POST", "/api/collections/%d/outbox" % cid, None)):
    status, res = nam.call(method, path, body)
    check(status == 404, "%s %s on another's private collection: 404 (%d)" % (method, path, status))
status, h, body = http(srv, "/api/collections")
check(status == 401, "anonymous: 401")
status, h, body = http(srv, "/api/collections", "POST", {"Content-Type": "application/json"}, '{"name":"x"}')
check(status == 401, "anonymous changes nothing")
csrf, lan.csrf = lan.csrf, None
status, res = lan.call("POST", "/api/collections", {"name": "no csrf"})
lan.csrf = csrf
check(status == 403, "no CSRF token: 403")
for bad in ({"name": ""}, {"name": "x" * 201}, {"name": "a\u0001b"}, {"name": 5}, {"shared": "yes", "name": "a"}, []):
    status, res = lan.call("POST", "/api/collections", bad)
    check(status == 400, "malformed %r: 400 (%d)" % (bad, status))
status, res = lan.call("POST", "/api/collections/%d" % cid, {"items": [{"pack": "vn.kho.toan-5"}]})
check(status == 400, "an item without a lesson: 400")
status, res = lan.call("POST", "/api/collections/%d" % cid, {"items": [{"pack": "vn.kho.toan-5", "lesson": "bai-01"}] * 501})
check(status == 400 and "500" in res["error"], "at most 500 lessons: %r" % res)
status, res = lan.call("POST", "/api/collections/%d" % cid, {"name": "Renamed", "shared": True,
                                                          "items": [{"pack": "vn.kho.toan-5", "lesson": "nope"}]})
check(status == 400 and "nope" in res["error"], "a lesson not on the box in a change: 400 %r" % res)
status, c = lan.call("GET", "/api/collections/%d" % cid)
check(len(c["items"]) == 3 and c["name"] == "Tuần 12 – Lớp 5A" and not c["shared"], "a refused change changes nothing")
before = [(i["pack"], i["lesson"]) for i in c["items"]]
status, c = lan.call("POST", "/api/collections/%d" % cid, {"items": c["items"] + c["items"][:1]})
check(status == 200 and [(i["pack"], i["lesson"]) for i in c["items"]] == before,
      "a lesson listed twice keeps its first place: %r" % c["items"])
for path in ("/api/collections/0", "/api/collections/-1", "/api/collections/abc", "/api/collections/99999999999999999999"):
    status, res = lan.call("GET", path)
    check(status == 404, "%s: 404 (%d)" % (path, status))

# rename, share, unshare
status, c = lan.call("POST", "/api/collections/%d" % cid, {"name": "Tuần 13", "shared": True})
check(status == 200 and c["name"] == "Tuần 13" and c["shared"], "renamed and shared")
status, res = nam.call("GET", "/api/collections/%d" % cid)
check(status == 200 and len(res["items"]) == 3, "now the other teacher reads it")
status, c = lan.call("POST", "/api/collections/%d" % cid, {"shared": False})
status, res = nam.call("GET", "/api/collections/%d" % cid)
check(status == 404, "private again")

# export as a native pack; it imports on another box with its files
status, h, body = http(lan.server, "/api/collections/%d/export" % cid, headers={"Cookie": lan.cookie}, timeout=60)
check(status == 200 and h.get("content-type") == "application/zip" and "attachment" in h.get("content-disposition", ""),
      "export: %d %r" % (status, h))
check("filename*=UTF-8''Tu%E1%BA%A7n%2013.kho" in h.get("content-disposition", ""),
      "the file is named after the collection: %r" % h.get("content-disposition"))
names = zipfile.ZipFile(io.BytesIO(body)).namelist()
check("manifest.xml" in names and "vn.kho.toan-5/lessons/bai-01.html" in names and "vn.kho.toan-5/style.css" in names,
      "the pack holds the lessons and their style sheet: %r" % names)
check(not any(n.startswith("vn.kho.toan-5/lessons/bai-03") for n in names), "no lesson outside the collection")
other = tmpdir("other-box")
pack_file = os.path.join(tmpdir("usb"), "c.kho")
with open(pack_file, "wb") as f:
    f.write(body)
rc, out, err = kho(other, "import", pack_file)
check(rc == 0, "the export imports on another box: " + out + err)
packs = kho_json(other, "list", "--json")["packs"]
check(len(packs) == 1 and packs[0]["lessons"] == 3 and packs[0]["title"] == "Tuần 13", "as one pack of 3 lessons: %r" % packs)
rc, out, err = kho(other, "pack", "lint", pack_file)
check(rc == 0 and "0 errors" in out, "the export lints without errors: " + out + err)
status, h, body2 = http(lan.server, "/api/collections/%d/export" % cid, headers={"Cookie": lan.cookie}, timeout=60)
check(body2 == body, "exporting the same collection twice gives the same bytes")
status, h, other_body = http(nam.server, "/api/collections/%d/export" % cid, headers={"Cookie": nam.cookie})
check(status == 404, "another's private collection does not export")

manifest = zipfile.ZipFile(io.BytesIO(body)).read("manifest.xml").decode()
check(re.search(r'<pack id="teacher\.[0-9a-f]{16}"', manifest) is not None,
      "the pack's id is random (it names nobody): " + manifest[:200])

# queued for the centre: one pack of a collection waits, the newest
status, res = lan.call("POST", "/api/collections/%d/outbox" % cid)
check(status == 201 and res["queued"].endswith(".kho"), "queued: %r" % res)
first = res["queued"]
lan.call("POST", "/api/collections/%d" % cid, {"name": "Tuần 13 (sửa)"})
status, res = lan.call("POST", "/api/collections/%d/outbox" % cid)
check(status == 201 and res["queued"] != first, "queued again after a change: %r" % res)
outbox = sorted(f for f in os.listdir(os.path.join(home, "outbox")) if f.endswith(".kho"))
check(outbox == [res["queued"]], "the newest replaces the one before: %r" % outbox)
lan.call("POST", "/api/collections/%d" % cid, {"name": "Tuần 13"})
status, res = lan.call("POST", "/api/collections/%d/outbox" % cid)
rc, out, err = kho(home, "outbox", "list")
check(res["queued"] in out, "in the outbox: " + out)
status, res = nam.call("POST", "/api/collections/%d/outbox" % c2["id"])
check(status == 403, "only the owner sends a shared collection to the centre")

# the box's command line sees every collection, and exports one
listed = kho_json(home, "collection", "list", "--json")["collections"]
check(sorted(x["name"] for x in listed) == ["Tuần 13", "Ôn tập"] and all(x["owner"] == "co.lan" for x in listed),
      "kho collection list: %r" % listed)
rc, out, err = kho(home, "collection", "show", str(cid))
check(rc == 0 and "vn.kho.khtn-7/bai-01" in out and out.index("toan-5/bai-01") < out.index("toan-5/bai-02"), "show: " + out)
cli_pack = os.path.join(tmpdir("usb2"), "cli.kho")
rc, out, err = kho(home, "collection", "export", str(cid), "-o", cli_pack)
# the renames above may have moved the version (the time of the last change): export again
status, h, body = http(lan.server, "/api/collections/%d/export" % cid, headers={"Cookie": lan.cookie}, timeout=60)
check(rc == 0 and open(cli_pack, "rb").read() == body, "kho collection export writes the same pack: " + out + err)
rc, out, err = kho(home, "collection", "export", str(cid), "--outbox")
check(rc == 0 and "queued" in out, "kho collection export --outbox: " + out + err)
rc, out, err = kho(home, "collection", "show", "999")
check(rc != 0 and "no collection 999" in err, "an unknown collection: " + err)
rc, out, err = kho(home, "collection", "export", str(cid))
check(rc == 2 or (rc != 0 and "-o" in err), "export needs -o or --outbox: %d %s" % (rc, err))

# kept by a backup; removed by its owner
backup = os.path.join(tmpdir("stick"), "b")
rc, out, err = kho(home, "backup", backup)
fresh = tmpdir("fresh")
kho(fresh, "restore", backup)
srv2 = Server(fresh)
lan2 = Teacher(srv2, "co.lan", "mat-khau-dai")
status, res = lan2.call("GET", "/api/collections")
check(sorted(x["name"] for x in res["collections"]) == ["Tuần 13", "Ôn tập"], "restored with the collections: %r" % res)
srv2.stop()
status, res = lan.call("DELETE", "/api/collections/%d" % cid)
status, res = lan.call("GET", "/api/collections/%d" % cid)
check(status == 404, "removed")
rc, log = srv.stop()
check(rc == 0, "stopped")
done()
