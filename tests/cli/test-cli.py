#!/usr/bin/env python3
"""End to end: import, list, search, upgrade, refuse older, remove, usage errors."""
import json
import os

from khotest import DATA, check, done, kho, kho_json, tmpdir

home = tmpdir("home")
mini = os.path.join(DATA, "packs", "mini")
mini2 = os.path.join(DATA, "packs", "mini-v2")

# usage
rc, out, err = kho(home)
check(rc == 2, "kho with no command exits 2")
rc, out, err = kho(home, "bogus")
check(rc == 2 and "no command 'bogus'" in err, "unknown command exits 2: " + err)
rc, out, err = kho(home, "search")
check(rc == 2 and "usage: kho search" in err, "search without a query exits 2")
rc, out, err = kho(home, "search", "--limit", "0", "x")
check(rc == 2, "search --limit 0 exits 2")
rc, out, err = kho(home, "search", "--limit", "abc", "x")
check(rc == 2, "search --limit abc exits 2")
rc, out, err = kho(home, "help", "import")
check(rc == 0 and "usage: kho import" in out, "help import")
rc, out, err = kho(home, "list", "--help")
check(rc == 0 and "usage: kho list" in out, "list --help")
rc, out, err = kho(home, "import", "--frobnicate", mini)
check(rc == 2, "unknown option exits 2")

# an empty box
rc, out, err = kho(home, "list")
check(rc == 0 and "No packs installed" in out, "empty list: " + out)
check(kho_json(home, "list").get("packs") == [], "empty list --json")

# import
rc, out, err = kho(home, "import", mini)
check(rc == 0 and "installed test.mini version 1: 3 lessons" in out, "import: " + out + err)
rc, out, err = kho(home, "import", mini)
check(rc == 0 and "already installed; nothing to do" in out, "same again: " + out)
listing = kho_json(home, "list")
packs = listing.get("packs", [])
check(len(packs) == 1 and packs[0]["id"] == "test.mini" and packs[0]["lessons"] == 3
      and packs[0]["version"] == 1 and packs[0]["title"] == "Gói thử nhỏ", "list --json: %r" % packs)
check(listing.get("total_lessons") == 3, "total_lessons")

# search, with and without accents, as text and JSON
for query in ("duong", "đường", "ĐƯỜNG", "Duong kinh"):
    res = kho_json(home, "search", query)
    hits = res.get("results", [])
    check(res.get("total", 0) >= 1 and hits and hits[0]["lesson"] == "duong-tron",
          "search %r finds the circle lesson: %r" % (query, res))
    if hits:
        h = hits[0]
        check(h["pack"] == "test.mini" and h["url"] == "/lesson/test.mini/duong-tron",
              "result fields: %r" % h)
        check("Đường" in h["title"], "title is the lesson's: %r" % h["title"])
        check("<mark>" in h["snippet"], "snippet marks the match: %r" % h["snippet"])
rc, out, err = kho(home, "search", "duong")
check(rc == 0 and "Đường tròn và đường kính" in out and "/lesson/test.mini/duong-tron" in out,
      "text output: " + out)
check("dontIndexMe" not in out, "script text is not indexed")
res = kho_json(home, "search", "dontIndexMe")
check(res.get("total") == 0, "script text is not searchable")
res = kho_json(home, "search", "khongcogica")
check(res.get("total") == 0 and res.get("results") == [], "no match: %r" % res)
rc, out, err = kho(home, "search", "khongcogica")
check(rc == 0 and "No lessons found" in out, "no match text")
res = kho_json(home, "search", "ban")
facets = res.get("facets", {})
check(facets.get("subject") == [{"value": "toan", "count": 2}, {"value": "dao-duc", "count": 1}],
      "subject facets over all matches: %r" % facets)
check(facets.get("pack") == [{"value": "test.mini", "count": 3}], "pack facet: %r" % facets)
check({"value": "4", "count": 1} in facets.get("grade", []), "grade facet: %r" % facets)
res1 = kho_json(home, "search", "--limit", "1", "ban")
check(res1.get("facets") == facets and len(res1.get("results", [])) == 1, "facets do not depend on the page")
check(kho_json(home, "search", "khongcogica").get("facets") == {}, "no facets without matches")
rc, out, err = kho(home, "search", "ban")
check("subject: toan 2, dao-duc 1" in out, "text output shows facets: " + out)
# typed with accents, the exact spelling ranks first; without, all of them match
order = [h["lesson"] for h in kho_json(home, "search", "bạn").get("results", [])]
check(order[:1] == ["ban-be"] and len(order) == 3, "bạn: the lesson with bạn first: %r" % order)
order = [h["lesson"] for h in kho_json(home, "search", "bán").get("results", [])]
check(len(order) == 3 and order[-1] == "ban-be", "bán: the lesson with bạn last: %r" % order)
check(kho_json(home, "search", "ban").get("total") == 3, "ban: all three")
# Telex and VNI typed without an input method
for typed in ("dduwowngf trofn", "d9u7o7ng2 tro2n"):
    order = [h["lesson"] for h in kho_json(home, "search", typed).get("results", [])]
    check(order[:1] == ["duong-tron"], "%s reads as đường tròn: %r" % (typed, order))
