#!/usr/bin/env python3
"""Broken real-world containers from ../shared/testdata must fail cleanly:
exit 1 with a message, no crash, nothing installed. Skips without testdata."""
import glob
import os

from khotest import TESTDATA, check, done, kho, kho_json, skip, tmpdir

if not os.path.isdir(TESTDATA):
    skip("../shared/testdata is absent")

bad = sorted(glob.glob(os.path.join(TESTDATA, "epub", "ocf-*-fatal.epub"))) + [
    os.path.join(TESTDATA, "h5p", "corrupt_archive.h5p"),
    os.path.join(TESTDATA, "scorm", "invalid.zip"),
    os.path.join(TESTDATA, "scorm", "badscorm.zip"),
    os.path.join(TESTDATA, "scorm", "validaicc.zip"),
    os.path.join(TESTDATA, "h5p", "broken-h5p-json.h5p"),
] + sorted(glob.glob(os.path.join(TESTDATA, "epub", "ocf-*-error.epub")))
check(len(bad) >= 8, "found the broken test packages")

home = tmpdir("home")
for path in bad:
    rc, out, err = kho(home, "import", path)
    name = os.path.basename(path)
    check(rc == 1, "%s: exit 1 (got %d)" % (name, rc))
    check(err.startswith("kho: cannot import") and name in err, "%s: clear message: %s" % (name, err[:300]))
check(kho_json(home, "list").get("packs") == [], "nothing was installed")
done()
