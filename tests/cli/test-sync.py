#!/usr/bin/env python3
"""End to end: kho subscribe and kho sync from a repository folder (a USB stick) and over
HTTP from a real nginx on 127.0.0.1 — trust, dry run, first sync, a one-lesson update that
fetches only what changed (counted in nginx's access log), a replayed older catalog, a
tampered object, an interrupted sync that resumes."""
import os
import re
import shutil
import socket
import subprocess
import time

from khotest import DATA, Server, check, done, http_json, kho, kho_json, tmpdir

work = tmpdir("work")
repo = os.path.join(work, "repo")
key, pub = os.path.join(work, "p.key"), os.path.join(work, "p.pub")
rc, out, err = kho(tmpdir("author"), "keygen", "-s", key, "-p", pub, "--no-passphrase")
check(rc == 0, "keygen")

src = os.path.join(DATA, "..", "..", "content-packs", "packs")
v1 = os.path.join(work, "toan-v1")
shutil.copytree(os.path.join(src, "vn.kho.toan-5"), v1)
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, v1,
                   os.path.join(src, "vn.kho.tin-hoc-10"))
check(rc == 0, "publish: " + out + err)


def make_v2(name, version, sentence):
    d = os.path.join(work, name)
    shutil.copytree(v1, d)
    m = os.path.join(d, "manifest.xml")
    text = open(m, encoding="utf-8").read()
    open(m, "w", encoding="utf-8").write(re.sub(r'(<pack [^>]*version=")\d+(")', r"\g<1>%d\g<2>" % version, text, count=1))
    lesson = os.path.join(d, "lessons", "bai-04.html")
    html = open(lesson, encoding="utf-8").read()
    open(lesson, "w", encoding="utf-8").write(html.replace("</p>", " %s</p>" % sentence, 1))
    return d


# --- from a folder (a USB stick)
box = tmpdir("box")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 1 and "kho trust add" in err, "an untrusted publisher is refused: " + err)
check(not os.path.exists(os.path.join(box, "sync", "build")), "nothing built")
rc, out, err = kho(box, "trust", "add", pub)
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "0 packs to install" in out, "no subscriptions, nothing installed: " + out + err)
rc, out, err = kho(box, "subscribe", "vn.kho.toan-*")
check(rc == 0, "subscribe")
subs = kho_json(box, "subscriptions")["subscriptions"]
check([s["pattern"] for s in subs] == ["vn.kho.toan-*"], "subscriptions: %r" % subs)
rc, out, err = kho(box, "sync", "--from", repo, "--dry-run")
check(rc == 0 and "install vn.kho.toan-5 1: 33 of 33 files" in out and "kB to download" in out,
      "dry run plans: " + out + err)
check(kho_json(box, "list")["packs"] == [], "a dry run installs nothing")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "installed vn.kho.toan-5 version 1" in out, "first sync: " + out + err)
packs = kho_json(box, "list")["packs"]
check([p["id"] for p in packs] == ["vn.kho.toan-5"] and packs[0]["signed_by"], "installed, verified: %r" % packs)
check(kho_json(box, "search", "phân số")["total"] > 0, "and searchable")
check(not os.path.exists(os.path.join(box, "sync")), "a complete sync leaves no work files")

import sqlite3


def lesson_rows(home):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(home, "kho.db"), uri=True)
    rows = {(v, lid): i for i, v, lid in db.execute(
        "SELECT l.id, v.version, l.lesson_id FROM lessons l JOIN pack_versions v ON v.id = l.pv"
        " WHERE v.pack_id = 'vn.kho.toan-5'")}
    docs = db.execute("SELECT count(*) FROM index_docs").fetchone()[0]
    visible = db.execute("SELECT count(*) FROM lessons l JOIN pack_versions v ON v.id = l.pv"
                         " JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version").fetchone()[0]
    db.close()
    return rows, docs, visible


