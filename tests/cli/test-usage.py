#!/usr/bin/env python3
"""End to end: usage figures (docs/privacy.md). A real `kho serve` answers anonymous and
signed-in teachers (anonymous ones from several loopback addresses); the box counts searches,
opens and favourites per day; `kho usage report` writes a report without names, addresses or
user ids, drops queries fewer than k askers made, queues it in the outbox and deletes the
reported days; reporting off records nothing. At the centre, `kho repo report` adds up three
schools' reports into HTML and CSV, checked number by number, and refuses hostile reports
naming the file."""
import csv
import glob
import html.parser
import http.client
import json
import os
import sqlite3
from urllib.parse import quote

from khotest import SOURCE, Server, Teacher, add_user, check, done, kho, kho_json, tmpdir

PACKS = os.path.join(SOURCE, "content-packs", "packs")
DAY = "2024-03-04"          # the day the test's figures are moved to (a complete day)
USAGE_TABLES = ("usage_queries", "usage_lessons", "usage_askers", "usage_last")

home = tmpdir("home")
rc, out, err = kho(home, "import", *[os.path.join(PACKS, p) for p in ("vn.kho.toan-5", "vn.kho.khtn-7")])
check(rc == 0, "import: " + err)
add_user(home, "co.lan", "mat-khau-dai")
add_user(home, "thay.nam", "mat-khau-dai")
srv = Server(home, env_extra={"KHO_LOG": "warn"})  # thousands of requests: no log line each


def get(path, address="127.0.0.1", method="GET"):
    """A request from the loopback address `address` (an anonymous teacher's phone)."""
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30, source_address=(address, 0))
    try:
        c.request(method, path)
        r = c.getresponse()
        body = r.read()
        return r.status, json.loads(body) if body and method == "GET" else None
    finally:
        c.close()


def search(q, address="127.0.0.1", extra=""):
    status, res = get("/api/search?q=" + quote(q) + extra, address)
    check(status == 200, "search %r: %d" % (q, status))
    return res


def searches(queries, address):
    """Many searches from `address` on one connection (kept alive)."""
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30, source_address=(address, 0))
    try:
        for q in queries:
            c.request("GET", "/api/search?q=" + quote(q))
            r = c.getresponse()
            r.read()
            check(r.status == 200, "search %r: %d" % (q, r.status))
    finally:
        c.close()


def open_lesson(pack, lesson, address="127.0.0.1"):
    status, res = get("/api/lessons/%s/%s" % (pack, lesson), address)
    check(status == 200, "open %s/%s: %d" % (pack, lesson, status))


def db():
    return sqlite3.connect(os.path.join(home, "kho.db"), timeout=30)


def unreported():
    return kho_json(home, "usage")["unreported"]


def by_query(report):
    return {q["query"]: q for q in report["queries"]}


# ---------------------------------------------------------------- recording
# "phân số": three anonymous askers, each opens the first lesson found
for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
    res = search("Phân  SỐ ", a)
    check(res["total"] > 0, "phân số finds lessons")
    open_lesson(res["results"][0]["pack"], res["results"][0]["lesson"], a)
# the next page and a filter of the same search are not new searches
search("phân số", "127.0.0.2", "&offset=10")
search("phân số", "127.0.0.2", "&grade=5")
# "zzqxy wwvvk": two askers, found nothing — below k = 3
search("zzqxy wwvvk", "127.0.0.2")
search("zzqxy wwvvk", "127.0.0.3")
# completions, HEAD requests and the app asking for a title (peek=1) are not counted
get("/api/suggest?q=" + quote("zzqxy w"), "127.0.0.5")
get("/api/lessons/vn.kho.toan-5/bai-01", "127.0.0.5", method="HEAD")
get("/api/lessons/vn.kho.toan-5/bai-01?peek=1", "127.0.0.5")
# signed-in teachers: co.lan searches "diện tích" and opens nothing; favourites one lesson
lan = Teacher(srv, "co.lan", "mat-khau-dai")
status, res = lan.call("GET", "/api/search?q=" + quote("diện tích"))
check(status == 200 and res["total"] > 0, "diện tích: %r" % status)
status, _ = lan.call("POST", "/api/favourites", {"pack": "vn.kho.toan-5", "lesson": "bai-02"})
check(status == 201, "favourite: %d" % status)
# the same favourite again is not a new one: it counts once
status, _ = lan.call("POST", "/api/favourites", {"pack": "vn.kho.toan-5", "lesson": "bai-02"})
check(status < 500, "the same favourite again: %d" % status)
# thay.nam types "phan s" while the results follow (prefix=1), then opens a lesson:
# only the last typed form is a search, and it led to an open
nam = Teacher(srv, "thay.nam", "mat-khau-dai")
for typed in ("ph", "pha", "phan s"):
    status, res = nam.call("GET", "/api/search?q=" + quote(typed) + "&prefix=1")
    check(status == 200, "typing %r" % typed)
