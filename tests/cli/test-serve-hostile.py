#!/usr/bin/env python3
"""Hostile requests to `kho serve`: each gets a 4xx (or the connection closed), never a
file outside the box, never a 5xx, and the server keeps serving everyone else."""
import os
import socket
import time

from khotest import DATA, Server, check, done, http, kho, tmpdir

home = tmpdir("home")
rc, out, err = kho(home, "import", os.path.join(DATA, "packs", "mini"))
check(rc == 0, "import mini: " + err)
with open(os.path.join(home, "kho.conf"), "w") as f:
    f.write("idle_timeout = 2\n")
srv = Server(home)
secret = b"root:"


def raw(data, timeout=5, source="127.0.0.1"):
    """Sends raw bytes on a new connection; returns what came back before close."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((srv.host, srv.port))
    got = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    return got


def status_of(reply):
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def alive():
    status, _, _ = http(srv, "/api/info")
    return status == 200


# --- path traversal, in every encoding, under every prefix
traversals = [
    "/files/../../../../etc/passwd", "/files/test.mini/1/../../../../etc/passwd",
    "/files/test.mini/1/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/files/test.mini/1/..%2f..%2f..%2fetc%2fpasswd",
    "/files/test.mini/1/%252e%252e/%252e%252e/etc/passwd", "/files/test.mini/1/..%5c..%5cetc%5cpasswd",
    "/files/test.mini/1//etc/passwd", "/files/test.mini/1/./lessons/a.html", "/files/test.mini/1/%2fetc%2fpasswd",
    "/files/test.mini/1/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/app/../../../../etc/passwd",
    "/app/%2e%2e/%2e%2e/etc/passwd", "/../../../../etc/passwd", "/lesson/../../etc/passwd",
    "/files/test.mini/-1/lessons/a.html", "/files/test.mini/99999999999999999999/lessons/a.html",
    "/api/lessons/../../etc/passwd", "/files/%2e%2e/1/etc/passwd",
]
for path in traversals:
    reply = raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    st = status_of(reply)
    check(st is not None and 400 <= st < 500 and secret not in reply, "traversal %s: %r" % (path, st))

# --- NUL bytes and invalid UTF-8, in the path and in parameters
for path in ("/api/search?q=a%00b", "/files/test.mini/1/lessons/a.html%00.png", "/api/search?q=%ff%fe",
             "/api/search?q=%c3%28", "/api/search?%ff=1", "/api/lessons/%ff/%fe", "/files/%ff/1/x",
             "/api/search?q=%ed%a0%80", "/api/search?grade=%00", "/api/search?q=a%01b"):
    reply = raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    check(status_of(reply) == 400, "bad text %s: %r" % (path, status_of(reply)))
reply = raw(b"GET /api/search?q=\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
st = status_of(reply)
check(st is None or 400 <= st < 500, "raw invalid UTF-8 bytes in the request line: %r" % st)

# --- huge query strings, absurd limit and offset, malformed query syntax
long_q = "/api/search?q=" + "a" * 20000
reply = raw(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % long_q).encode())
st = status_of(reply)
check(st is None or 400 <= st < 500, "20 KB query string: %r" % st)
status, _, _ = http(srv, "/api/search?q=" + "ab+" * 400)
check(status == 400, "q over 1000 bytes: 400")
for params in ("limit=1000000", "limit=0", "limit=-1", "limit=abc", "offset=-5", "offset=99999999999999999999",
               "limit=1e3", "limit=%20", "limit=10&limit=20000", "offset=10001"):
    status, _, body = http(srv, "/api/search?q=phan&" + params)
    check(status == 400 and b"error" in body, "absurd %s: %r" % (params, status))
for query in ('"""', '"', "-", "--", "OR", "OR OR OR", "(((", ")", "*", "^", "a AND", 'NEAR(a b)', "a:b",
              "'; DROP TABLE lessons; --", "\\", "{}", "%", "_", "a" * 999, "đ" * 300, "- - -", '"a" -"b" OR'):
    status, _, body = http(srv, "/api/search?q=" + __import__("urllib.parse").parse.quote(query))
    check(status == 200 and b'"total"' in body, "malformed query %r: %r" % (query[:30], status))
    status, _, _ = http(srv, "/api/suggest?q=" + __import__("urllib.parse").parse.quote(query))
    check(status == 200, "malformed suggest %r" % query[:30])

# --- methods and bodies
for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"):
    status, h, _ = http(srv, "/api/info", method=method)
    check(status == 405 and "GET" in h.get("allow", ""), "%s: 405" % method)
reply = raw(b"GET /api/info HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 65536)
check(status_of(reply) == 413, "a body on GET: 413")
reply = raw(b"POST /api/info HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"ffff\r\n" + b"y" * 65535)
st = status_of(reply)
check(st is not None and 400 <= st < 500, "chunked body: %r" % st)

# --- oversized headers and request lines
reply = raw(b"GET /api/info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
st = status_of(reply)
check(st is None or 400 <= st < 500, "200 KB header: %r" % st)
reply = raw(b"GET /api/info HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n")
st = status_of(reply)
check(st is None or 400 <= st < 500, "5000 headers: %r" % st)
reply = raw(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
st = status_of(reply)
check(st is None or 400 <= st < 500, "70 KB request line: %r" % st)
reply = raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200))
st = status_of(reply)
check(st is None or 400 <= st < 500, "TLS hello to plain HTTP: %r" % st)
reply = raw(b"GARBAGE\r\n\r\n")
check(status_of(reply) in (None, 400, 405, 505), "garbage request line")
check(alive(), "still serving after the malformed requests")

# an error message quoting a long path is cut, and still valid UTF-8 JSON
reply = raw(b"GET /files/test.mini/1/a" + "é".encode() * 1100 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
body = reply.split(b"\r\n\r\n", 1)[-1]
try:
    valid = "error" in __import__("json").loads(body.decode("utf-8"))
except ValueError:
    valid = False
check(status_of(reply) == 404 and valid, "long error message: valid JSON (%r)" % body[-40:])

# --- many idle connections: bounded per address, closed after the idle timeout
idle = []
for i in range(120):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((srv.host, srv.port))
        idle.append(s)
    except OSError:
        s.close()
check(len(idle) >= 60, "idle connections accepted up to the per-address cap (%d)" % len(idle))
other = raw(b"GET /api/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", source="127.0.0.2")
check(status_of(other) == 200, "another address is served while one holds idle connections")
time.sleep(4)  # idle_timeout = 2
closed = 0
for s in idle:
    try:
        s.settimeout(1)
        if s.recv(1) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
check(closed == len(idle), "idle connections closed after the timeout (%d of %d)"
      % (closed, len(idle)))
check(alive(), "serving again after the idle connections")

check(alive(), "still serving at the end")
rc, log = srv.stop()
check(rc == 0, "clean stop after the hostile requests: %r" % rc)
check("AddressSanitizer" not in log and "runtime error" not in log, "no sanitizer reports: " + log[-2000:])
done()