# a one-lesson update fetches only its files
rows_v1, _, _ = lesson_rows(box)
old_catalog = {n: open(os.path.join(repo, n), "rb").read() for n in ("catalog.json", "catalog.json.minisig")}
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, make_v2("toan-v2", 2, "Câu thêm ở phiên bản hai."))
check(rc == 0, "publish v2")
rc, out, err = kho(box, "sync", "--from", repo)
m = re.search(r"update vn.kho.toan-5 1 → 2: (\d+) of 33 files to fetch, ([\d.]+) kB", out)
check(rc == 0 and m and int(m.group(1)) == 2 and float(m.group(2)) < 8, "update fetches 2 files, < 8 kB: " + out + err)
check(kho_json(box, "list")["packs"][0]["version"] == 2, "updated to 2")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "0 packs to install or update, 1 up to date" in out, "then up to date: " + out)
# only the changed lesson was indexed again: the others kept their rows (and index entries)
rows_v2, docs, visible = lesson_rows(box)
kept = [lid for (v, lid), i in rows_v2.items() if v == 2 and rows_v1.get((1, lid)) == i]
check(len(kept) == 20 and "bai-04" not in kept, "20 unchanged lessons kept their rows: %d" % len(kept))
check(all((1, lid) in rows_v2 for (v, lid) in rows_v1), "version 1 still has all its lessons (for a rollback)")
check(docs == visible, "the index holds exactly the visible lessons (%d of %d)" % (docs, visible))
check(kho_json(box, "search", "phien ban hai")["total"] >= 1, "the changed lesson's new text is found")
check(kho_json(box, "search", '"phan so thap phan"')["total"] >= 1, "unchanged lessons are still found")

# a replayed older catalog is refused
replay = os.path.join(work, "replay")
shutil.copytree(repo, replay)
for n, data in old_catalog.items():
    open(os.path.join(replay, n), "wb").write(data)
rc, out, err = kho(box, "sync", "--from", replay)
check(rc == 1 and "older than one already installed" in err, "rollback refused: " + err)

# a tampered object: the sync fails naming it, the box keeps its version; repaired, it resumes
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, make_v2("toan-v3", 3, "Câu thêm ở phiên bản ba."))
import json as _json
index = _json.load(open(os.path.join(repo, "packs", "vn.kho.toan-5", "3.json")))
new = [f for f in index["files"] if not os.path.exists(os.path.join(box, "blobs", f["hash"][:2], f["hash"]))]
lesson = [f for f in new if "patch" in f]
check(lesson, "the changed lesson has a patch from version 2: %r" % [f["path"] for f in new])
if lesson:
    f = lesson[0]
    h, base = f["hash"], f["patch"][0]
    victims = [os.path.join(repo, "objects", h[:2], h + ".zst"),
               os.path.join(repo, "objects", h[:2], "%s.patch-%s.zst" % (h, base))]
    saved = [open(v, "rb").read() for v in victims]
    for v, data in zip(victims, saved):
        open(v, "wb").write(data[:-3] + bytes(x ^ 0xFF for x in data[-3:]))
    rc, out, err = kho(box, "sync", "--from", repo)
    check(rc == 1 and h[:16] in err, "a tampered patch and object are named: " + err)
    check(kho_json(box, "list")["packs"][0]["version"] == 2, "the box keeps version 2")
    for v in victims:
        os.rename(v, v + ".away")
    rc, out, err = kho(box, "sync", "--from", repo)
    check(rc == 1 and ("not found" in err.lower() or "no such" in err.lower()), "a missing object: " + err)
    for v, data in zip(victims, saved):
        os.rename(v + ".away", v)
        open(v, "wb").write(data)
    rc, out, err = kho(box, "sync", "--from", repo)
    check(rc == 0 and "updated vn.kho.toan-5 version 3" in out, "repaired: the sync completes: " + out + err)

# a tampered index, and a tampered catalog: refused, named, nothing changed
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, make_v2("toan-v4x", 4, "Câu thêm ở phiên bản tư."))
idx = os.path.join(repo, "packs", "vn.kho.toan-5", "4.json")
saved = open(idx, "rb").read()
open(idx, "wb").write(saved.replace(b'"size":', b'"size" :', 1))
for delta in os.listdir(os.path.join(repo, "packs", "vn.kho.toan-5")):
    if delta.startswith("4.from-"):
        os.rename(os.path.join(repo, "packs", "vn.kho.toan-5", delta), os.path.join(work, delta))
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 1 and "4.json" in err, "a tampered index is named: " + err)
open(idx, "wb").write(saved)
for delta in os.listdir(work):
    if delta.startswith("4.from-"):
        os.rename(os.path.join(work, delta), os.path.join(repo, "packs", "vn.kho.toan-5", delta))
cat = os.path.join(repo, "catalog.json")
saved = open(cat, "rb").read()
open(cat, "wb").write(saved.replace(b'"serial"', b'"serial" ', 1))
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 1 and "does not verify" in err, "a tampered catalog is refused: " + err)
open(cat, "wb").write(saved)
check(kho_json(box, "list")["packs"][0]["version"] == 3, "the box keeps version 3")

