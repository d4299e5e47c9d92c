#!/usr/bin/env python3
"""Hostile packs: each must be refused with a clear message naming the problem,
exit code 1 (never a crash or a hang), no file written outside the box's home,
and the installed packs left exactly as they were."""
import io
import os
import stat
import zipfile

from khotest import DATA, check, done, kho, kho_json, tmpdir

MINI = os.path.join(DATA, "packs", "mini")
LESSONS = ["lessons/duong-tron.html", "lessons/ban-hang.html", "lessons/ban-be.html"]


def mini_files():
    files = {}
    for name in ["manifest.xml"] + LESSONS:
        with open(os.path.join(MINI, name), "rb") as f:
            files[name] = f.read()
    return files


def manifest(pack_id="test.hostile", version="1", body=None, doctype="", title="T"):
    lessons = body if body is not None else "".join(
        '<lesson id="l%d" href="%s"><title>L</title></lesson>' % (i, h) for i, h in enumerate(LESSONS))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n%s<pack xmlns="urn:kho:pack:1" id="%s" '
            'version="%s"><title>%s</title>%s</pack>\n' % (doctype, pack_id, version, title, lessons)).encode()


class RawName(zipfile.ZipInfo):
    """A zip entry whose name is written as raw bytes (not valid UTF-8)."""
    def __init__(self, raw):
        super().__init__("placeholder")
        self.raw = raw

    def _encodeFilenameFlags(self):
        return self.raw, self.flag_bits & ~0x800


