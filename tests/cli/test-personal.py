#!/usr/bin/env python3
"""End to end: personal ranking. A signed-in teacher's grades and subjects rank higher when the
query filters and names none; among completions, the lessons they opened lately come first.
Anonymous searches and teachers without a profile get the same order as before."""
import os
from urllib.parse import quote

from khotest import SOURCE, Server, Teacher, add_user, check, done, http_json, kho, tmpdir

PACKS = os.path.join(SOURCE, "content-packs", "packs")
home = tmpdir("home")
rc, out, err = kho(home, "import", *[os.path.join(PACKS, p) for p in
                                     ("vn.kho.toan-5", "vn.kho.khtn-7", "vn.kho.tin-hoc-10", "vn.kho.dao-duc-3")])
check(rc == 0, "import: " + err)
add_user(home, "co.lan", "mat-khau-dai")
add_user(home, "thay.nam", "mat-khau-dai")
srv = Server(home)


def packs(res, key="results"):
    return [h["pack"] for h in res[key]]


q = "/api/search?q=" + quote("diện tích")
status, anon = http_json(srv, q)
check(status == 200 and packs(anon)[0] == "vn.kho.toan-5" and "vn.kho.khtn-7" in packs(anon),
      "anonymous: Toán 5 first, KHTN 7 among the results: %r" % packs(anon))
lan = Teacher(srv, "co.lan", "mat-khau-dai")
status, res = lan.call("GET", q)
check(status == 200 and res["results"] == anon["results"], "no profile yet: the same order")
status, me = lan.call("POST", "/api/me", {"grades": "7", "subjects": "khtn"})
check(status == 200, "profile: %r" % me)
status, res = lan.call("GET", q)
check(packs(res)[0] == "vn.kho.khtn-7" and res["total"] == anon["total"],
      "a KHTN 7 teacher gets KHTN 7 first, and the same lessons: %r" % packs(res))
status, res = lan.call("GET", q + "&grade=5")
status, anon5 = http_json(srv, q + "&grade=5")
check(res["results"] == anon5["results"], "an explicit filter: the profile does not move anything")
status, res = lan.call("GET", "/api/search?q=" + quote("diện tích lớp 5 toán"))
status, anon_named = http_json(srv, "/api/search?q=" + quote("diện tích lớp 5 toán"))
check(res["results"] == anon_named["results"], "a query naming its grade and subject: the same order")
nam = Teacher(srv, "thay.nam", "mat-khau-dai")
status, res = nam.call("GET", q)
check(res["results"] == anon["results"], "another teacher's profile is theirs only")

# completions: the lessons opened lately first
s = "/api/suggest?q=" + quote("diện")
status, anon_s = http_json(srv, s)
status, wide = http_json(srv, s + "&limit=20")
check(status == 200 and len(anon_s["suggestions"]) == 8 and len(wide["suggestions"]) > 9,
      "completions: %d, %d" % (len(anon_s["suggestions"]), len(wide["suggestions"])))
later = wide["suggestions"][9]       # not among the first eight
earlier = wide["suggestions"][3]
for lesson in (later, earlier):
    status, res = nam.call("POST", "/api/history", {"pack": lesson["pack"], "lesson": lesson["lesson"]})
    check(status == 201, "history: %r" % res)
status, res = nam.call("GET", s)
check(res["suggestions"][:2] == [earlier, later] and len(res["suggestions"]) == 8,
      "the last opened first, then the one before: %r" % [x["lesson"] for x in res["suggestions"]])
rest = [x for x in res["suggestions"][2:]]
check(rest == [x for x in anon_s["suggestions"] if x not in (earlier, later)][:6], "the others keep their order")
status, res = lan.call("GET", s)
check(res["suggestions"][:1] != [earlier], "another teacher's history is theirs only")
rc, log = srv.stop()
check(rc == 0, "stopped")
done()