# the night window ends before the first download: stopped cleanly, and continued later
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, make_v2("toan-v3b", 5, "Câu thêm ở phiên bản năm."))
rc, out, err = kho(box, "sync", "--from", repo, "--until", "@%d" % (int(time.time()) - 1))
check(rc == 3 and "stopped at the end of the window" in out, "--until: stopped, exit 3: " + out + err)
check(kho_json(box, "list")["packs"][0]["version"] == 3, "still version 3")
# a rate cap: the update's bytes cannot arrive faster than allowed
t0 = time.monotonic()
rc, out, err = kho(box, "sync", "--from", repo, "--max-rate", "2K")
m = re.search(r"([\d.]+) kB to download", out)
took = time.monotonic() - t0
check(rc == 0 and "updated vn.kho.toan-5 version 5" in out, "then the update completes: " + out + err)
if m:
    check(took >= 0.8 * float(m.group(1)) * 1000 / 2000, "--max-rate 2K: %.1f kB took %.2f s" % (float(m.group(1)), took))
rc, out, err = kho(box, "sync", "--from", repo, "--max-rate", "fast")
check(rc == 2, "a bad --max-rate is a usage error")

# subscription filters
rc, out, err = kho(box, "subscribe", "*", "--grade", "10")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "installed vn.kho.tin-hoc-10" in out, "a grade subscription brings tin-hoc-10: " + out + err)
rc, out, err = kho(box, "unsubscribe", "*")
check(rc == 0, "unsubscribe")

# a bundle the centre names: a box follows it with one subscription
rc, out, err = kho(work, "repo", "bundle", repo, "thpt", "--title", "Trung học phổ thông",
                   "--grade", "10", "--grade", "11", "--grade", "12", "-s", key)
check(rc == 0 and "3 rules" in out, "repo bundle: " + out + err)
box5 = tmpdir("box-bundle")
kho(box5, "trust", "add", pub)
kho(box5, "subscribe", "@thpt")
rc, out, err = kho(box5, "sync", "--from", repo)
check(rc == 0 and [p["id"] for p in kho_json(box5, "list")["packs"]] == ["vn.kho.tin-hoc-10"],
      "@thpt brings the grade 10 pack only: " + out + err)
rc, out, err = kho(work, "repo", "bundle", repo, "nothing", "--remove", "-s", key)
check(rc == 1 and "no bundle" in err, "removing a bundle that is not there: " + err)

# rollback, then gc: the previous version comes back; old versions and their files go
rc, out, err = kho(box, "rollback", "vn.kho.toan-5")
check(rc == 0 and "back to version 3" in out, "rollback 5 → 3: " + out + err)
check({p["id"]: p["version"] for p in kho_json(box, "list")["packs"]}["vn.kho.toan-5"] == 3, "version 3 visible")
check("Câu thêm ở phiên bản ba" in open(os.path.join(work, "toan-v3", "lessons", "bai-04.html"), encoding="utf-8").read(), "(v3's sentence)")
check(kho_json(box, "search", "phien ban ba")["total"] >= 1, "the index follows the rollback")
check(kho_json(box, "search", '"phien ban nam"')["total"] == 0, "v5's text is gone from the index")
blobs_before = sum(len(f) for _, _, f in os.walk(os.path.join(box, "blobs")))
rc, out, err = kho(box, "gc")
blobs_after = sum(len(f) for _, _, f in os.walk(os.path.join(box, "blobs")))
check(rc == 0 and "removed 1 old version" in out and blobs_after < blobs_before, "gc: %s (%d → %d files)" % (out.strip(), blobs_before, blobs_after))
rc, out, err = kho(box, "rollback", "vn.kho.toan-5")
check(rc == 0 and "back to version 2" in out, "the version kept by gc rolls back: " + out + err)
rc, out, err = kho(box, "rollback", "vn.kho.toan-5")
check(rc == 1 and "no older version" in err, "nothing older: " + err)
check(kho_json(box, "search", "phan so")["total"] > 0, "searches work after gc")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "updated vn.kho.toan-5 version 5" in out, "a sync brings the newest back: " + out + err)


# --- over HTTP from nginx
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


