#!/usr/bin/env python3
"""End to end: from its teachers' profiles the box suggests subscriptions (the packs of the last
catalog synced for the grades and subjects they teach, not installed and not subscribed to);
an administrator accepts them in the app (POST /api/school/subscriptions), the next sync
installs them; teachers get 403; kho subscriptions --suggest says the same at the command line."""
import os

from khotest import SOURCE, Server, Teacher, add_user, check, done, kho, kho_json, tmpdir

PACKS = os.path.join(SOURCE, "content-packs", "packs")
work = tmpdir("work")
repo = os.path.join(work, "repo")
key, pub = os.path.join(work, "p.key"), os.path.join(work, "p.pub")
rc, out, err = kho(tmpdir("author"), "keygen", "-s", key, "-p", pub, "--no-passphrase")
rc, out, err = kho(work, "publish", "--repo", repo, "-s", key,
                   *[os.path.join(PACKS, p) for p in ("vn.kho.toan-5", "vn.kho.khtn-7", "vn.kho.dao-duc-3", "vn.kho.tin-hoc-10")])
check(rc == 0, "publish: " + out + err)
box = tmpdir("box")
rc, out, err = kho(box, "subscriptions", "--suggest")
check(rc == 1 and "kho sync" in err, "no catalog yet: " + err)
kho(box, "trust", "add", pub)
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0, "a sync with no subscription: " + out + err)
rc, out, err = kho(box, "subscriptions", "--suggest")
check(rc == 0 and "Nothing to suggest" in out, "keeps the catalog all the same: " + out + err)
kho(box, "subscribe", "vn.kho.toan-5")
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0, "sync: " + out + err)
for name, args in (("co.lan", ()), ("thay.nam", ()), ("co.hoa", ()), ("co.mai", ()), ("hieu.truong", ("--admin",))):
    add_user(box, name, "mat-khau-dai", *args)
srv = Server(box)
profiles = {"co.lan": {"grades": "5", "subjects": "toan"}, "thay.nam": {"grades": "7", "subjects": "khtn"},
            "co.hoa": {"grades": "7 8", "subjects": "khtn toan"}, "co.mai": {"grades": "3"}}
for name, profile in profiles.items():
    t = Teacher(srv, name, "mat-khau-dai")
    status, me = t.call("POST", "/api/me", profile)
    check(status == 200, "profile of %s" % name)
status, res = t.call("GET", "/api/school/suggestions")
check(status == 403, "a teacher: 403")
status, res = t.call("POST", "/api/school/subscriptions", {"packs": ["vn.kho.khtn-7"]})
check(status == 403, "a teacher subscribes nothing: 403")

admin = Teacher(srv, "hieu.truong", "mat-khau-dai")
status, res = admin.call("GET", "/api/school/suggestions")
got = [(s["pack"], s["teachers"]) for s in res["suggestions"]]
check(status == 200 and res["synced"] and got == [("vn.kho.khtn-7", 2), ("vn.kho.dao-duc-3", 1)],
      "KHTN 7 for two teachers, Đạo đức 3 for one; not Toán 5 (installed), not Tin học 10 (nobody): %r" % got)
check(res["suggestions"][0]["title"] == "Khoa học tự nhiên 7" and res["suggestions"][0]["grades"] == "7",
      "with title and grades: %r" % res["suggestions"][0])
cli = kho_json(box, "subscriptions", "--suggest", "--json")["suggestions"]
check([(s["pack"], s["teachers"]) for s in cli] == got, "the command line says the same: %r" % cli)
for bad in ({"packs": "vn.kho.khtn-7"}, {"packs": ["../x"]}, {"packs": [""]}, {"packs": [5]}, {}):
    status, res = admin.call("POST", "/api/school/subscriptions", bad)
    check(status == 400, "malformed %r: 400 (%d)" % (bad, status))
status, res = admin.call("POST", "/api/school/subscriptions", {"packs": ["vn.kho.khtn-7"]})
check(status == 200 and res["added"] == 1, "accepted: %r" % res)
status, res = admin.call("POST", "/api/school/subscriptions", {"packs": ["vn.kho.khtn-7"]})
check(status == 200 and res["added"] == 0, "twice: nothing more")
status, res = admin.call("GET", "/api/school/suggestions")
check([s["pack"] for s in res["suggestions"]] == ["vn.kho.dao-duc-3"], "accepted ones are no longer suggested: %r" % res)
rc, log = srv.stop()
rc, out, err = kho(box, "sync", "--from", repo)
check(rc == 0, "the next sync: " + out + err)
packs = sorted(p["id"] for p in kho_json(box, "list", "--json")["packs"])
check(packs == ["vn.kho.khtn-7", "vn.kho.toan-5"], "installs what was accepted: %r" % packs)
done()
