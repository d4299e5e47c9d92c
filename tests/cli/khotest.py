"""Helpers shared by the end-to-end tests of the kho command.

Each test gets the path of the kho binary as its first argument, makes a
temporary home per scenario, and reports failures with check(); the process
exits 1 if any check failed, 77 when asked to skip.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

KHO = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "kho"
SOURCE = os.environ.get("KHO_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SOURCE, "tests", "data")
TESTDATA = os.path.join(SOURCE, "..", "shared", "testdata")

failures = 0
_tmp = tempfile.mkdtemp(prefix="kho-cli-")


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        frame = sys._getframe(1)
        print("%s:%d: check failed: %s" % (os.path.basename(frame.f_code.co_filename),
                                           frame.f_lineno, what), file=sys.stderr)
    return cond


def tmpdir(name):
    path = os.path.join(_tmp, name)
    os.makedirs(path)
    return path


def kho(home, *args, cwd=None, timeout=120):
    """Runs kho; returns (exit code, stdout, stderr)."""
    env = dict(os.environ)
    env.pop("KHO_HOME", None)
    p = subprocess.run([KHO, "--home", home] + list(args), capture_output=True, cwd=cwd,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def kho_json(home, *args):
    rc, out, err = kho(home, *args, "--json")
    check(rc == 0, "kho %s --json exits 0 (got %d: %s)" % (" ".join(args), rc, err))
    return json.loads(out) if rc == 0 else {}


def done():
    if failures:
        print("%d check(s) failed; files kept in %s" % (failures, _tmp), file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(_tmp, ignore_errors=True)
    sys.exit(0)


def skip(why):
    print("skipped: " + why)
    shutil.rmtree(_tmp, ignore_errors=True)
    sys.exit(77)


class Server:
    """`kho serve` on a free loopback port, for one test; stop() ends it."""

    def __init__(self, home, *args, env_extra=None):
        env = dict(os.environ)
        env.pop("KHO_HOME", None)
        env.pop("KHO_LOG", None)  # one log line per request, at info level
        env.update(env_extra or {})
        self.proc = subprocess.Popen([KHO, "--home", home, "serve", "--listen", "127.0.0.1:0"]
                                     + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode("utf-8", "replace")
        if "http://" not in line:
            self.proc.kill()
            raise RuntimeError("kho serve did not start: %r %r" % (
                line, self.proc.stderr.read().decode("utf-8", "replace")))
        self.url = line[line.index("http://"):].split()[0]
        self.host, port = self.url[len("http://"):].rstrip("/").rsplit(":", 1)
        self.port = int(port)

    def stop(self, sig=None):
        """Sends `sig` (SIGTERM by default); returns (exit code, stderr)."""
        import signal
        self.proc.send_signal(sig or signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        return rc, self.proc.stderr.read().decode("utf-8", "replace")


def http(server, path, method="GET", headers=None, body=None, timeout=10):
    """One request on a new connection: (status, headers dict lower-cased, body bytes)."""
    import http.client
    c = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def http_json(server, path):
    status, headers, body = http(server, path)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def add_user(home, name, password, *args):
    """kho user add NAME [ARGS…] with the password on standard input."""
    p = subprocess.run([KHO, "--home", home, "user", "add", name] + list(args),
                       input=(password + "\n").encode(), capture_output=True, timeout=120)
    if p.returncode:
        raise RuntimeError("kho user add %s: %s" % (name, p.stderr.decode()))


class Teacher:
    """A browser's session with the API of `server`: signs in as `name`, then
    call() sends the session cookie and CSRF token with every request."""

    def __init__(self, server, name, password):
        self.server = server
        self.cookie = self.csrf = None
        status, me = self.call("POST", "/api/login", {"name": name, "password": password})
        if status != 200:
            raise RuntimeError("sign-in as %s: %d %r" % (name, status, me))
        self.csrf = me["csrf"]

    def call(self, method, path, body=None):
        """(status, parsed JSON or None)."""
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        data = json.dumps(body) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        status, h, text = http(self.server, path, method, headers, data, timeout=30)
        if "set-cookie" in h and h["set-cookie"].startswith("kho_session="):
            self.cookie = h["set-cookie"].split(";")[0]
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None
