#!/usr/bin/env python3
"""End to end: `kho serve` over the bundled packs — the JSON API (the same JSON as the
command line), lesson files (MIME, ETag, Range, gzip, CSP sandbox), the app's pages,
keep-alive, the configuration file, request logs and a graceful stop."""
import gzip
import http.client as httpclient
import json
import os
import signal
import urllib.parse

from khotest import Server, check, done, http, http_json, kho, kho_json, tmpdir

home = tmpdir("home")
rc, out, err = kho(home, "import", "--bundled", timeout=600)
check(rc == 0, "import --bundled: " + err)

srv = Server(home, "--name", "Trường Tiểu học Kim Đồng")
q = urllib.parse.quote

# --- search: the same JSON as the command line
for query, extra in (("duong", []), ("phân số", ["--grade", "5"]), ("vong lap", ["--subject", "tin-hoc"]),
                     ("nuoc", ["--limit", "3", "--offset", "2"])):
    params = {"q": query}
    for flag, value in zip(extra[::2], extra[1::2]):
        params[flag.lstrip("-")] = value
    status, api = http_json(srv, "/api/search?" + urllib.parse.urlencode(params))
    cli = kho_json(home, "search", *extra, query)
    check(status == 200 and api == cli, "/api/search %r equals kho search --json" % params)
status, res = http_json(srv, "/api/search?q=duong")
check(res["total"] >= 1 and any("đường" in (h["title"] + h["snippet"]).lower() for h in res["results"]),
      "unaccented duong finds đường")
check(all(k in res for k in ("total", "results", "facets", "did_you_mean", "offset", "limit")),
      "search fields: %r" % list(res))
status, g5 = http_json(srv, "/api/search?q=phan+so&grade=5")
check(status == 200 and g5["total"] >= 1 and g5["facets"]["grade"] == [{"value": "5", "count": g5["total"]}],
      "grade filter: %r" % g5.get("facets"))
status, page2 = http_json(srv, "/api/search?q=bai&limit=5&offset=5")
status1, page1 = http_json(srv, "/api/search?q=bai&limit=10")
check([h["url"] for h in page2["results"]] == [h["url"] for h in page1["results"][5:10]],
      "pagination: offset 5 limit 5 is the second half of the first 10")
status, typing = http_json(srv, "/api/search?q=phan+s&prefix=1")
check(status == 200 and typing["total"] >= 1, "prefix=1 reads the last word as unfinished")
status, tele = http_json(srv, "/api/search?q=tieengs+vieejt")
check(status == 200 and tele["total"] >= 1, "Telex input")
status, dym = http_json(srv, "/api/search?q=phaan+sso")
check(status == 200 and ("did_you_mean" in dym), "did_you_mean present")
status, empty = http_json(srv, "/api/search?q=")
check(status == 200 and empty["total"] == 0, "empty query: no results, no error")

# --- suggest
status, sug = http_json(srv, "/api/suggest?q=phan+s")
check(status == 200 and 1 <= len(sug["suggestions"]) <= 8, "suggestions: %r" % sug)
check(sug == kho_json(home, "search", "--suggest", "phan s"), "/api/suggest equals kho search --suggest --json")
status, sug3 = http_json(srv, "/api/suggest?q=phan+s&limit=3")
check(len(sug3["suggestions"]) <= 3, "suggest limit")

# --- a lesson and its neighbours
hit = res["results"][0]
status, lesson = http_json(srv, "/api/lessons/%s/%s" % (q(hit["pack"]), q(hit["lesson"])))
check(status == 200 and lesson["title"] == hit["title"] and lesson["pack"] == hit["pack"],
      "lesson metadata: %r" % lesson)
check(lesson["file"].startswith("/files/%s/%d/" % (hit["pack"], lesson["version"])), "file url")
walked = 0
cur = lesson
while cur.get("next") and walked < 50:
    status, nxt = http_json(srv, "/api/lessons/%s/%s" % (q(cur["pack"]), q(cur["next"]["lesson"])))
    check(status == 200 and nxt["prev"]["lesson"] == cur["lesson"], "next's prev is this lesson")
    check(nxt["unit"] == cur["unit"], "next lesson is in the same unit")
    cur = nxt
    walked += 1