status, _ = nam.call("GET", "/api/lessons/vn.kho.toan-5/bai-03")
check(status == 200, "thay.nam opens a lesson")
# thay.nam also searches "diện tích" (two askers now) and "zzqxy wwvvk" (three askers)
nam.call("GET", "/api/search?q=" + quote("diện tích"))
nam.call("GET", "/api/search?q=" + quote("zzqxy wwvvk"))

figures = unreported()
check(len(figures["days"]) == 1, "one day: %r" % figures["days"])
today = figures["days"][0] if figures["days"] else {}
# searches: phân số ×3, zzqxy ×3, diện tích ×2, phan s ×1
check(today.get("searches") == 9, "searches of the day: %r" % today)
check(today.get("opens") == 4, "opens of the day (HEAD not counted): %r" % today)
check(today.get("askers") == 5, "distinct askers: three addresses and two teachers: %r" % today)
q = by_query(figures)
check(set(q) == {"phân số", "zzqxy wwvvk"}, "k = 3 keeps only queries of three askers: %r" % sorted(q))
check(q.get("phân số", {}).get("searches") == 3 and q["phân số"]["no_open"] == 0 and
      q["phân số"]["found_nothing"] == 0, "phân số: %r" % q.get("phân số"))
check(q.get("zzqxy wwvvk", {}) == {"query": "zzqxy wwvvk", "searches": 3, "found_nothing": 3, "no_open": 0},
      "zzqxy wwvvk: %r" % q.get("zzqxy wwvvk"))
lessons = {(l["pack"], l["lesson"]): l for l in figures["lessons"]}
check(lessons.get(("vn.kho.toan-5", "bai-02"), {}).get("favourites") == 1, "the favourite: %r" % lessons)
check(sum(l["opens"] for l in figures["lessons"]) == 4, "opens by lesson add up: %r" % figures["lessons"])

# with k = 1 every query shows; the typed prefixes "ph" and "pha" were replaced by "phan s"
rc, out, err = kho(home, "usage", "k", "1")
check(rc == 0, "usage k 1: " + err)
q = by_query(unreported())
check(set(q) == {"phân số", "zzqxy wwvvk", "diện tích", "phan s"}, "k = 1: %r" % sorted(q))
check(q.get("diện tích", {}).get("no_open") == 2, "diện tích led to no open, twice: %r" % q.get("diện tích"))
check(q.get("phan s", {}).get("no_open") == 0 and q["phan s"]["searches"] == 1,
      "the typed search led to the open: %r" % q.get("phan s"))
rc, out, err = kho(home, "usage", "k", "2")
q = by_query(unreported())
check(set(q) == {"phân số", "zzqxy wwvvk", "diện tích"}, "k = 2: %r" % sorted(q))
rc, out, err = kho(home, "usage", "k", "0")
check(rc == 2, "k 0 is wrong usage")
kho(home, "usage", "k", "3")

# an open more than ten minutes after the search does not count for it
search("khối lập phương", "127.0.0.6")
with db() as c:
    c.execute("UPDATE usage_last SET at = at - 601")
open_lesson("vn.kho.toan-5", "bai-01", "127.0.0.6")
rc, out, err = kho(home, "usage", "k", "1")
q = by_query(unreported())
check(q.get("khối lập phương", {}).get("no_open") == 1, "a late open: %r" % q.get("khối lập phương"))
kho(home, "usage", "k", "3")

