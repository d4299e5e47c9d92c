#!/usr/bin/env python3
"""End to end: keys, signatures and trust — kho keygen, pack sign/verify (and minisign
itself, both ways, when installed), kho trust add/list/remove, and what kho import does
with signed, tampered, untrusted and unsigned packs."""
import os
import shutil
import subprocess
import zipfile

from khotest import DATA, KHO, Server, check, done, http_json, kho, kho_json, tmpdir

work = tmpdir("work")
home = tmpdir("home")


def zip_pack(src, dst):
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for root, _, files in os.walk(src):
            for f in sorted(files):
                full = os.path.join(root, f)
                z.write(full, os.path.relpath(full, src))
    return dst


def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


mini = zip_pack(os.path.join(DATA, "packs", "mini"), os.path.join(work, "mini.kho"))
mini2 = zip_pack(os.path.join(DATA, "packs", "mini-v2"), os.path.join(work, "mini-v2.kho"))
sec, pub = os.path.join(work, "a.key"), os.path.join(work, "a.pub")

# --- keys
rc, out, err = kho(home, "keygen", "-s", sec, "-p", pub, "--no-passphrase")
check(rc == 0 and os.path.exists(sec) and os.path.exists(pub), "keygen: " + err)
check(oct(os.stat(sec).st_mode & 0o777) == "0o600", "the secret key is private")
key_id = open(pub).read().split()[5] if len(open(pub).read().split()) > 5 else ""
check(len(key_id) == 16 and "minisign public key" in open(pub).read(), "minisign's public key format")
rc, out, err = kho(home, "keygen", "-s", sec, "-p", pub, "--no-passphrase")
check(rc == 1 and "already exists" in err, "keygen does not overwrite keys: " + err)
rc, out, err = kho(home, "keygen", "-s", sec)
check(rc == 2, "keygen needs both files")

# --- sign and verify
rc, out, err = kho(home, "pack", "sign", "-s", sec, mini)
check(rc == 0 and os.path.exists(mini + ".minisig"), "pack sign: " + err)
rc, out, err = kho(home, "pack", "verify", "-p", pub, mini)
check(rc == 0 and "signature verified" in out and key_id in out, "pack verify: " + out + err)
sig_text = open(mini + ".minisig").read()
check(sig_text.startswith("untrusted comment:") and "\ntrusted comment: timestamp:" in sig_text,
      "minisign's signature format")