nginx = shutil.which("nginx") or "/usr/sbin/nginx"
if check(os.path.exists(nginx), "nginx is installed (scripts/install-deps.sh --test)"):
    port = free_port()
    # nginx's workers run as another user: they must be able to read the repository
    import khotest
    os.chmod(khotest._tmp, 0o755)
    for d in (work,):
        os.chmod(d, 0o755)
    ndir = tmpdir("nginx")
    conf = os.path.join(ndir, "nginx.conf")
    log = os.path.join(ndir, "access.log")
    open(conf, "w").write("""
daemon off; pid %(d)s/nginx.pid; error_log %(d)s/error.log;
events { worker_connections 64; }
http {
  access_log %(log)s;
  client_body_temp_path %(d)s; proxy_temp_path %(d)s; fastcgi_temp_path %(d)s;
  uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
  types { application/json json; }
  gzip on; gzip_types application/json;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%(port)d; root %(repo)s;
    location /inbox/ { root %(d)s; dav_methods PUT; create_full_put_path on; }
  }
}
""" % {"d": ndir, "log": log, "port": port, "repo": repo})
    proc = subprocess.Popen([nginx, "-c", conf, "-p", ndir], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    url = "http://127.0.0.1:%d/" % port
    box2 = tmpdir("box-http")
    kho(box2, "trust", "add", pub)
    kho(box2, "subscribe", "vn.kho.toan-*")
    rc, out, err = kho(box2, "sync", "--from", url)
    check(rc == 0 and "installed vn.kho.toan-5 version 5" in out, "first sync over HTTP: " + out + err)

    def served():
        total = 0
        for line in open(log):
            m = re.search(r'" (\d{3}) (\d+) ', line)
            if m and m.group(1) == "200":
                total += int(m.group(2))
        return total

    before = served()
    rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, make_v2("toan-v6", 6, "Câu thêm ở phiên bản sáu."))
    rc, out, err = kho(box2, "sync", "--from", url)
    update = served() - before
    check(rc == 0 and "updated vn.kho.toan-5 version 6" in out, "update over HTTP: " + out + err)
    print("one-lesson update over HTTP: %d bytes served by nginx" % update)
    # the target: 1.5 × the zstd -19 size of the changed files (the lesson and the manifest)
    # plus 8 KiB of metadata
    v6 = os.path.join(work, "toan-v6")
    changed = sum(len(subprocess.run(["zstd", "-19", "-q", "-c", os.path.join(v6, f)],
                                     capture_output=True).stdout)
                  for f in ("lessons/bai-04.html", "manifest.xml"))
    target = 1.5 * changed + 8192
    check(update <= target, "the one-lesson update moved %d bytes, target %d" % (update, target))
    # a link that drops connections half-way and answers 503: retried, resumed with a Range
    pport = free_port()
    proxy = subprocess.Popen(["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "faulty-proxy.py"),
                              str(pport), str(port)], stdout=subprocess.PIPE, text=True)
    check(proxy.stdout.readline().strip() == "ready", "the faulty proxy starts")
    big = make_v2("toan-v7", 7, "Câu thêm ở phiên bản bảy. " + "Thêm chữ cho bài dài hơn. " * 300)
    rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, big)
    os.environ["KHO_SYNC_STALL_SECONDS"] = "2"  # a stalled transfer is given up after 2 s
    t0 = time.monotonic()
    rc, out, err = kho(box2, "sync", "--from", "http://127.0.0.1:%d/" % pport)
    del os.environ["KHO_SYNC_STALL_SECONDS"]
    check(rc == 0 and "updated vn.kho.toan-5 version 7" in out, "through a faulty link: " + out + err)
    check(time.monotonic() - t0 < 18, "a stall was given up early, not waited out")
    ranges = sum(1 for line in open(log) if '" 206 ' in line)
    check(ranges >= 1, "a cut transfer was resumed with a Range request (%d)" % ranges)
    proxy.terminate()
    proxy.wait()
    # the outbox goes back to the centre with WebDAV PUT; a failed push keeps it queued
    report = os.path.join(work, "report.json")
    open(report, "w").write('{"lessons opened": 12}')
    rc, out, err = kho(box2, "outbox", "add", report)
    rc2, out2, err2 = kho(box2, "outbox", "add", report)
    check(rc == 0 and rc2 == 0, "outbox add: " + err + err2)
    rc, out, err = kho(box2, "outbox", "list")
    check("1 file to send" in out, "a file queued twice is one file: " + out)
    rc, out, err = kho(box2, "push", "--to", "http://127.0.0.1:%d/nowhere/" % port)
    check(rc == 1 and "stay queued" in out + err, "a push that fails keeps the file: " + out + err)
    rc, out, err = kho(box2, "push", "--to", "http://127.0.0.1:%d/inbox/" % port)
    box_id = open(os.path.join(box2, "box-id")).read().strip()
    inbox = os.path.join(ndir, "inbox", box_id)
    check(rc == 0 and "sent 1 file" in out and os.listdir(inbox) and
          open(os.path.join(inbox, os.listdir(inbox)[0])).read() == '{"lessons opened": 12}',
          "pushed with PUT to inbox/BOX_ID/: " + out + err)
    rc, out, err = kho(box2, "outbox", "list")
    check("0 files to send" in out, "nothing left to send")
    kho(box2, "outbox", "add", report)
    stick_out = os.path.join(work, "stick-out")
    rc, out, err = kho(box2, "push", "--to", stick_out)
    check(rc == 0 and os.listdir(os.path.join(stick_out, box_id)), "pushed to a USB folder: " + out + err)

    rc, out, err = kho(box2, "sync", "--from", "http://127.0.0.1:%d/nothing/" % port)
    check(rc == 1 and "not a kho repository" in err, "a URL without a repository: " + err)
    proc.terminate()
    proc.wait(timeout=10)