# ---------------------------------------------------------------- the report
with db() as c:
    askers = [row[0].hex() for row in c.execute("SELECT asker FROM usage_askers")]
    for t in USAGE_TABLES:
        c.execute("UPDATE %s SET day = ?" % t, (DAY,))
check(len(askers) > 0, "askers are kept as hashes")
rc, out, err = kho(home, "usage", "report", "--dry-run")
check(rc == 0 and '"format": "kho-usage-report-1"' in out, "dry run: %s %s" % (out[:200], err))
rc, out, err = kho(home, "usage", "report")
check(rc == 0 and "queued" in out, "usage report: %s %s" % (out, err))
queued = glob.glob(os.path.join(home, "outbox", "*.json"))
check(len(queued) == 1, "one report in the outbox: %r" % queued)
text = open(queued[0], encoding="utf-8").read() if queued else "{}"
report = json.loads(text)
check(set(report) == {"format", "box", "from", "to", "k", "days", "lessons", "queries"},
      "the report's fields: %r" % sorted(report))
box_id = open(os.path.join(home, "box-id")).read().strip()
check(report.get("box") == box_id and report.get("from") == DAY and report.get("to") == DAY,
      "box and days: %r" % {k: report.get(k) for k in ("box", "from", "to")})
for secret in ("co.lan", "thay.nam", "127.0.0", "lan", "nam", "u:1", "u:2", "a:") + tuple(askers):
    check(secret not in text, "the report does not contain %r" % secret)
check(all(set(d) == {"day", "searches", "opens", "askers"} for d in report.get("days", [])) and
      all(set(x) == {"pack", "lesson", "opens", "favourites"} for x in report.get("lessons", [])) and
      all(set(x) == {"query", "searches", "found_nothing", "no_open"} for x in report.get("queries", [])),
      "no other field (no user, no address): %r" % report)
check(set(by_query(report)) == {"phân số", "zzqxy wwvvk"}, "k applied: %r" % report.get("queries"))
check(report["days"][0]["searches"] == 10 and report["days"][0]["opens"] == 5,
      "the day's totals: %r" % report["days"])
with db() as c:
    left = sum(c.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0] for t in USAGE_TABLES)
check(left == 0, "the reported day's rows are deleted: %d left" % left)
rc, out, err = kho(home, "usage", "report")
check(rc == 0 and "no complete day" in out and len(glob.glob(os.path.join(home, "outbox", "*.json"))) == 1,
      "nothing more to report: %s" % out)

# ---------------------------------------------------------------- reporting off
rc, out, err = kho(home, "usage", "off")
check(rc == 0, "usage off: " + err)
res = search("phân số", "127.0.0.7")
open_lesson("vn.kho.toan-5", "bai-01", "127.0.0.7")
lan.call("POST", "/api/favourites", {"pack": "vn.kho.toan-5", "lesson": "bai-04"})
with db() as c:
    rows = sum(c.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0] for t in USAGE_TABLES + ("usage_key",))
check(rows == 0, "reporting off: nothing recorded (%d rows)" % rows)
rc, out, err = kho(home, "usage", "report")
check(rc == 0 and "off" in out and len(glob.glob(os.path.join(home, "outbox", "*.json"))) == 1,
      "reporting off: no report: %s" % out)
status = kho_json(home, "usage")
check(status.get("on") is False and status["unreported"]["days"] == [], "usage shows off: %r" % status)
kho(home, "usage", "on")
search("phân số", "127.0.0.7")
check(unreported()["days"][0]["searches"] == 1, "on again: counted")

# ---------------------------------------------------------------- what a day can hold
# No client can fill the disk through the figures: a day records at most 100 distinct queries
# of one asker and 2,000 in all; past that a search counts in the day's totals only.
kho(home, "usage", "k", "1")
searches(["tran %d" % i for i in range(150)], "127.0.0.8")
q = by_query(unreported())
mine = [x for x in q if x.startswith("tran ")]
check(len(mine) == 100, "one asker's distinct queries recorded: %d" % len(mine))
check(unreported()["days"][0]["searches"] == 151, "past the limit, still in the day's totals")
# the next page of a search not recorded is the same search; typing replaces, as below the limit
search("tran 149", "127.0.0.8", "&offset=10")
for typed in ("tr", "tra", "tran x"):
    search(typed, "127.0.0.8", "&prefix=1")
