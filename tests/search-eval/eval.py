#!/usr/bin/env python3
"""Search quality of kho, measured on a judged query set over the bundled packs.

    eval.py --kho PATH [--home DIR] [--json] [--check] [--verbose]

Reads queries.tsv (beside this file), makes a store holding the bundled packs
(in a temporary home, removed afterwards, unless --home is given), runs every
query through `kho search --json --limit 10` (the partial ones with --prefix,
when this kho has it: they are still being typed), and computes recall@10, MRR@10
and nDCG@10 per query class and overall. In the same run it computes the same
numbers for a baseline, "plain FTS5": SQLite's own unicode61 tokenizer with
remove_diacritics 2, the query's words joined with OR, ranked by bm25 with the
same column weights as kho, over the same lesson text read from the store.

--check compares kho's numbers with floors.json and exits 1 if any is below
its floor (and, when floors.json says so, if unaccented queries score more
than the allowed gap away from their accented twins). Exit 77: no kho binary.
See docs/search-eval.md.
"""
import argparse
import csv
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = os.path.join(HERE, "queries.tsv")
FLOORS = os.path.join(HERE, "floors.json")

CLASSES = ["accented", "unaccented", "partial", "typo", "telex", "question", "subject-grade",
           "english"]
METRICS = ["recall@10", "mrr@10", "ndcg@10"]
SYSTEMS = ["kho", "plain"]
K = 10
MAX_RELEVANT = 5


class DataError(Exception):
    pass