# --- a neighbour: box serves what it synced as a repository, box4 syncs from it over the LAN
import random
media = os.path.join(work, "media")
shutil.copytree(os.path.join(DATA, "packs", "mini"), media)
os.makedirs(os.path.join(media, "media"))
rnd = random.Random(3)
open(os.path.join(media, "media", "film.bin"), "wb").write(bytes(rnd.getrandbits(8) for _ in range(2500000)))
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key, media)
kho(box, "subscribe", "test.*")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0 and "installed test.mini" in out, "box takes a pack with a large file: " + out + err)
neighbour = Server(box)
status, info = http_json(neighbour, "/api/info")
check(status == 200 and info.get("sync") and info["sync"]["synced_at"] > 0 and info["sync"]["source"] == repo,
      "the app sees when the box last synced: %r" % info)
box4 = tmpdir("box-neighbour")
kho(box4, "trust", "add", pub)
kho(box4, "subscribe", "vn.kho.toan-*", "test.*")
rc, out, err = kho(box4, "sync", "--from", neighbour.url + "repo/")
check(rc == 0 and "installed vn.kho.toan-5" in out and "installed test.mini" in out,
      "a neighbour syncs from the box over the LAN: " + out + err)
check({p["id"] for p in kho_json(box4, "list")["packs"]} == {"vn.kho.toan-5", "test.mini"}, "both packs")
check(all(p["signed_by"] for p in kho_json(box4, "list")["packs"]), "verified by the publisher's key")
neighbour.stop()
plain = tmpdir("box-plain")
kho(plain, "import", os.path.join(DATA, "packs", "mini"))
srv = Server(plain)
status, info = http_json(srv, "/api/info")
check(info.get("sync") is None, "a box that never synced says so")
rc, out, err = kho(box4, "sync", "--from", srv.url + "repo/")
check(rc == 1 and "not a kho repository" in err, "a box that never synced offers no repository: " + err)
srv.stop()

# --- sneakernet: a box that has never been online gets a stick made for it
box3 = tmpdir("box-offline")
kho(box3, "trust", "add", pub)
kho(box3, "subscribe", "vn.kho.toan-*")
kho(box3, "import", os.path.join(work, "toan-v2"))  # it holds an older copy already
state = os.path.join(work, "state.json")
rc, out, err = kho(box3, "state", state)
check(rc == 0 and os.path.exists(state), "kho state: " + err)
stick = os.path.join(work, "stick")
rc, out, err = kho(work, "export", "--for", state, "--from", repo, stick)
check(rc == 0 and "1 pack version for that box" in out, "kho export: " + out + err)


def size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


check(size(stick) < size(repo) / 3, "the stick holds far less than the repository (%d of %d bytes)" % (size(stick), size(repo)))
rc, out, err = kho(box3, "sync", "--from", stick)
check(rc == 0 and "updated vn.kho.toan-5 version 7" in out, "the offline box syncs from the stick: " + out + err)
rc, out, err = kho(box3, "state", state)
rc, out, err = kho(work, "export", "--for", state, "--from", repo, os.path.join(work, "stick2"))
check(rc == 0 and "0 pack versions for that box" in out, "an up-to-date box needs nothing: " + out)
rc, out, err = kho(work, "export", "--for", os.path.join(work, "toan-v2", "manifest.xml"), "--from", repo, os.path.join(work, "stick3"))
check(rc == 1 and "not a box's state file" in err, "a file that is not a state: " + err)
done()
