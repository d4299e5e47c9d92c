#!/usr/bin/env python3
"""End to end: a signed-in teacher's home page (GET /api/home) — where a new teacher's classes
start, continue where they left off, the next lesson in each unit they work through, related
lessons not opened yet, and what most teachers of the box opened this week (older opens do not
count). Anonymous users get 401."""
import os
import sqlite3

from khotest import SOURCE, Server, Teacher, add_user, check, done, http_json, kho, tmpdir

PACKS = os.path.join(SOURCE, "content-packs", "packs")
home = tmpdir("home")
rc, out, err = kho(home, "import", *[os.path.join(PACKS, p) for p in ("vn.kho.toan-5", "vn.kho.khtn-7", "vn.kho.dao-duc-3")])
check(rc == 0, "import: " + err)
for name in ("co.lan", "thay.nam", "co.hoa", "co.mai"):
    add_user(home, name, "mat-khau-dai")
srv = Server(home)
status, res = http_json(srv, "/api/home")
check(status == 401, "anonymous: 401")
lan = Teacher(srv, "co.lan", "mat-khau-dai")


def ids(items):
    return [(x["pack"][7:], x["lesson"]) for x in items]


def opened(teacher, pack, lesson):
    status, res = teacher.call("POST", "/api/history", {"pack": pack, "lesson": lesson})
    check(status == 201, "history: %r" % res)


status, h = lan.call("GET", "/api/home")
check(status == 200 and h["continue"] == [] and h["related"] == [] and h["popular"] == [], "a new teacher: %r" % h)
check(len(h["next"]) > 0, "where units start, for any class when the profile is empty")
lan.call("POST", "/api/me", {"grades": "5", "subjects": "toan"})
status, h = lan.call("GET", "/api/home")
check(ids(h["next"])[:3] == [("toan-5", "bai-01"), ("toan-5", "bai-04"), ("toan-5", "bai-09")] and
      all(p == "toan-5" for p, l in ids(h["next"])), "a Toán 5 teacher starts at the units of Toán 5: %r" % ids(h["next"]))
check(h["next"][0]["unit"].startswith("Chương 1") and h["next"][0]["url"] == "/lesson/vn.kho.toan-5/bai-01", "with unit and address")

opened(lan, "vn.kho.toan-5", "bai-01")
opened(lan, "vn.kho.toan-5", "bai-02")
opened(lan, "vn.kho.toan-5", "bai-05")
status, h = lan.call("GET", "/api/home")
check(ids(h["continue"]) == [("toan-5", "bai-05"), ("toan-5", "bai-02"), ("toan-5", "bai-01")], "continue: %r" % ids(h["continue"]))
check(ids(h["next"]) == [("toan-5", "bai-06"), ("toan-5", "bai-03")], "the next lesson of each unit: %r" % ids(h["next"]))
check(h["next"][0]["after"].startswith("Bài 5"), "says after which lesson: %r" % h["next"][0])
rel = ids(h["related"])
check(0 < len(rel) <= 4 and not set(rel) & {("toan-5", "bai-01"), ("toan-5", "bai-02"), ("toan-5", "bai-05"), ("toan-5", "bai-06")},
      "related lessons, none opened and none already next: %r" % rel)
check(all(x["because"].startswith("Bài 5") for x in h["related"]), "related to the last opened")
opened(lan, "vn.kho.toan-5", "bai-03")
status, h = lan.call("GET", "/api/home")
check(("toan-5", "bai-03") not in ids(h["next"]) and ("toan-5", "bai-06") in ids(h["next"]),
      "a unit done has no next lesson: %r" % ids(h["next"]))

# popular at this school this week: by teachers, not by opens
for name in ("thay.nam", "co.hoa", "co.mai"):
    t = Teacher(srv, name, "mat-khau-dai")
    opened(t, "vn.kho.khtn-7", "bai-01")
    if name != "co.mai":
        opened(t, "vn.kho.dao-duc-3", "bai-01")
for _ in range(5):
    opened(lan, "vn.kho.toan-5", "bai-04")
status, h = lan.call("GET", "/api/home")
pop = [(p, l, x["teachers"]) for (p, l), x in zip(ids(h["popular"]), h["popular"])]
check(pop == [("khtn-7", "bai-01", 3), ("dao-duc-3", "bai-01", 2)],
      "popular by teachers, two at least (what one teacher reads alone is theirs): %r" % pop)
db = sqlite3.connect(os.path.join(home, "kho.db"))
db.execute("UPDATE history SET opened_at = opened_at - 8 * 86400 * 1000 WHERE lesson_id = 'bai-01' AND pack_id = 'vn.kho.khtn-7'")
db.commit()
db.close()
opened(lan, "vn.kho.toan-5", "bai-04")  # the list is kept until a lesson is opened (or a minute)
status, h = lan.call("GET", "/api/home")
check(("khtn-7", "bai-01") not in ids(h["popular"]), "opens older than a week do not count: %r" % ids(h["popular"]))
rc, log = srv.stop()
check(rc == 0, "stopped")
done()