check(walked >= 1 or lesson.get("prev"), "a lesson with neighbours in its unit")
status, err404 = http_json(srv, "/api/lessons/vn.kho.toan-5/no-such-lesson")
check(status == 404 and "error" in err404, "unknown lesson: 404 with error")
status, _ = http_json(srv, "/api/lessons/onlyonepart")
check(status == 404, "malformed lesson path: 404")

# --- browse
status, subjects = http_json(srv, "/api/browse")
values = [s["value"] for s in subjects["subjects"]]
check(status == 200 and "toan" in values and len(values) >= 6, "browse subjects: %r" % values)
status, grades = http_json(srv, "/api/browse?subject=toan")
gvalues = [g["value"] for g in grades["grades"]]
check("5" in gvalues and "8" in gvalues, "toan grades: %r" % gvalues)
status, units = http_json(srv, "/api/browse?subject=toan&grade=5")
lessons = [l for u in units["units"] for l in u["lessons"]]
check(status == 200 and len(lessons) == grades["grades"][gvalues.index("5")]["count"],
      "units hold every lesson counted for the grade")
check(all(l["url"].startswith("/lesson/") for l in lessons), "lesson urls")
status, bad = http_json(srv, "/api/browse?grade=5")
check(status == 400, "grade without subject: 400")

# --- packs and info
status, packs = http_json(srv, "/api/packs")
check(status == 200 and packs == kho_json(home, "list"), "/api/packs equals kho list --json")
status, info = http_json(srv, "/api/info")
check(info.get("name") == "Trường Tiểu học Kim Đồng" and info.get("version"), "info: %r" % info)
status, _ = http_json(srv, "/api/nothing")
check(status == 404, "unknown API: 404")
status, dup = http_json(srv, "/api/search?q=a&Limit=3&limit=1")
check(status == 400 and "twice" in dup.get("error", ""), "a parameter twice, in any case: 400")


# --- lesson files
status, h, body = http(srv, lesson["file"])
check(status == 200 and h.get("content-type", "").startswith("text/html"), "lesson file served as HTML")
check("sandbox" in h.get("content-security-policy", "") and "allow-same-origin" not in
      h.get("content-security-policy", ""), "lesson HTML carries a CSP sandbox without same-origin")
check("immutable" in h.get("cache-control", "") and h.get("etag"), "immutable and ETag")
check(h.get("x-content-type-options") == "nosniff", "nosniff")
etag = h.get("etag")
status, h2, b2 = http(srv, lesson["file"], headers={"If-None-Match": etag})
check(status == 304 and b2 == b"", "If-None-Match: 304")
status, h3, b3 = http(srv, lesson["file"], headers={"Range": "bytes=0-9"})
check(status == 206 and b3 == body[:10] and h3.get("content-range") == "bytes 0-9/%d" % len(body),
      "Range 0-9: %r" % h3.get("content-range"))
status, h4, b4 = http(srv, lesson["file"], headers={"Range": "bytes=-5"})
check(status == 206 and b4 == body[-5:], "suffix range")
status, h5, b5 = http(srv, lesson["file"], headers={"Range": "bytes=%d-" % (len(body) + 10)})
check(status == 416 and h5.get("content-range") == "bytes */%d" % len(body), "unsatisfiable range: 416")
status, h6, b6 = http(srv, lesson["file"], headers={"Range": "bytes=0-1,5-6"})
check(status == 200 and b6 == body, "multiple ranges: the whole file")
status, h7, b7 = http(srv, lesson["file"], headers={"Accept-Encoding": "gzip"})
check(status == 200 and h7.get("content-encoding") == "gzip" and gzip.decompress(b7) == body,
      "gzip for HTML when accepted")
check(h7.get("etag") != etag and "accept-ranges" not in h7, "the gzip body has its own ETag, no ranges")
status, _, _ = http(srv, lesson["file"], headers={"Accept-Encoding": "gzip", "If-None-Match": h7["etag"]})
check(status == 304, "the gzip body revalidates with its own ETag")
for ae in ("gzip;q=0, identity", "gzip;Q=0", "gzip ; q = 0"):
    status, h8, b8 = http(srv, lesson["file"], headers={"Accept-Encoding": ae})
    check(status == 200 and "content-encoding" not in h8 and b8 == body, "%r refuses gzip" % ae)