def fold(text):
    """Vietnamese folding as the search issue means it: lower case, no marks, đ → d."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if not unicodedata.category(c).startswith("M"))
    return text.replace("đ", "d")


def gain(position):
    """Graded gain of the relevant lesson listed at `position` (0 = most relevant)."""
    return max(1, 3 - position)


def read_queries(path):
    """Reads and checks queries.tsv; returns a list of dicts."""
    queries = []
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or [c.strip() for c in rows[0][:3]] != ["class", "query", "relevant"]:
        raise DataError("%s: the first line must be the header class, query, relevant, note" % path)
    errors = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 3 or len(row) > 4:
            errors.append("line %d: expected 3 or 4 tab-separated columns, got %d" % (n, len(row)))
            continue
        cls, query, relevant = row[0].strip(), row[1].strip(), row[2].split()
        if cls not in CLASSES:
            errors.append("line %d: unknown class %r" % (n, cls))
        if not query:
            errors.append("line %d: empty query" % n)
        if not 1 <= len(relevant) <= MAX_RELEVANT:
            errors.append("line %d: %d relevant lessons (1 to %d)"
                          % (n, len(relevant), MAX_RELEVANT))
        if len(set(relevant)) != len(relevant):
            errors.append("line %d: a relevant lesson is listed twice" % n)
        queries.append({"line": n, "class": cls, "query": query, "relevant": relevant,
                        "note": row[3].strip() if len(row) > 3 else ""})
    # Each accented query has an unaccented twin: the same words folded, the same lessons.
    accented = {fold(q["query"]): q for q in queries if q["class"] == "accented"}
    unaccented = {q["query"]: q for q in queries if q["class"] == "unaccented"}
    for key, q in accented.items():
        twin = unaccented.get(key)
        if twin is None:
            errors.append("line %d: accented query %r has no unaccented twin %r"
                          % (q["line"], q["query"], key))
        elif twin["relevant"] != q["relevant"]:
            errors.append("line %d: unaccented twin of line %d judges other lessons"
                          % (twin["line"], q["line"]))
    for key, q in unaccented.items():
        if fold(key) != key:
            errors.append("line %d: unaccented query %r has accents" % (q["line"], key))
        if key not in accented:
            errors.append("line %d: unaccented query %r has no accented twin" % (q["line"], key))
    if errors:
        raise DataError("%s:\n  %s" % (path, "\n  ".join(errors)))
    return queries


def kho_env():
    env = dict(os.environ)
    env.pop("KHO_HOME", None)
    env.setdefault("KHO_LOG", "warn")
    return env


def run_kho(kho, home, *args):
    p = subprocess.run([kho, "--home", home] + list(args), capture_output=True, timeout=120,
                       env=kho_env())
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def kho_supports_prefix(kho):
    """Whether this kho has `search --prefix` (the last word is still being typed)."""
    rc, out, err = run_kho(kho, os.devnull, "help", "search")
    return rc == 0 and "--prefix" in out + err


def kho_search(kho, home, query, prefix=False):
    extra = ["--prefix"] if prefix else []
    rc, out, err = run_kho(kho, home, "search", "--json", "--limit", str(K), *extra, "--", query)
    if rc != 0:
        raise RuntimeError("kho search %r failed (exit %d): %s" % (query, rc, err.strip()))
    try:
        results = json.loads(out)["results"]
    except (ValueError, KeyError) as e:
        raise RuntimeError("kho search %r: unreadable JSON (%s)" % (query, e))
    return ["%s/%s" % (r["pack"], r["lesson"]) for r in results][:K]


def visible_lessons(home):
    """(rowid, pack/lesson, title, keywords, unit_title, summary, body) of every visible lesson."""
    uri = "file:%s?mode=ro" % os.path.join(home, "kho.db")
    db = sqlite3.connect(uri, uri=True)
    try:
        return db.execute(
            "SELECT l.id, p.id || '/' || l.lesson_id, l.title, l.keywords, l.unit_title,"
            "       l.summary, l.body"
            "  FROM lessons l JOIN pack_versions v ON l.pv = v.id"
            "                 JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version"
            " ORDER BY l.id").fetchall()
    finally:
        db.close()


class PlainFts5:
    """The baseline: SQLite's FTS5 as it comes, over a copy of the lesson text."""

    def __init__(self, lessons):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(title, keywords, unit_title, summary,"
                        " body, tokenize='unicode61 remove_diacritics 2')")
        self.db.executemany("INSERT INTO t (rowid, title, keywords, unit_title, summary, body)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            [(l[0],) + tuple(l[2:]) for l in lessons])
        self.ids = {l[0]: l[1] for l in lessons}

    @staticmethod
    def expression(query):
        """Each word, stripped of everything but letters, digits (and their combining
        marks), double-quoted; the words joined with OR. None when nothing is left."""
        words = []
        for word in query.split():
            word = "".join(c for c in word if unicodedata.category(c)[0] in "LNM")
            if word:
                words.append('"%s"' % word)
        return " OR ".join(words) if words else None

    def search(self, query):
        expr = self.expression(query)
        if expr is None:
            return []
        rows = self.db.execute("SELECT rowid FROM t WHERE t MATCH ?"
                               " ORDER BY bm25(t, 10, 6, 3, 2, 1), rowid LIMIT ?", (expr, K))
        return [self.ids[r[0]] for r in rows]


def score(ranked, relevant):
    """recall@10, MRR@10 and nDCG@10 of one ranked list of lesson ids."""
    ranked = ranked[:K]
    grade = {lesson: gain(i) for i, lesson in enumerate(relevant)}
    found = [lesson for lesson in ranked if lesson in grade]
    recall = len(set(found)) / len(relevant)
    mrr = 0.0
    for rank, lesson in enumerate(ranked, start=1):
        if lesson in grade:
            mrr = 1.0 / rank
            break
    dcg = sum(grade.get(lesson, 0) / math.log2(rank + 1)
              for rank, lesson in enumerate(ranked, start=1))
    ideal = sorted(grade.values(), reverse=True)[:K]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return {"recall@10": recall, "mrr@10": mrr, "ndcg@10": dcg / idcg}


def first_rank(ranked, relevant):
    for rank, lesson in enumerate(ranked, start=1):
        if lesson in relevant:
            return rank
    return None


def mean(values):
    return sum(values) / len(values) if values else 0.0


def summarise(queries):
    """Per class and overall means of every metric, for both systems."""
    groups = [(cls, [q for q in queries if q["class"] == cls]) for cls in CLASSES]
    groups.append(("overall", queries))
    table = {}
    for name, group in groups:
        table[name] = {"queries": len(group)}
        for system in SYSTEMS:
            table[name][system] = {m: mean([q["scores"][system][m] for q in group])
                                   for m in METRICS}
    return table


def accent_gaps(table, pairs):
    """unaccented − accented, per metric and system, for each listed pair of classes."""
    gaps = []
    for accented, unaccented in pairs:
        for system in SYSTEMS:
            for m in METRICS:
                gaps.append({"accented": accented, "unaccented": unaccented, "system": system,
                             "metric": m,
                             "gap": table[unaccented][system][m] - table[accented][system][m]})
    return gaps


def print_table(table, gaps, floors_cfg, prefix):
    if prefix:
        print("(kho's partial queries run with search --prefix: the last word is being typed)")
    head = "%-14s %4s | %-23s | %-23s" % ("class", "n", "kho", "plain FTS5")
    sub = "%-14s %4s | %7s %7s %7s | %7s %7s %7s" % ("", "", "R@10", "MRR@10", "nDCG@10",
                                                      "R@10", "MRR@10", "nDCG@10")
    print(head.rstrip())
    print(sub)
    print("-" * len(sub))
    for name in CLASSES + ["overall"]:
        if name == "overall":
            print("-" * len(sub))
        row = table[name]
        print("%-14s %4d | %s | %s" % (
            name, row["queries"],
            " ".join("%7.3f" % row["kho"][m] for m in METRICS),
            " ".join("%7.3f" % row["plain"][m] for m in METRICS)))
    limit = floors_cfg.get("accent_gap_max", 0.02)
    enforced = floors_cfg.get("accent_gap_enforced", False)
    print()
    print("accent gap (unaccented − accented; limit ±%.2f on kho, %s):"
          % (limit, "enforced" if enforced else "not enforced yet"))
    for system in SYSTEMS:
        print("  %-6s %s" % (system, "  ".join(
            "%s %+.3f" % (g["metric"], g["gap"]) for g in gaps if g["system"] == system)))


def check(table, gaps, floors_cfg):
    """Every metric below its floor, and every enforced accent gap beyond the limit."""
    problems = []
    floors = floors_cfg.get("floors", {})
    for name in CLASSES + ["overall"]:
        for m in METRICS:
            floor = floors.get(name, {}).get(m)
            if floor is None:
                problems.append("%s %s: no floor in floors.json" % (name, m))
            elif table[name]["kho"][m] < floor - 1e-9:
                problems.append("%s %s: %.3f is below its floor %.2f"
                                % (name, m, table[name]["kho"][m], floor))
    if floors_cfg.get("accent_gap_enforced", False):
        limit = floors_cfg.get("accent_gap_max", 0.02)
        for g in gaps:
            if g["system"] == "kho" and abs(g["gap"]) > limit + 1e-9:
                problems.append("%s vs %s %s: gap %+.3f is beyond ±%.2f"
                                % (g["unaccented"], g["accented"], g["metric"], g["gap"], limit))
    return problems


def main():
    ap = argparse.ArgumentParser(description="Search quality of kho against plain FTS5.")
    ap.add_argument("--kho", required=True, help="path of the kho binary")
    ap.add_argument("--home", help="store to use (the bundled packs are imported into it);"
                    " default: a temporary one, removed afterwards")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--check", action="store_true", help="compare with floors.json; exit 1 below")
    ap.add_argument("--no-prefix", action="store_true",
                    help="run the partial queries like the others, without kho search --prefix")
    ap.add_argument("--verbose", action="store_true",
                    help="also list, per query, the rank of the first relevant lesson")
    args = ap.parse_args()

    kho = os.path.abspath(args.kho)
    if not (os.path.isfile(kho) and os.access(kho, os.X_OK)):
        print("skipped: no kho binary at %s" % kho)
        return 77

    try:
        queries = read_queries(QUERIES)
        with open(FLOORS, encoding="utf-8") as f:
            floors_cfg = json.load(f)
    except (DataError, OSError, ValueError) as e:
        print("eval.py: %s" % e, file=sys.stderr)
        return 1
    pairs = floors_cfg.get("accent_gap_pairs", [["accented", "unaccented"]])

    tmp = None
    if args.home:
        home = os.path.abspath(args.home)
    else:
        tmp = tempfile.mkdtemp(prefix="kho-search-eval-")
        home = os.path.join(tmp, "home")
    try:
        rc, out, err = run_kho(kho, home, "--quiet", "import", "--bundled")
        if rc != 0:
            print("eval.py: kho import --bundled failed (exit %d): %s" % (rc, err.strip()),
                  file=sys.stderr)
            return 1
        lessons = visible_lessons(home)
        known = {l[1] for l in lessons}
        missing = ["line %d: %s" % (q["line"], r) for q in queries for r in q["relevant"]
                   if r not in known]
        if missing:
            print("eval.py: relevant lessons that are not in the store:\n  %s"
                  % "\n  ".join(missing), file=sys.stderr)
            return 1
        plain = PlainFts5(lessons)
        # A partial query is one still being typed: kho is told so when it can be.
        prefix = not args.no_prefix and kho_supports_prefix(kho)
        for q in queries:
            typing = prefix and q["class"] == "partial"
            q["ranked"] = {"kho": kho_search(kho, home, q["query"], typing),
                           "plain": plain.search(q["query"])}
            q["scores"] = {s: score(q["ranked"][s], q["relevant"]) for s in SYSTEMS}
    except RuntimeError as e:
        print("eval.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    table = summarise(queries)
    gaps = accent_gaps(table, pairs)
    if args.json:
        doc = {"k": K, "partial_with_prefix": prefix,
               "gains": "graded: 3 for the first relevant lesson listed, 2 for the second,"
                        " 1 for the others",
               "classes": table,
               "accent_gap": {"pairs": pairs, "max": floors_cfg.get("accent_gap_max", 0.02),
                              "enforced": floors_cfg.get("accent_gap_enforced", False),
                              "gaps": gaps}}
        if args.verbose:
            doc["queries"] = [{"class": q["class"], "query": q["query"], "relevant": q["relevant"],
                               "kho": q["ranked"]["kho"], "plain": q["ranked"]["plain"]}
                              for q in queries]
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print_table(table, gaps, floors_cfg, prefix)
        if args.verbose:
            print()
            print("rank of the first relevant lesson (- = none in the top %d):" % K)
            for q in queries:
                r = [first_rank(q["ranked"][s], q["relevant"]) for s in SYSTEMS]
                print("  %-13s kho %2s  plain %2s  %s" % (
                    q["class"], r[0] or "-", r[1] or "-", q["query"]))
    if args.check:
        problems = check(table, gaps, floors_cfg)
        if problems:
            print("\nsearch quality checks failed (tests/search-eval/floors.json):",
                  file=sys.stderr)
            for p in problems:
                print("  " + p, file=sys.stderr)
            return 1
        met = "all %d floors met" % ((len(CLASSES) + 1) * len(METRICS))
        if floors_cfg.get("accent_gap_enforced", False):
            met += ", accent gap within ±%.2f" % floors_cfg.get("accent_gap_max", 0.02)
        print("\n" + met, file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
