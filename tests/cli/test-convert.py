#!/usr/bin/env python3
"""The importers (`kho pack convert`, content-packs/IMPORTERS.md) on the real
packages of ../shared/testdata: each converts with the title and the number of
lessons and units read from the package itself, its .kho imports and its
lessons are found by `kho search`; the broken ones fail with exit 1 and a
message naming the problem. Also: `kho pack build` gives the same bytes for
the same folder, whatever the files' times. Skips without testdata."""
import glob
import os
import zipfile

from khotest import SOURCE, TESTDATA, check, done, kho, kho_json, skip, tmpdir

if not os.path.isdir(TESTDATA):
    skip("../shared/testdata is absent")

# package: (format, title, lessons, units, a word one of its lessons holds,
#           a warning expected in the output or None)
GOOD = {
    "scorm/singlesco_scorm12.zip": ("SCORM 1.2", "Golf Explained - CP Single SCO", 1, 0, "golf", None),
    "scorm/singlescobasic.zip": ("SCORM 1.2", "Golf Explained - Run-time Basic Calls", 1, 0, "golf", None),
    "scorm/RuntimeMinimumCalls_SCORM12.zip": ("SCORM 1.2", "Golf Explained - Minimum Run-time Calls", 18, 4, "handicap", "launch parameters"),
    "scorm/RuntimeMinimumCalls_SCORM12-mini.zip": ("SCORM 1.2", "Golf Explained - Minimum Run-time Calls", 9, 2, "friends", None),
    "scorm/RuntimeBasicCalls_SCORM20043rdEdition.zip": ("SCORM 2004", "Golf Explained - Run-time Basic Calls", 1, 0, "golf", None),
    "scorm/complexscorm.zip": ("SCORM 1.2", "The organization", 7, 1, "prerequisite", "default organization"),
    "scorm/singlescobasic_missingorg.zip": ("SCORM 1.2", "com.scorm.golfsamples.runtime.basicruntime.12", 1, 0, "golf", "no organization"),
    "imscc/allyworkshop.imscc": ("IMS Common Cartridge", "Ally: Accessibility Workshop", 9, 4, "accessibility", "does not have"),
    "imscc/canvas_cc_gem_course.imscc": ("IMS Common Cartridge", "Canvas CC Gem Course", 3, 0, "submission", None),
    "imscc/grouptest.zip": ("IMS Common Cartridge", "questionGroupCourse", 3, 1, "grouped", None),
    "imscc/latex.imscc": ("IMS Common Cartridge", "LaTeX Equations", 2, 1, "page", None),
    "imscc/single-page.imscc": ("IMS Common Cartridge", "The Life of Paul", 1, 0, "purpose", None),
    "epub/accessible_epub_3.epub": ("EPUB", "Accessible EPUB 3", 20, 4, "accessibility", None),
    "epub/childrens-literature.epub": ("EPUB", "Children's Literature", 2, 0, "fairy", None),
    "epub/quiz-bindings.epub": ("EPUB", "Basic Quiz", 1, 0, "solar", None),
    "epub/ocf-zip-valid.epub": ("EPUB", "Minimal EPUB 3.0", 1, 0, None, None),
    "epub/ocf-filename-utf8-valid.epub": ("EPUB", "Minimal EPUB 3.0", 1, 0, None, None),
    "epub/ocf-filepath-utf8-valid.epub": ("EPUB", "Minimal EPUB 3.0", 1, 0, None, None),
    "epub/ocf-filename-duplicate-after-compatibility-normalization-valid.epub": ("EPUB", "Minimal EPUB 3.0", 2, 0, None, None),
    "h5p/H5P.DragText.h5p": ("H5P", "Drag the Words", 1, 0, "blueberries", None),
    "h5p/valid2.h5p": ("H5P", "Greeting card", 1, 0, "hello", None),
    "h5p/xss-svg.h5p": ("H5P", "123", 1, 0, "fehlenden", "SVG image dropped"),
}