status, h10, b10 = http(srv, lesson["file"], headers={"Range": "bytes=0-99999999999999999999"})
check(status == 206 and b10 == body, "a range past any size runs to the end")
status, h9, b9 = http(srv, lesson["file"], method="HEAD")
check(status == 200 and b9 == b"" and h9.get("content-length") == str(len(body)), "HEAD")
status, _, _ = http(srv, "/files/vn.kho.toan-5/999/lessons/x.html")
check(status == 404, "file of a version that is not installed: 404")

# --- the app
status, h, index = http(srv, "/")
check(status == 200 and h.get("content-type", "").startswith("text/html") and b"<html" in index.lower(),
      "/ is the app")
check("frame-ancestors 'none'" in h.get("content-security-policy", ""), "the app has its own CSP")
status, h, again = http(srv, hit["url"])
check(status == 200 and again == index, "a lesson's address opens the app")
status, h, js = http(srv, "/app/app.js", headers={"Accept-Encoding": "gzip"})
check(status == 200 and h.get("content-encoding") == "gzip" and "javascript" in h.get("content-type", ""),
      "app.js, gzip")
status, _, _ = http(srv, "/app/app.js", headers={"If-None-Match": h.get("etag", "x"), "Accept-Encoding": "gzip"})
check(status == 304, "app files revalidate with their ETag")
status, _, _ = http(srv, "/app/missing.js")
check(status == 404, "missing app file: 404")
status, _, _ = http(srv, "/nowhere")
check(status == 404, "unknown page: 404")

status, _, _ = http(srv, "/x%0akho:%20error:%20forged%1b[31m")
check(status == 400, "control characters in a path: 400")

# --- keep-alive: several requests on one connection
c = httpclient.HTTPConnection(srv.host, srv.port, timeout=10)
statuses = []
for path in ("/api/info", "/api/search?q=duong", "/app/app.css"):
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    statuses.append((r.status, r.getheader("Connection")))
c.close()
check(all(s == 200 and conn != "close" for s, conn in statuses), "keep-alive: %r" % statuses)

# --- graceful stop, with one log line per request
rc, log = srv.stop(signal.SIGTERM)
check(rc == 0, "SIGTERM stops the server with exit 0 (got %r)" % rc)
check("GET /api/search 200" in log and "GET /files/" in log, "one log line per request")
check("q=" not in log and "duong" not in log, "queries are not logged")
check("\nkho: error: forged" not in log and "\x1b" not in log, "requests cannot forge log lines")
srv2 = Server(home)
rc, log = srv2.stop(signal.SIGINT)
check(rc == 0, "SIGINT stops the server with exit 0")

# --- the configuration file
conf = os.path.join(home, "kho.conf")
with open(conf, "w") as f:
    f.write("# a school\nname = Trường THCS Lê Lợi\nthreads = 2\nidle_timeout = 5\n")
srv3 = Server(home)
status, info = http_json(srv3, "/api/info")
check(info.get("name") == "Trường THCS Lê Lợi", "name from kho.conf: %r" % info)
srv3.stop()
for bad_line, what in (("colour = blue\n", "unknown setting"), ("listen = nowhere\n", "listen"),
                       ("threads = 0\n", "threads"), ("just words\n", "key = value")):
    with open(conf, "w") as f:
        f.write("name = X\n" + bad_line)
    rc, out, err = kho(home, "serve", "--listen", "127.0.0.1:0", timeout=20)
    check(rc == 1 and "kho.conf:2" in err and what in err, "bad config line refused: " + err)
os.remove(conf)
rc, out, err = kho(home, "serve", "--listen", "127.0.0.1:99999")
check(rc == 1 and "port" in err, "bad --listen refused: " + err)
rc, out, err = kho(home, "serve", "--config", os.path.join(home, "none.conf"))
check(rc == 1 and "none.conf" in err, "a named config that is missing is an error")
done()