# misspelt words: the closest words of the lessons are suggested
res = kho_json(home, "search", "duogn tronn")
check(res.get("did_you_mean") == "duong tron" and res.get("total") == 0, "did you mean: %r" % res)
check(kho_json(home, "search", "duong tron").get("did_you_mean") is None, "known words: no suggestion")
check(kho_json(home, "search", "dduwowngf").get("did_you_mean") == "duong", "Telex: read, and said")
rc, out, err = kho(home, "search", "duogn tronn")
check('Did you mean "duong tron"?' in out, "text output suggests: " + out)
# completions while typing
res = kho_json(home, "search", "--suggest", "duong k")
check([x["lesson"] for x in res.get("suggestions", [])][:1] == ["duong-tron"]
      and res["suggestions"][0]["title"] == "Đường tròn và đường kính", "--suggest: %r" % res)
rc, out, err = kho(home, "search", "--suggest", "ban h")
check(rc == 0 and out.splitlines()[0] == "Bài toán bán hàng\t/lesson/test.mini/ban-hang", "--suggest text: " + out)
res = kho_json(home, "search", "--prefix", "duong kin")
check([h["lesson"] for h in res.get("results", [])][:1] == ["duong-tron"], "--prefix: %r" % res.get("results"))
check(kho_json(home, "search", "kin").get("total") == 0, "without --prefix a part of a word finds nothing")
res = kho_json(home, "search", "--grade", "4", "ban")
check([h["lesson"] for h in res.get("results", [])] == ["ban-hang"], "grade filter: %r" % res)
res = kho_json(home, "search", "--subject", "dao-duc", "ban")
check([h["lesson"] for h in res.get("results", [])] == ["ban-be"], "subject filter: %r" % res)
for hostile in ('"unbalanced', "OR OR AND", "NEAR(", "*", "-", "'; DROP TABLE lessons; --",
                "a" * 20000, "\u0000", "title:x", "^x", "x AND"):
    rc, out, err = kho(home, "search", "--json", hostile.replace("\u0000", ""))
    check(rc == 0, "hostile query %r does not fail: %s" % (hostile[:30], err))

# a query that is not UTF-8 still gives valid JSON
import subprocess as _sp
from khotest import KHO as _KHO
p = _sp.run([_KHO, "--home", home, "search", "--json", b"phan\xff so"], capture_output=True)
check(p.returncode == 0 and json.loads(p.stdout)["query"] == "phan\ufffd so", "non-UTF-8 query: %r" % p.stdout[:200])

# upgrade keeps the old version for rollback; older is refused
rc, out, err = kho(home, "import", mini2)
check(rc == 0 and "upgraded test.mini version 2 (was 1; kept for rollback)" in out, "upgrade: " + out + err)
packs = kho_json(home, "list").get("packs", [])
check(packs and packs[0]["version"] == 2 and packs[0]["older_versions"] == 1, "after upgrade: %r" % packs)
check(kho_json(home, "search", "duong").get("total") == 0, "old lesson left the search")
check(kho_json(home, "search", "chu vi").get("total", 0) >= 1, "new lesson is searchable")
rc, out, err = kho(home, "import", mini)
check(rc == 1 and err.startswith("kho: cannot import") and "older than the installed version 2" in err,
      "older refused: " + err)
check(kho_json(home, "list").get("packs", [{}])[0].get("version") == 2, "still version 2")

# several packs at once: the bad one is reported, the good one installs
bad = os.path.join(home, "..", "not-there")
rc, out, err = kho(home, "import", bad, mini2)
check(rc == 1 and "no such file" in err and "already installed" in out, "mixed import: " + out + err)
res = kho_json(home, "import", mini2)
check(res.get("imports", [{}])[0].get("status") == "unchanged", "import --json: %r" % res)

# remove
rc, out, err = kho(home, "remove", "test.mini")
check(rc == 0 and "removed test.mini" in out, "remove")
check(kho_json(home, "list").get("packs") == [], "nothing left")
check(kho_json(home, "search", "ban").get("total") == 0, "nothing searchable")
rc, out, err = kho(home, "remove", "test.mini")
check(rc == 1 and "no pack 'test.mini' is installed" in err, "remove twice: " + err)

# --home is required somewhere: KHO_HOME works the same
env_home = tmpdir("env-home")
os.environ["KHO_HOME"] = env_home
import subprocess
from khotest import KHO
p = subprocess.run([KHO, "import", mini], capture_output=True)
check(p.returncode == 0 and os.path.exists(os.path.join(env_home, "kho.db")), "KHO_HOME is used")
done()
