#!/usr/bin/env python3
"""End to end: kho pack lint — a clean pack, then each problem it must name, with its
level, and the exit codes (0 warnings only, 1 errors or --strict warnings, 2 usage)."""
import json
import os
import shutil
import unicodedata

from khotest import DATA, check, done, kho, tmpdir

home = tmpdir("home")
work = tmpdir("work")
mini = os.path.join(DATA, "packs", "mini")

rc, out, err = kho(home, "pack", "lint", mini)
check(rc == 0 and "0 errors, 0 warnings" in out, "a clean pack: " + out + err)

bad = os.path.join(work, "bad")
shutil.copytree(mini, bad)
lesson = os.path.join(bad, "lessons", "ban-be.html")
nfd = unicodedata.normalize("NFD", "Bạn bè cùng học")
open(lesson, "w", encoding="utf-8").write(
    '<!DOCTYPE html><html><head><link rel="stylesheet" href="../style.css">'
    '<script src="https://cdn.example.com/x.js"></script></head><body>'
    '<h1>%s</h1><img src="../images/a.png"><img src="../images/missing.png" alt="x">'
    '<a href="duong-tron.html#top">next</a><a href="../../../etc/passwd">out</a>'
    '<a href="mailto:a@b.c">mail</a></body></html>' % nfd)
os.makedirs(os.path.join(bad, "images"))
open(os.path.join(bad, "images", "a.png"), "wb").write(b"\x89PNG\r\n\x1a\n")
open(os.path.join(bad, "style.css"), "w").write("body { background: url('images/bg.png') }")
open(os.path.join(bad, "unused.txt"), "w").write("nobody links here")
rc, out, err = kho(home, "pack", "lint", "--json", bad)
issues = json.loads(out)["issues"] if rc in (0, 1) and out.startswith("{") else []
check(rc == 1, "errors: exit 1 (%d)" % rc)


def has(level, file, words):
    return any(i["level"] == level and i["file"] == file and words in i["message"] for i in issues)


check(has("error", "lessons/ban-be.html", "images/missing.png"), "a missing image is an error: %r" % issues)
check(has("error", "lessons/ban-be.html", "leaves the pack"), "a link out of the pack is an error")
check(has("error", "style.css", "images/bg.png"), "a missing CSS url() is an error")
check(has("warning", "lessons/ban-be.html", "alt text"), "an image without alt text")
check(has("warning", "lessons/ban-be.html", "NFC"), "NFD text")
check(has("warning", "lessons/ban-be.html", "internet"), "a script from the internet")
check(has("warning", "unused.txt", "refers to it"), "an unreferenced file")
check(not any(i["file"] == "images/a.png" and "refers" in i["message"] for i in issues),
      "an image a lesson shows is referenced")
check(not any("duong-tron" in i["message"] for i in issues), "a link to a lesson with #anchor is fine")
check(not any("mailto" in i["message"] for i in issues), "mailto: is not a file")

# warnings only: exit 0, or 1 with --strict
warn = os.path.join(work, "warn")
shutil.copytree(mini, warn)
open(os.path.join(warn, "unused.txt"), "w").write("x")
rc, out, err = kho(home, "pack", "lint", warn)
check(rc == 0 and "0 errors, 1 warning" in out, "warnings only: exit 0: " + out)
rc, out, err = kho(home, "pack", "lint", "--strict", warn)
check(rc == 1, "--strict: warnings fail")

# an empty title, and a manifest the schema refuses
empty = os.path.join(work, "empty")
shutil.copytree(mini, empty)
m = os.path.join(empty, "manifest.xml")
text = open(m, encoding="utf-8").read()
open(m, "w", encoding="utf-8").write(text.replace("<title>Gói thử nhỏ</title>", "<title>   </title>", 1))
rc, out, err = kho(home, "pack", "lint", empty)
check(rc == 1 and "title" in out and "error" in out, "an empty title: " + out + err)
open(m, "w", encoding="utf-8").write("<pack/>")
rc, out, err = kho(home, "pack", "lint", empty)
check(rc == 1 and "manifest.xml: error" in out, "a manifest the schema refuses: " + out + err)
rc, out, err = kho(home, "pack", "lint", os.path.join(work, "nothing"))
check(rc == 1 and err.startswith("kho: pack lint:"), "no such pack: " + err)
rc, out, err = kho(home, "pack", "lint")
check(rc == 2, "usage")
done()
