#!/usr/bin/env python3
"""The bundled packs: all import, at least 8 packs and 160 lessons, six or more
subjects, and accent-free searches find Vietnamese lessons (duong → đường)."""
import glob
import os
import sqlite3
import subprocess
import unicodedata

from khotest import KHO, SOURCE, check, done, kho, kho_json, tmpdir

packs = sorted(glob.glob(os.path.join(SOURCE, "content-packs", "packs", "*", "manifest.xml")))
home = tmpdir("home")
os.environ["KHO_BUNDLED_DIR"] = os.path.join(SOURCE, "content-packs", "packs")
rc, out, err = kho(home, "import", "--bundled", timeout=600)
check(rc == 0, "every bundled pack imports: " + err)
check(out.count("installed ") == len(packs), "--bundled installs each pack folder: " + out)
listing = kho_json(home, "list")
check(listing.get("total_packs", 0) >= 8, "at least 8 packs: %s" % listing.get("total_packs"))
check(listing.get("total_lessons", 0) >= 160, "at least 160 lessons: %s" % listing.get("total_lessons"))
check(any(p["lang"] == "en" for p in listing.get("packs", [])), "one pack in English")

db = sqlite3.connect(os.path.join(home, "kho.db"))
subjects = {r[0] for r in db.execute("SELECT DISTINCT value FROM lesson_tags WHERE kind = 'subject'")}
check(len(subjects) >= 6, "at least 6 subjects: %r" % subjects)
grades = {int(r[0]) for r in db.execute("SELECT DISTINCT value FROM lesson_tags WHERE kind = 'grade'")}
check(min(grades, default=99) <= 5 and any(6 <= g <= 9 for g in grades) and max(grades, default=0) >= 10,
      "primary, lower and upper secondary grades: %r" % sorted(grades))
for (lesson, words) in db.execute("SELECT lesson_id, length(body) - length(replace(body, ' ', '')) + 1 "
                                  "FROM lessons"):
    check(150 <= words <= 1300, "lesson %s has a real length (%d words)" % (lesson, words))
db.close()

res = kho_json(home, "search", "duong")
check(res.get("total", 0) >= 5, "duong finds many lessons: %s" % res.get("total"))
for hit in res.get("results", []):
    text = (hit["title"] + " " + hit["snippet"]).lower()
    check("đường" in text, "result %s shows đường: %s" % (hit["lesson"], text[:200]))
rc, out, err = kho(home, "search", "duong")
check(rc == 0 and "đường" in out.lower(), "text search shows đường")
for accented, plain in (("phân số", "phan so"), ("quang hợp", "quang hop"), ("vòng lặp", "vong lap")):
    a = kho_json(home, "search", accented)
    b = kho_json(home, "search", plain)
    check(a.get("total", 0) > 0, "%s finds lessons" % accented)
    # typed with accents, exact spellings get a boost: the best two still agree
    check([h["lesson"] for h in a.get("results", [])][:2] == [h["lesson"] for h in b.get("results", [])][:2],
          "%s and %s find the same top lessons" % (accented, plain))

# "did you mean" chooses among equally close words by the words beside them
res = kho_json(home, "search", "dien tich hinh thag")
check(res.get("did_you_mean") == "dien tich hinh thang", "did you mean: %r" % res.get("did_you_mean"))
check(kho_json(home, "search", "phuong trinh bac nhta").get("did_you_mean") == "phuong trinh bac nhat",
      "did you mean (swap)")

# lessons stored in NFD (decomposed) are stored as NFC text and found like any other
nfd = [p for p in glob.glob(os.path.join(SOURCE, "content-packs", "packs", "*", "lessons", "*.html"))
       if not unicodedata.is_normalized("NFC", open(p, encoding="utf-8").read())]
check(len(nfd) >= 5, "some bundled lessons are NFD-encoded: %d" % len(nfd))
db = sqlite3.connect(os.path.join(home, "kho.db"))
bodies = [r[0] for r in db.execute("SELECT body FROM lessons")]
check(all(unicodedata.is_normalized("NFC", b) for b in bodies), "stored lesson text is NFC")
db.close()
# on one core the lesson text is extracted on the install's own thread: the same store
one = tmpdir("one-core")
p = subprocess.run(["taskset", "-c", "0", KHO, "--home", one, "import", "--bundled"],
                   capture_output=True, timeout=600)
check(p.returncode == 0, "a one-core import: " + p.stderr.decode())
tables = "SELECT l.lesson_id, l.body, l.title, t.kind, t.value FROM lessons l" \
         " LEFT JOIN lesson_tags t ON t.lesson = l.id ORDER BY 1, 4, 5"
stores = []
for h in (home, one):
    db = sqlite3.connect(os.path.join(h, "kho.db"))
    stores.append(db.execute(tables).fetchall())
    db.close()
check(stores[0] == stores[1] and len(stores[0]) > 160, "one core and two give the same lessons")
check(kho_json(one, "search", "duong").get("results") == kho_json(home, "search", "duong").get("results"),
      "and the same search results")

for query in ("nhung hat mua nho", "những hạt mưa nhỏ", unicodedata.normalize("NFD", "những hạt mưa nhỏ")):
    res = kho_json(home, "search", "--pack", "vn.kho.tieng-viet-4", query)
    check("bai-14" in [h["lesson"] for h in res.get("results", [])[:3]],
          "the NFD lesson bai-14 is found by %r: %r" % (query, [h["lesson"] for h in res.get("results", [])]))
done()