check(unreported()["days"][0]["searches"] == 152, "not recorded, still one search each: %r"
      % unreported()["days"][0])
# a query the asker already made still counts for it; another asker's new one is recorded
search("tran 5", "127.0.0.8")
search("tran 5", "127.0.0.9")
search("tran 150", "127.0.0.9")
q = by_query(unreported())
check(q.get("tran 5", {}).get("searches") == 3 and "tran 150" in q, "below the limits: %r"
      % {k: q.get(k) for k in ("tran 5", "tran 150")})
# the day's other queries, made up to save time: 102 recorded so far, 1,890 more, then 10 new
with db() as c:
    c.executemany("INSERT INTO usage_queries (day, query, searches) SELECT day, ?, 1 FROM usage_key",
                  [("ngay %d" % i,) for i in range(1890)])
searches(["ngay moi %d" % i for i in range(10)], "127.0.1.1")
figures = unreported()
with db() as c:
    recorded = c.execute("SELECT COUNT(*) FROM usage_queries WHERE query <> ''").fetchone()[0]
check(recorded == 2000, "a day's distinct queries recorded: %d" % recorded)
check(len([x for x in by_query(figures) if x.startswith("ngay moi ")]) == 8, "8 of the 10 new ones")
# (the typed "tran x" was replaced by the next search, "tran 5")
check(figures["days"][0]["searches"] == 154 + 1890 + 10 and figures["days"][0]["askers"] == 4,
      "the day's totals count every search and asker: %r" % figures["days"])
check("" not in by_query(figures), "the searches not recorded are not a query")
with db() as c:
    rows = c.execute("SELECT COUNT(*) FROM usage_queries").fetchone()[0]
    kept = [r[0] for r in c.execute("SELECT query FROM usage_last")]
check(rows <= 2001, "usage_queries holds %d rows" % rows)
check(not any(x.startswith("tran 1") and x not in q for x in kept), "a query not recorded is not kept")
# an asker past the day's room for askers is not counted at all
with db() as c:
    c.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
              " INSERT INTO usage_askers (day, query, asker, n) SELECT day, '', randomblob(16), 0"
              " FROM n, (SELECT day FROM usage_key)")
search("tran 5", "127.0.0.10")
open_lesson("vn.kho.toan-5", "bai-01", "127.0.0.10")
figures = unreported()
check(figures["days"][0]["searches"] == 2055 and figures["days"][0]["opens"] == 1 and
      figures["days"][0]["askers"] == 20004 and by_query(figures)["tran 5"]["searches"] == 3,
      "an asker past the room: in the totals only: %r" % figures["days"])
with db() as c:
    c.execute("DELETE FROM usage_askers WHERE query = '' AND n = 0 AND length(asker) = 16"
              " AND asker NOT IN (SELECT asker FROM usage_last)")
kho(home, "usage", "k", "3")
# the settings travel in a backup
kho(home, "usage", "k", "5")
backup = os.path.join(tmpdir("backup"), "b")
rc, out, err = kho(home, "backup", backup)
check(rc == 0, "backup: " + err)
home2 = tmpdir("home2")
rc, out, err = kho(home2, "restore", backup)
check(rc == 0 and kho_json(home2, "usage").get("k") == 5, "k restored: %s" % err)
srv.stop()

# ---------------------------------------------------------------- the centre
centre = tmpdir("centre")
json.dump({"format": "kho-repository-1", "serial": 1, "packs": [
    {"id": "vn.kho.toan-5", "title": "Toán 5", "subjects": ["toan"], "grades": [5], "versions": []},
    {"id": "vn.kho.khtn-7", "title": "KHTN 7", "subjects": ["khtn"], "grades": [7], "versions": []},
]}, open(os.path.join(centre, "catalog.json"), "w"))
inbox = tmpdir("inbox")


