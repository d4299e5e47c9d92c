#!/usr/bin/env python3
"""A misbehaving HTTP proxy for the sync tests: forwards to UPSTREAM, but for the first
requests of objects (paths under /objects/) it, in turn, cuts the body off half-way,
answers 503, stalls half-way (20 s without a byte) and cuts again; later requests pass
through, Range headers included.

Usage: faulty-proxy.py PORT UPSTREAM_PORT   (prints "ready" when listening)
"""
import http.client
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

port, upstream = int(sys.argv[1]), int(sys.argv[2])
faults = ["cut", "503", "stall", "cut"]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        fault = None
        if self.path.startswith("/objects/"):
            with lock:
                fault = faults.pop(0) if faults else None
        if fault == "503":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("range", "accept-encoding")}
        c.request("GET", self.path, headers=headers)
        r = c.getresponse()
        body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("content-type", "content-range", "content-encoding", "accept-ranges"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "stall" and len(body) > 10:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            time.sleep(20)
            self.close_connection = True
            return
        if fault == "cut" and len(body) > 10:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", port), Handler) as s:
    print("ready", flush=True)
    s.serve_forever()