# package: words the error message must hold
BAD = {
    "scorm/badscorm.zip": "in the sub-folder 'badscorm/'",
    "scorm/validscorm.zip": "imsmanifest.xml: not well-formed XML",
    "scorm/invalid.zip": "not a package kho knows",
    "scorm/validaicc.zip": "AICC course",
    "h5p/broken-h5p-json.h5p": "h5p.json is not valid JSON",
    "h5p/corrupt_archive.h5p": "not a zip file",
    "epub/ocf-zip-unreadable-empty-fatal.epub": "not a zip file",
    "epub/ocf-zip-unreadable-image-with-epub-extension-fatal.epub": "not a zip file",
    "epub/ocf-zip-unreadable-no-end-header-fatal.epub": "not a zip file",
    "epub/ocf-container-not-ocf-error.epub": "not a package kho knows",
    "epub/ocf-filename-character-forbidden-error.epub": "forbids (OCF)",
    "epub/ocf-filename-character-forbidden-non-publication-resource-error.epub": "forbids (OCF)",
    "epub/ocf-filename-duplicate-after-canonical-normalization-error.epub": "normalisation",
    "epub/ocf-filename-duplicate-after-common-case-folding-error.epub": "normalisation",
    "epub/ocf-filename-duplicate-after-full-case-folding-error.epub": "normalisation",
    "epub/ocf-filename-duplicate-zip-entry-error.epub": "appears twice",
    "epub/ocf-filename-not-utf8-error.epub": "not valid UTF-8",
    "epub/ocf-filepath-not-utf8-error.epub": "not valid UTF-8",
    "epub/ocf-mimetype-file-missing-error.epub": "no 'mimetype' file",
    "epub/ocf-zip-mimetype-entry-extra-field-error.epub": "without an extra field",
}

# every package of the test data is named above, so that a new one is not
# silently untested
listed = set(GOOD) | set(BAD)
for path in sorted(glob.glob(os.path.join(TESTDATA, "*", "*"))):
    rel = os.path.relpath(path, TESTDATA)
    if rel.split("/")[0] in ("scorm", "imscc", "epub", "h5p") and not rel.endswith(".txt"):
        check(rel in listed, "%s is tested" % rel)

work = tmpdir("work")
homes = {}
for rel, (fmt, title, lessons, units, word, warning) in sorted(GOOD.items()):
    name = rel.replace("/", "-")
    out = os.path.join(work, name + ".kho")
    rc, so, se = kho(work, "pack", "convert", os.path.join(TESTDATA, rel), "-o", out)
    if not check(rc == 0, "%s converts (exit %d: %s)" % (rel, rc, se[-400:])):
        continue
    summary = '(%s): ' % fmt
    check(summary in so and '"%s", %d lessons in %d units' % (title, lessons, units) in so,
          "%s: %s %r, %d lessons, %d units: %s" % (rel, fmt, title, lessons, units, so))
    if warning:
        check("kho: warning: " in se and warning in se, "%s warns about %r: %s" % (rel, warning, se))
    # the pack opens as kho imports it: manifest valid, every lesson file there
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    check("manifest.xml" in names, "%s: the .kho has a manifest" % rel)
    check(not any(n.startswith("__MACOSX/") or n.split("/")[-1].startswith(".") for n in names),
          "%s: no junk entries (__MACOSX, .DS_Store) in %s" % (rel, names[:5]))
    kind = rel.split("/")[0]
    if kind not in homes:
        homes[kind] = tmpdir("home-" + kind)
    home = homes[kind]
    rc, so, se = kho(home, "import", out)
    check(rc == 0, "%s: the .kho imports (exit %d: %s)" % (rel, rc, se[-300:]))
    if word:
        res = kho_json(home, "search", word)
        found = [r for r in res.get("results", []) if r.get("pack", "").split(".")[0]
                 in ("scorm", "imscc", "epub", "h5p")]
        check(found, "%s: `kho search %s` finds a converted lesson" % (rel, word))