def write_zip(path, entries, compression=zipfile.ZIP_DEFLATED):
    """entries: list of (name or ZipInfo, bytes)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        with zipfile.ZipFile(path, "w", compression) as z:
            for name, data in entries:
                z.writestr(name, data)
    return path


def pack_zip(path, extra=(), manifest_bytes=None, drop=(), compression=zipfile.ZIP_DEFLATED):
    files = mini_files()
    files["manifest.xml"] = manifest_bytes if manifest_bytes is not None else manifest()
    entries = [(n, d) for n, d in files.items() if n not in drop]
    return write_zip(path, entries + list(extra), compression)


work = tmpdir("work")          # where hostile files live
cwd = tmpdir("cwd")            # kho runs here: nothing may appear in it
home = os.path.join(tmpdir("box"), "home")
rc, out, err = kho(home, "import", MINI, cwd=cwd)
check(rc == 0, "baseline import: " + err)
baseline = kho_json(home, "list")


def blob_count():
    n = 0
    for root, dirs, files in os.walk(os.path.join(home, "blobs")):
        n += len(files)
    return n


baseline_blobs = blob_count()


def refused(name, path, *needles, code=1):
    rc, out, err = kho(home, "import", path, cwd=cwd, timeout=120)
    ok = check(rc == code, "%s: exit %d, expected %d (stderr: %s)" % (name, rc, code, err[-500:]))
    if ok:
        check(err.startswith("kho: cannot import"), "%s: message starts with 'kho: cannot import': %s" % (name, err[:300]))
        for needle in needles:
            check(needle in err, "%s: message names the problem (%r): %s" % (name, needle, err[:600]))
    check(kho_json(home, "list") == baseline, "%s: installed packs unchanged" % name)
    check(os.listdir(cwd) == [], "%s: nothing written outside the home: %r" % (name, os.listdir(cwd)))
    check(not os.path.exists(os.path.join(work, "..", "evil.html")), "%s: no file beside the pack" % name)
    check(os.listdir(os.path.join(home, "blobs", "tmp")) == [], "%s: no staged blob left" % name)
    check(blob_count() == baseline_blobs, "%s: no new blob left behind" % name)


# zip entries that try to leave the pack
refused("dotdot", pack_zip(os.path.join(work, "dotdot.kho"), [("../evil.html", b"x")]),
        "'../evil.html'", "outside the pack")
refused("deep dotdot", pack_zip(os.path.join(work, "dotdot2.kho"), [("lessons/../../../evil.html", b"x")]),
        "outside the pack")
refused("absolute", pack_zip(os.path.join(work, "abs.kho"), [("/tmp/evil.html", b"x")]),
        "'/tmp/evil.html'")
refused("backslash", pack_zip(os.path.join(work, "bs.kho"), [("..\\..\\evil.html", b"x")]),
        "evil.html")
link = zipfile.ZipInfo("lessons/link.html")
link.create_system = 3
link.external_attr = (stat.S_IFLNK | 0o777) << 16
refused("symlink", pack_zip(os.path.join(work, "link.kho"), [(link, b"/etc/passwd")]), "symbolic link")
refused("non-UTF-8 name", pack_zip(os.path.join(work, "latin1.kho"), [(RawName(b"lessons/caf\xe9.html"), b"x")]),
        "not valid UTF-8")
refused("duplicate name", pack_zip(os.path.join(work, "dup.kho"), [("lessons/ban-be.html", b"other")]),
        "same name")

# bombs and sheer size
bomb = pack_zip(os.path.join(work, "bomb.kho"), [("bomb.bin", b"\0" * (256 << 20))])
check(os.path.getsize(bomb) < 2 << 20, "the bomb is small on disk")
refused("zip bomb", bomb, "zip bomb")
spread = pack_zip(os.path.join(work, "spread.kho"), [("z/%d.bin" % i, b"\0" * (1 << 20)) for i in range(80)])
refused("zip bomb spread over many entries", spread, "zip bomb")
many = os.path.join(work, "many.kho")
with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as z:
    for name, data in mini_files().items():
        z.writestr(name, data)
    for i in range(200000):
        z.writestr("f/%d" % i, b"")
refused("200,000 entries", many, "200004 entries", "65536")

# damaged containers
open(os.path.join(work, "empty.kho"), "wb").close()
refused("empty file", os.path.join(work, "empty.kho"), "not a zip")
with open(os.path.join(work, "text.kho"), "wb") as f:
    f.write(b"just some text, certainly not a zip archive\n" * 10)
refused("not a zip", f.name, "not a zip")
good = pack_zip(os.path.join(work, "good.kho"))
data = open(good, "rb").read()
for cut in (len(data) // 2, len(data) - 10, 30):
    with open(os.path.join(work, "cut-%d.kho" % cut), "wb") as f:
        f.write(data[:cut])
    refused("truncated at %d" % cut, f.name, "cut-%d.kho" % cut)
flipped = bytearray(data)
pos = data.index(b"lessons/ban-be.html") + 60  # inside the first local entry's data
flipped[pos] ^= 0xFF
with open(os.path.join(work, "crc.kho"), "wb") as f:
    f.write(flipped)
refused("bad CRC", f.name, "crc.kho")

# hostile manifests
refused("external file entity", pack_zip(os.path.join(work, "xxe-file.kho"), manifest_bytes=manifest(
    doctype='<!DOCTYPE pack [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n', title="&x;")), "DOCTYPE")
refused("external network entity", pack_zip(os.path.join(work, "xxe-net.kho"), manifest_bytes=manifest(
    doctype='<!DOCTYPE pack [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>\n', title="&x;")), "DOCTYPE")
lol = "".join('<!ENTITY l%d "%s">' % (i + 1, ("&l%d;" % i) * 10) for i in range(9))
refused("entity bomb", pack_zip(os.path.join(work, "lol.kho"), manifest_bytes=manifest(
    doctype='<!DOCTYPE pack [<!ENTITY l0 "lol">%s]>\n' % lol, title="&l9;")), "DOCTYPE")
deep = manifest(body='<lesson id="a" href="lessons/ban-be.html"><title>L</title></lesson>'
                + "<x>" * 200000 + "</x>" * 200000)
refused("200,000-deep nesting", pack_zip(os.path.join(work, "deep.kho"), manifest_bytes=deep,
                                        compression=zipfile.ZIP_STORED), "not well-formed")
refused("invalid UTF-8", pack_zip(os.path.join(work, "utf8.kho"),
        manifest_bytes=manifest().replace(b"<title>T", b"<title>\xff\xfe")), "not valid UTF-8")
refused("missing lesson file", pack_zip(os.path.join(work, "missing.kho"), drop=["lessons/ban-be.html"]),
        "'lessons/ban-be.html' is not in the pack")
refused("href leaves the pack", pack_zip(os.path.join(work, "href.kho"), manifest_bytes=manifest(
    body='<lesson id="a" href="../../etc/passwd"><title>L</title></lesson>')), "not a plain relative path")
refused("absolute href", pack_zip(os.path.join(work, "href2.kho"), manifest_bytes=manifest(
    body='<lesson id="a" href="/etc/passwd"><title>L</title></lesson>')), "not a plain relative path")
refused("negative version", pack_zip(os.path.join(work, "neg.kho"), manifest_bytes=manifest(version="-1")),
        "version '-1'")
refused("absurd version", pack_zip(os.path.join(work, "huge.kho"), manifest_bytes=manifest(version="9" * 40)),
        "version '9999")
refused("id with slash", pack_zip(os.path.join(work, "slash.kho"), manifest_bytes=manifest(pack_id="vn/evil")),
        "pack id 'vn/evil'")
refused("id with dotdot", pack_zip(os.path.join(work, "dots.kho"), manifest_bytes=manifest(pack_id="..")),
        "pack id '..'")
refused("id with dotdot inside", pack_zip(os.path.join(work, "dots2.kho"), manifest_bytes=manifest(pack_id="vn..evil")),
        "pack id 'vn..evil'")
refused("lesson id with dotdot", pack_zip(os.path.join(work, "ldots.kho"), manifest_bytes=manifest(
    body='<lesson id=".." href="lessons/ban-be.html"><title>L</title></lesson>')), "lesson id '..'")
refused("no manifest", write_zip(os.path.join(work, "nomanifest.kho"), [("index.html", b"<p>x</p>")]),
        "no manifest.xml")

# a folder pack with a link that points outside
folder = tmpdir("linked-pack")
os.makedirs(os.path.join(folder, "lessons"))
for name, data in mini_files().items():
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
os.symlink("/etc/passwd", os.path.join(folder, "lessons", "passwd.html"))
refused("folder with a symlink", folder, "symbolic link")

# the store still works after all that
res = kho_json(home, "search", "duong")
check(res.get("total", 0) >= 1, "search still works")
done()