def school(box, days, lessons, queries, name=None):
    r = {"format": "kho-usage-report-1", "box": box, "from": days[0]["day"], "to": days[-1]["day"],
         "k": 3, "days": days, "lessons": lessons, "queries": queries}
    path = os.path.join(inbox, name or (box + ".json"))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(r, f, ensure_ascii=False)
    return path


def L(pack, lesson, opens, favourites=0):
    return {"pack": pack, "lesson": lesson, "opens": opens, "favourites": favourites}


def Q(query, searches, nothing, no_open):
    return {"query": query, "searches": searches, "found_nothing": nothing, "no_open": no_open}


def D(day, searches, opens, askers=4):
    return {"day": day, "searches": searches, "opens": opens, "askers": askers}


a = school("aaaaaaaaaaaaaaaa", [D("2024-03-04", 20, 9), D("2024-03-05", 5, 2)],
           [L("vn.kho.toan-5", "bai-01", 7, 1), L("vn.kho.khtn-7", "bai-02", 4)],
           [Q("phân số thập phân", 6, 4, 1), Q("<script>alert(1)</script>", 3, 3, 0), Q("=cmd|x", 3, 3, 0)])
b = school("bbbbbbbbbbbbbbbb", [D("2024-03-04", 10, 6)],
           [L("vn.kho.toan-5", "bai-01", 5, 2), L("vn.kho.toan-5", "bai-02", 1), L("xx.unknown", "l1", 2)],
           [Q("phân số thập phân", 4, 2, 2), Q("quang hợp", 3, 0, 0)])
c = school("cccccccccccccccc", [D("2024-03-05", 8, 3)],
           [L("vn.kho.khtn-7", "bai-02", 3, 1)],
           [Q("quang hợp", 5, 1, 3)])
repeat = school("aaaaaaaaaaaaaaaa", [D("2024-03-05", 1, 1)], [], [], name="zz-again.json")
real = queued[0] if queued else a
rc, out, err = kho(home, "repo", "report", centre, inbox, real)
check(rc == 0, "repo report: %s %s" % (out, err))
check("zz-again.json" in err and "left out" in err, "a box's days reported twice are left out once: %s" % err)