# the SVG with script is never inlined in a lesson nor kept as a file
d = os.path.join(work, "xss-dir")
rc, so, se = kho(work, "pack", "convert", os.path.join(TESTDATA, "h5p/xss-svg.h5p"), "--dir", d)
check(rc == 0, "xss-svg.h5p converts to a folder")
files = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs]
check(not any(f.endswith(".svg") for f in files), "no SVG file in the pack: %s" % files)
for f in files:
    with open(f, "rb") as fh:
        data = fh.read().lower()
    check(b"<svg" not in data and b"<script" not in data, "%s has no <svg> or <script>" % f)
rc, so, se = kho(work, "pack", "convert", os.path.join(TESTDATA, "h5p/valid2.h5p"), "--dir", d)
check(rc == 1 and "cannot make the folder" in se, "--dir refuses a folder that exists: %s" % se)

# complexscorm's junk entries stay out of the folder too
d = os.path.join(work, "complex-dir")
rc, so, se = kho(work, "pack", "convert", os.path.join(TESTDATA, "scorm/complexscorm.zip"), "--dir", d)
check(rc == 0 and os.path.exists(os.path.join(d, "index.html")), "complexscorm converts to a folder")
check(not os.path.exists(os.path.join(d, "__MACOSX")), "no __MACOSX folder")
check(not any(f == ".DS_Store" for _, _, fs in os.walk(d) for f in fs), "no .DS_Store")

for rel, words in sorted(BAD.items()):
    out = os.path.join(work, "bad.kho")
    rc, so, se = kho(work, "pack", "convert", os.path.join(TESTDATA, rel), "-o", out)
    check(rc == 1, "%s: exit 1 (got %d)" % (rel, rc))
    check(se.startswith("kho: cannot convert") and os.path.basename(rel) in se and words in se,
          "%s: the message names the problem (%r): %s" % (rel, words, se[:300]))
    check(not os.path.exists(out), "%s: no .kho written" % rel)
    d = os.path.join(work, "bad-dir")
    rc, so, se = kho(work, "pack", "convert", os.path.join(TESTDATA, rel), "--dir", d)
    check(rc == 1 and not os.path.exists(d), "%s: --dir leaves no folder behind" % rel)

# pack build: same folder, same bytes, whatever the files' times
for folder in [os.path.join(work, "complex-dir")] + sorted(
        glob.glob(os.path.join(SOURCE, "content-packs", "packs", "*")))[:2]:
    a, b, c = (os.path.join(work, n + ".kho") for n in ("a", "b", "c"))
    rc1, _, e1 = kho(work, "pack", "build", folder, "-o", a)
    rc2, _, e2 = kho(work, "pack", "build", folder, "-o", b)
    check(rc1 == 0 and rc2 == 0, "pack build %s (%s %s)" % (folder, e1, e2))
    for root, dirs, fs in os.walk(folder):
        for f in fs:
            os.utime(os.path.join(root, f), (1234567890, 1234567890))
    rc3, _, e3 = kho(work, "pack", "build", folder, "-o", c)
    check(rc3 == 0, "pack build after touching the files")
    data = [open(p, "rb").read() for p in (a, b, c)]
    check(data[0] == data[1] == data[2], "pack build %s is deterministic" % folder)
    with zipfile.ZipFile(a) as z:
        infos = z.infolist()
    check([i.filename for i in infos] == sorted(i.filename for i in infos), "entries sorted")
    check(all(i.date_time == (1980, 1, 1, 0, 0, 0) and not i.extra for i in infos),
          "fixed times, no extra fields")

rc, so, se = kho(work, "pack", "build", os.path.join(TESTDATA, "scorm"), "-o", os.path.join(work, "x.kho"))
check(rc == 1 and "no manifest.xml" in se, "pack build checks the folder first: %s" % se)
rc, so, se = kho(work, "pack", "build", os.path.join(work, "complex-dir"))
check(rc == 2, "pack build without -o is a usage error")
done()