# a single altered byte anywhere in the pack is detected
data = open(mini, "rb").read()
for at in (0, len(data) // 3, len(data) // 2, len(data) - 1):
    bad = os.path.join(work, "bad.kho")
    altered = bytearray(data)
    altered[at] ^= 0x01
    open(bad, "wb").write(bytes(altered))
    shutil.copy(mini + ".minisig", bad + ".minisig")
    rc, out, err = kho(home, "pack", "verify", "-p", pub, bad)
    check(rc == 1 and "does not verify" in err, "byte %d altered: detected (%s)" % (at, err.strip()))
# and so is an altered trusted comment or signature
lines = sig_text.splitlines()
for i, new in ((2, lines[2] + "x"), (1, lines[1][:-4] + ("AAAA" if not lines[1].endswith("AAAA") else "BBBB"))):
    forged = list(lines)
    forged[i] = new
    open(os.path.join(work, "forged.minisig"), "w").write("\n".join(forged) + "\n")
    rc, out, err = kho(home, "pack", "verify", "-p", pub, "-x", os.path.join(work, "forged.minisig"), mini)
    check(rc == 1, "forged signature line %d refused: %s" % (i, err.strip()))

# hostile signature and key files: a clear error, never a crash
hostile = [b"", b"\x00" * 100, b"untrusted comment: x\n", b"A" * 10000, b"untrusted comment: x\n!!!!\n",
           b"untrusted comment: x\nRWQ=\ntrusted comment: x\nAAAA\n", b"\xff\xfe" * 50,
           ("\n".join(lines[:3]) + "\n").encode(), ("\n".join(lines) + "\nextra line\n").encode()]
for i, blob in enumerate(hostile):
    path = os.path.join(work, "hostile%d.minisig" % i)
    open(path, "wb").write(blob)
    rc, out, err = kho(home, "pack", "verify", "-p", pub, "-x", path, mini)
    check(rc == 1 and err.startswith("kho: pack verify:"), "hostile signature %d: %r" % (i, err.strip()))
    rc, out, err = kho(home, "pack", "verify", "-p", path, mini)
    check(rc == 1 and err.startswith("kho: pack verify:"), "hostile public key %d: %r" % (i, err.strip()))

# an encrypted key: the passphrase from standard input
esec, epub = os.path.join(work, "e.key"), os.path.join(work, "e.pub")
p = subprocess.run([KHO, "keygen", "-s", esec, "-p", epub],
                   input=b"correct horse\ncorrect horse\n", capture_output=True, timeout=120)
check(p.returncode == 0 and "encrypted" in open(esec).read(), "encrypted keygen: %r" % p.stderr)
rc, out, err = run([KHO, "pack", "sign", "-s", esec, mini2], stdin=b"wrong\n")
check(rc == 1 and "wrong passphrase" in err, "a wrong passphrase is refused: " + err)
rc, out, err = run([KHO, "pack", "sign", "-s", esec, mini2], stdin=b"correct horse\n")
check(rc == 0, "signing with the passphrase: " + err)
rc, out, err = kho(home, "pack", "verify", "-p", epub, mini2)
check(rc == 0, "verify with the second key")
rc, out, err = kho(home, "pack", "verify", "-p", pub, mini2)
check(rc == 1 and "not trusted" in err, "the wrong key: " + err)

# --- minisign, both ways
minisign = shutil.which("minisign")
if check(minisign is not None, "minisign is installed (scripts/install-deps.sh --test)"):
    rc, out, err = run([minisign, "-Vm", mini, "-p", pub])
    check(rc == 0 and "verified" in out, "minisign verifies what kho signs: " + out + err)
    rc, out, err = run([minisign, "-G", "-W", "-p", os.path.join(work, "m.pub"), "-s", os.path.join(work, "m.key")])
    check(rc == 0, "minisign -G: " + err)
    rc, out, err = run([minisign, "-S", "-s", os.path.join(work, "m.key"), "-m", mini, "-x", os.path.join(work, "m.minisig")])
    check(rc == 0, "minisign -S: " + err)
    rc, out, err = kho(home, "pack", "verify", "-p", os.path.join(work, "m.pub"), "-x", os.path.join(work, "m.minisig"), mini)
    check(rc == 0, "kho verifies what minisign signs: " + err)

# --- trust and import
rc, out, err = kho(home, "trust", "list")
check(rc == 0 and "No trusted keys" in out, "no keys at first")
rc, out, err = kho(home, "import", mini)
check(rc == 1 and "not trusted" in err and "kho trust add" in err, "a signed pack from an unknown key is refused: " + err)
check(kho_json(home, "list").get("packs") == [], "nothing installed")
rc, out, err = kho(home, "trust", "add", pub)
check(rc == 0 and key_id in out, "trust add: " + out + err)
rc, out, err = kho(home, "trust", "add", pub)
check(rc == 0 and "already" in out, "trust add twice is a no-op")
keys = kho_json(home, "trust", "list").get("keys", [])
check(len(keys) == 1 and keys[0]["key_id"] == key_id, "trust list --json: %r" % keys)
shutil.copy(bad, os.path.join(work, "tampered.kho"))
shutil.copy(mini + ".minisig", os.path.join(work, "tampered.kho.minisig"))
rc, out, err = kho(home, "import", os.path.join(work, "tampered.kho"))
check(rc == 1 and "does not verify" in err, "a tampered pack is refused: " + err)
rc, out, err = kho(home, "import", mini)
check(rc == 0 and "signature verified (key %s)" % key_id in out, "signed import: " + out + err)
packs = kho_json(home, "list").get("packs", [])
check(packs and packs[0]["signed_by"] == key_id, "list shows the signer: %r" % packs)
rc, out, err = kho(home, "list")
check(key_id in out, "text list shows the signer")
# an unsigned version never replaces a verified one
os.remove(mini2 + ".minisig")
rc, out, err = kho(home, "import", mini2)
check(rc == 1 and "cannot replace" in err, "unsigned upgrade of a verified pack refused: " + err)
check(kho_json(home, "list")["packs"][0]["version"] == 1, "still version 1")
# an unsigned pack of its own installs as unverified
other = tmpdir("other-home")
rc, out, err = kho(other, "import", os.path.join(DATA, "packs", "mini"))
check(rc == 0 and "unverified" in out, "unsigned folder: unverified: " + out)
check(kho_json(other, "list")["packs"][0]["signed_by"] is None, "signed_by null")
srv = Server(other)
status, lesson = http_json(srv, "/api/lessons/test.mini/duong-tron")
check(status == 200 and lesson.get("signed_by") is None and "signed_by" in lesson, "API: unverified")
status, plist = http_json(srv, "/api/packs")
check(plist["packs"][0]["signed_by"] is None, "API packs: unverified")
srv.stop()
srv = Server(home)
status, lesson = http_json(srv, "/api/lessons/test.mini/duong-tron")
check(lesson.get("signed_by") == key_id, "API: signed_by the key")
srv.stop()
rc, out, err = kho(home, "trust", "remove", key_id)
check(rc == 0, "trust remove")
rc, out, err = kho(home, "trust", "remove", key_id)
check(rc == 1 and "no trusted key" in err, "removing twice: " + err)
rc, out, err = kho(home, "trust", "add", os.path.join(work, "nothing.pub"))
check(rc == 1, "a missing key file")
done()