def read_csv(name):
    with open(os.path.join(centre, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


rows = {(r["pack"], r["lesson"]): r for r in read_csv("lessons.csv")}
top = rows.get(("vn.kho.toan-5", "bai-01"), {})
real_opens = {(x["pack"], x["lesson"]): x["opens"] for x in report.get("lessons", [])}
check(int(top.get("opens", -1)) == 12 + real_opens.get(("vn.kho.toan-5", "bai-01"), 0) and
      int(top["favourites"]) == 3, "toan-5/bai-01 over schools: %r" % top)
check(int(top.get("schools", 0)) == 2 + (("vn.kho.toan-5", "bai-01") in real_opens),
      "toan-5/bai-01 schools: %r" % top)
khtn = rows.get(("vn.kho.khtn-7", "bai-02"), {})
check(int(khtn.get("opens", -1)) == 7 + real_opens.get(("vn.kho.khtn-7", "bai-02"), 0) and
      khtn.get("subjects") == "khtn" and khtn.get("grades") == "7", "khtn-7/bai-02: %r" % khtn)
check(list(rows)[0] == ("vn.kho.toan-5", "bai-01"), "most opened first: %r" % list(rows)[:3])

gaps = {r["query"]: r for r in read_csv("gaps.csv")}
g = gaps.get("phân số thập phân", {})
check((int(g.get("gap", 0)), int(g.get("found_nothing", 0)), int(g.get("no_open", 0)), int(g.get("schools", 0)),
       int(g.get("searches", 0))) == (9, 6, 3, 2, 10), "a gap summed over two schools: %r" % g)
g = gaps.get("quang hợp", {})
check((int(g.get("gap", 0)), int(g.get("schools", 0))) == (4, 2), "quang hợp: %r" % g)
check(list(gaps)[0] == "phân số thập phân", "the largest gap first: %r" % list(gaps)[:3])
check("'=cmd|x" in gaps, "a formula-looking query is defused in the CSV: %r" % list(gaps))
check("zzqxy wwvvk" in gaps and int(gaps["zzqxy wwvvk"]["found_nothing"]) == 3, "the box's own report counts")

subj = {(r["subject"], r["grade"]): r for r in read_csv("by-subject-grade.csv")}
toan = subj.get(("toan", "5"), {})
check(int(toan.get("opens", -1)) == 13 + sum(v for k, v in real_opens.items() if k[0] == "vn.kho.toan-5"),
      "toán 5 opens: %r" % toan)
check(int(subj.get(("", ""), {}).get("opens", -1)) == 2, "a pack not in the catalog: %r" % subj.get(("", "")))

pop = json.load(open(os.path.join(centre, "popularity.json"), encoding="utf-8"))
check(pop["lessons"][0] == {"pack": "vn.kho.toan-5", "lesson": "bai-01", "opens": int(top.get("opens", 0)),
                            "schools": int(top.get("schools", 0))}, "popularity.json: %r" % pop["lessons"][:2])

page = open(os.path.join(centre, "report.html"), encoding="utf-8").read()


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.open = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "rect", "br"):
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()


p = Page()
p.feed(page)
tags = [t for t, _ in p.tags]
check(page.startswith("<!DOCTYPE html>") and p.open == [], "report.html is well nested: %r" % p.open[-5:])
check("script" not in tags and "link" not in tags and "img" not in tags and
      not any("src" in a or "href" in a for _, a in p.tags), "no scripts and nothing fetched")
check(tags.count("svg") >= 4 and "style" in tags, "bar charts as inline SVG, CSS inline: %d" % tags.count("svg"))
check("&lt;script&gt;alert(1)&lt;/script&gt;" in page, "a query's text is escaped")
check("Nội dung còn thiếu" in page and "Content gaps" in page and "By subject and grade" in page,
      "Vietnamese and English headings")

# ---------------------------------------------------------------- hostile reports
hostile = tmpdir("hostile")
good = json.load(open(a, encoding="utf-8"))


def bad(name, doc, field):
    path = os.path.join(hostile, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    out_dir = tmpdir("out-" + name)
    rc, out, err = kho(home, "repo", "report", out_dir, path, b)
    check(rc == 1 and path in err and field in err, "%s refused, naming the file and %r: %s" % (name, field, err))
    check(os.path.exists(os.path.join(out_dir, "report.html")) and
          len(read_dir_csv(out_dir, "lessons.csv")) == 3, "the good report still counts (%s)" % name)


def read_dir_csv(d, name):
    with open(os.path.join(d, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def changed(path, value):
    doc = json.loads(json.dumps(good))
    obj = doc
    for k in path[:-1]:
        obj = obj[k]
    if value is KeyError:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value
    return doc


bad("not-json.json", "{\"format\": ", "not JSON")
bad("array.json", "[1, 2]", "not a JSON object")
bad("format.json", changed(["format"], "kho-usage-report-9"), "format")
bad("type.json", changed(["lessons", 0, "opens"], "7"), "lessons[0].opens")
bad("huge.json", changed(["lessons", 1, "opens"], 10 ** 15), "lessons[1].opens")
bad("huger.json", json.dumps(good).replace('"opens": 7', '"opens": 1' + "0" * 30), "not JSON")
bad("real.json", changed(["queries", 0, "searches"], 1e30), "queries[0].searches")
bad("negative.json", changed(["days", 0, "opens"], -1), "days[0].opens")
bad("missing.json", changed(["queries", 1, "no_open"], KeyError), "queries[1].no_open")
bad("no-days.json", changed(["days"], KeyError), "days")
bad("box.json", changed(["box"], "../../etc/passwd"), "box")
bad("day.json", changed(["days", 1, "day"], "2024-02-30"), "days[1]")
bad("outside.json", changed(["days", 1, "day"], "2024-04-01"), "days[1]")
bad("sums.json", changed(["queries", 0, "no_open"], 5), "queries[0]")
bad("pack.json", changed(["lessons", 0, "pack"], "<b>x</b>"), "lessons[0].pack")
bad("twice.json", changed(["lessons", 1], L("vn.kho.toan-5", "bai-01", 1)), "lessons[1]")
bad("query.json", changed(["queries", 0, "query"], "a\u0001b"), "queries[0].query")

done()
