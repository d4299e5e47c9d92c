#!/usr/bin/env python3
"""End to end: teachers' accounts — kho user add/list/passwd/remove, sign-in over the API
(cookie HttpOnly and SameSite=Strict, CSRF token), favourites kept per teacher, an anonymous
user changes nothing, a session that expires or whose password changes ends, and failed
sign-ins are limited."""
import http.client as httpclient
import json
import os
import sqlite3
import subprocess

from khotest import DATA, KHO, Server, check, done, http, kho, kho_json, tmpdir

home = tmpdir("home")
rc, out, err = kho(home, "import", os.path.join(DATA, "packs", "mini"))


def user(*args, password=None):
    p = subprocess.run([KHO, "--home", home, "user"] + list(args), input=(password or "").encode(),
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


rc, out, err = user("add", "co.lan", password="mat-khau-dai\n")
check(rc == 0 and "added co.lan" in out, "user add: " + out + err)
rc, out, err = user("add", "co.lan", password="mat-khau-dai\n")
check(rc == 1 and "already" in err, "the same name twice: " + err)
rc, out, err = user("add", "thay/nam", password="mat-khau-dai\n")
check(rc == 1 and "letters" in err, "a bad name: " + err)
rc, out, err = user("add", "thay.nam", password="short\n")
check(rc == 1 and "8 to 1024" in err, "a short password: " + err)
rc, out, err = user("add", "thay.nam", "--admin", password="mat-khau-khac\n")
check(rc == 0, "an admin: " + err)
users = kho_json(home, "user", "list")["users"]
check([(u["name"], u["role"]) for u in users] == [("co.lan", "teacher"), ("thay.nam", "admin")], "list: %r" % users)
db = sqlite3.connect(os.path.join(home, "kho.db"))
check(all(h.startswith("$argon2id$") for (h,) in db.execute("SELECT password_hash FROM users")), "Argon2id hashes")
db.close()

srv = Server(home)


def call(method, path, body=None, cookie=None, csrf=None, raw=None):
    c = httpclient.HTTPConnection(srv.host, srv.port, timeout=30)
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if csrf:
        headers["X-CSRF-Token"] = csrf
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read()
    c.close()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed


status, h, me = call("GET", "/api/me")
check(status == 401, "anonymous: /api/me is 401")
status, h, res = call("POST", "/api/favourites", {"pack": "test.mini", "lesson": "duong-tron"})
check(status == 401, "anonymous changes nothing: 401")
status, h, res = call("POST", "/api/login", {"name": "co.lan", "password": "wrong-password"})
check(status == 401 and res and "wrong" in res["error"], "a wrong password: 401")
status, h, res = call("POST", "/api/login", {"name": "nobody", "password": "wrong-password"})
check(status == 401 and res and res["error"] == "wrong name or password", "an unknown name: the same answer")
# a page of another site cannot sign a browser in (login CSRF), nor send a form
for headers, want in (({"Origin": "http://evil.example"}, 403), ({"Sec-Fetch-Site": "cross-site"}, 403),
                      ({"Content-Type": "text/plain"}, 415),
                      ({"Origin": "http://%s:%d" % (srv.host, srv.port), "Sec-Fetch-Site": "same-origin"}, 200)):
    hs = {"Content-Type": "application/json"}
    hs.update(headers)
    status, h, body = http(srv, "/api/login", "POST", hs, json.dumps({"name": "co.lan", "password": "mat-khau-dai"}))
    check(status == want and (want == 200) == ("set-cookie" in h), "sign-in with %r: %d" % (headers, status))
status, h, res = call("POST", "/api/login", {"name": "co.lan", "password": "mat-khau-dai"})
cookie_h = h.get("set-cookie", "")
check(status == 200 and res["name"] == "co.lan" and len(res["csrf"]) == 64, "sign-in: %r" % res)
check("HttpOnly" in cookie_h and "SameSite=Strict" in cookie_h, "the cookie is HttpOnly and SameSite: " + cookie_h)
cookie = cookie_h.split(";")[0]
csrf = res["csrf"]
status, h, me = call("GET", "/api/me", cookie=cookie)
check(status == 200 and me["name"] == "co.lan" and me["role"] == "teacher", "/api/me: %r" % me)

# favourites, with the CSRF token
status, h, res = call("POST", "/api/favourites", {"pack": "test.mini", "lesson": "duong-tron"}, cookie=cookie)
check(status == 403 and "CSRF" in res["error"], "without the CSRF token: 403")
status, h, res = call("POST", "/api/favourites", {"pack": "test.mini", "lesson": "duong-tron"}, cookie=cookie, csrf="0" * 64)
check(status == 403, "with a wrong CSRF token: 403")
status, h, res = call("POST", "/api/favourites", {"pack": "test.mini", "lesson": "duong-tron"}, cookie=cookie, csrf=csrf)
check(status == 201, "a favourite: %r" % res)
status, h, res = call("POST", "/api/favourites", {"pack": "test.mini", "lesson": "no-such"}, cookie=cookie, csrf=csrf)
check(status == 404, "a favourite of a lesson that is not there: 404")
status, h, res = call("POST", "/api/favourites", raw="not json", cookie=cookie, csrf=csrf)
check(status == 400, "a body that is not JSON: 400")
status, h, res = call("POST", "/api/favourites", raw="x" * 5000, cookie=cookie, csrf=csrf)
check(status == 400, "a body of 5 kB that is not JSON: 400")
status, h, res = call("POST", "/api/favourites", raw="x" * 70000, cookie=cookie, csrf=csrf)
check(status == 413, "a body over 64 KiB: 413")
status, h, res = call("GET", "/api/favourites", cookie=cookie)
check(status == 200 and [(f["pack"], f["lesson"]) for f in res["favourites"]] == [("test.mini", "duong-tron")],
      "favourites: %r" % res)

# another teacher sees their own only
status, h, res = call("POST", "/api/login", {"name": "thay.nam", "password": "mat-khau-khac"})
cookie2, csrf2 = h.get("set-cookie", "").split(";")[0], res["csrf"]
status, h, res = call("GET", "/api/favourites", cookie=cookie2)
check(status == 200 and res["favourites"] == [], "another teacher does not see them")
status, h, res = call("DELETE", "/api/favourites/test.mini/duong-tron", cookie=cookie2, csrf=csrf2)
status, h, res = call("GET", "/api/favourites", cookie=cookie)
check(len(res["favourites"]) == 1, "nor remove them")
status, h, res = call("DELETE", "/api/favourites/test.mini/duong-tron", cookie=cookie, csrf=csrf)
status, h, res = call("GET", "/api/favourites", cookie=cookie)
check(status == 200 and res["favourites"] == [], "removed by their owner")

# a profile, and the history ("continue where you left off")
status, h, me = call("POST", "/api/me", {"grades": "5 6", "subjects": "toan", "lang": "en"}, cookie=cookie, csrf=csrf)
check(status == 200 and me["grades"] == "5 6" and me["subjects"] == "toan" and me["lang"] == "en", "profile: %r" % me)
status, h, res = call("POST", "/api/me", {"grades": "five"}, cookie=cookie, csrf=csrf)
check(status == 400, "a malformed profile: 400")
for lesson in ("duong-tron", "ban-be", "duong-tron"):
    status, h, res = call("POST", "/api/history", {"pack": "test.mini", "lesson": lesson}, cookie=cookie, csrf=csrf)
    check(status == 201, "history: %r" % res)
status, h, res = call("GET", "/api/history", cookie=cookie)
check([x["lesson"] for x in res["history"]] == ["duong-tron", "ban-be"], "last opened first, once each: %r" % res)
status, h, res = call("POST", "/api/favourites", {"pack": "test.mini", "lesson": "ban-hang"}, cookie=cookie, csrf=csrf)

# a backup taken while the server answers restores onto a new box
status, h, res = call("POST", "/api/collections", {"name": "Tuần 12", "shared": True}, cookie=cookie, csrf=csrf)
check(status == 201, "a collection to back up")
status, h, res = call("POST", "/api/collections/%d/items" % res["id"], {"pack": "test.mini", "lesson": "ban-be"},
                      cookie=cookie, csrf=csrf)
kho(home, "subscribe", "test.*")
kho(home, "usage", "k", "4")
import threading
stop = False


def busy():
    while not stop:
        call("GET", "/api/search?q=duong")


t = threading.Thread(target=busy)
t.start()
backup = os.path.join(tmpdir("usb"), "kho")
rc, out, err = kho(home, "backup", backup)
stop = True
t.join()
check(rc == 0 and os.path.exists(os.path.join(backup, "kho-backup.db")), "backup while serving: " + out + err)
rc, out, err = kho(home, "backup", backup)
check(rc == 1 and "exists" in err, "a backup never overwrites one")
fresh = tmpdir("new-box")
kho(fresh, "import", os.path.join(DATA, "packs", "mini"))
rc, out, err = kho(fresh, "restore", backup)
check(rc == 0, "restore: " + err)
check(kho_json(fresh, "user", "list")["users"] == kho_json(home, "user", "list")["users"], "the same accounts")
BACKED_UP = ("users", "favourites", "history", "collections", "collection_items", "subscriptions",
             "trusted_keys", "catalogs_seen", "settings")


def rows(h, table):
    db = sqlite3.connect(os.path.join(h, "kho.db"))
    r = sorted(db.execute("SELECT * FROM " + table).fetchall(), key=repr)
    db.close()
    return r


for table in BACKED_UP:
    check(rows(fresh, table) == rows(home, table), "restored identical: %s" % table)
check(rows(home, "collection_items") and rows(home, "subscriptions") and rows(home, "history"),
      "the tables compared are not empty")
rc, out, err = kho(fresh, "restore", backup)
check(rc == 1 and "accounts already" in err, "never over a box's own accounts: " + err)
srv2 = Server(fresh)
c = httpclient.HTTPConnection(srv2.host, srv2.port, timeout=30)
c.request("POST", "/api/login", body=json.dumps({"name": "co.lan", "password": "mat-khau-dai"}),
          headers={"Content-Type": "application/json"})
r = c.getresponse()
r.read()
cookie3 = (r.getheader("Set-Cookie") or "").split(";")[0]
c.request("GET", "/api/favourites", headers={"Cookie": cookie3})
favs = json.loads(c.getresponse().read())
c.close()
check(r.status == 200 and [f["lesson"] for f in favs["favourites"]] == ["ban-hang"],
      "on the new box the teacher signs in and finds their favourites: %r" % favs)
srv2.stop()
rc, out, err = kho(fresh, "restore", os.path.join(DATA, "packs"))
check(rc == 1, "a folder without a backup: " + err)

# a session ends: sign-out, expiry, a new password
status, h, res = call("POST", "/api/logout", cookie=cookie2, csrf=csrf2)
check(status == 200 and "Max-Age=0" in h.get("set-cookie", ""), "sign-out clears the cookie")
status, h, res = call("GET", "/api/me", cookie=cookie2)
check(status == 401, "signed out: 401")
db = sqlite3.connect(os.path.join(home, "kho.db"))
db.execute("UPDATE sessions SET expires_at = 0")
db.commit()
db.close()
status, h, res = call("GET", "/api/me", cookie=cookie)
check(status == 401, "an expired session: 401")
status, h, res = call("POST", "/api/login", {"name": "co.lan", "password": "mat-khau-dai"})
cookie = h.get("set-cookie", "").split(";")[0]
rc, out, err = user("profile", "thay.nam", "--grades", "6 7", "--subjects", "toan")
check(rc == 0 and "grades 6 7, subjects toan" in out, "kho user profile: " + out + err)
listed = {u["name"]: u for u in kho_json(home, "user", "list", "--json")["users"]}
check(listed["thay.nam"]["grades"] == "6 7" and listed["co.lan"]["grades"] == "5 6", "profiles listed: %r" % listed)
rc, out, err = user("profile", "thay.nam", "--grades", "sáu")
check(rc == 1 and "grades" in err, "a malformed profile: " + err)
rc, out, err = user("profile", "no.such.user")
check(rc == 1 and "no user" in err, "the profile of nobody: " + err)
rc, out, err = user("passwd", "no.such.user", password="mat-khau-moi-1\n")
check(rc == 1 and "no user no.such.user" in err, "passwd of nobody fails: " + out + err)
rc, out, err = user("passwd", "co.lan", password="mat-khau-moi-1\n")
check(rc == 0, "passwd: " + err)
status, h, res = call("GET", "/api/me", cookie=cookie)
check(status == 401, "a new password ends the sessions")
status, h, res = call("POST", "/api/login", {"name": "co.lan", "password": "mat-khau-moi-1"})
check(status == 200, "the new password signs in")

# failed sign-ins are limited per address
statuses = [call("POST", "/api/login", {"name": "co.lan", "password": "guess-%d" % i})[0] for i in range(6)]
# (the two failures above count too, unless a minute began in between)
first = statuses.index(429) if 429 in statuses else -1
check(3 <= first <= 5 and statuses[:first] == [401] * first and set(statuses[first:]) == {429},
      "five failures in a minute, then 429: %r" % statuses)
status, h, res = call("POST", "/api/login", {"name": "co.lan", "password": "mat-khau-moi-1"})
check(status == 429, "even the right password waits: %r" % status)
for method in ("POST", "DELETE"):
    status, h, res = call(method, "/api/search?q=x", cookie=cookie)
    check(status == 405, "%s on a read-only API: 405" % method)
rc, out, err = user("remove", "co.lan")
check(rc == 0, "user remove")
rc, log = srv.stop()
check("mat-khau" not in log, "passwords are never logged")
done()
