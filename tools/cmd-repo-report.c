/*
 * cmd-repo-report.c — `kho repo report DIR REPORTS…`, at the centre: reads
 * the usage reports schools pushed (kho-usage-report-1, usage-report.c),
 * adds them up in an SQLite database in memory, and writes into DIR the
 * page report.html, the tables lessons.csv, gaps.csv and by-subject-grade.csv,
 * and popularity.json (the most opened lessons, for a later catalog). A
 * report that does not read is named and left out; the others still count.
 * Packs are mapped to subjects and grades by the repository's catalog
 * (DIR/catalog.json, or --repo R).
 */
#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "usage.h"

#define POPULAR 500       /* lessons in popularity.json */
#define MAX_DEPTH 4       /* folders below a REPORTS argument searched for *.json */

static const char schema[] =
	"CREATE TABLE reports (id INTEGER PRIMARY KEY, file TEXT, box TEXT, day_from TEXT,"
	" day_to TEXT);"
	"CREATE TABLE days (report INTEGER, day TEXT, searches INTEGER, opens INTEGER,"
	" askers INTEGER, PRIMARY KEY (report, day));"
	"CREATE TABLE lessons (report INTEGER, pack TEXT, lesson TEXT, opens INTEGER,"
	" favourites INTEGER, PRIMARY KEY (report, pack, lesson));"
	"CREATE TABLE queries (report INTEGER, query TEXT, searches INTEGER,"
	" found_nothing INTEGER, no_open INTEGER, PRIMARY KEY (report, query));"
	"CREATE TABLE packs (id TEXT PRIMARY KEY, title TEXT, subjects TEXT, grades TEXT);"
	"CREATE TABLE pack_tags (pack TEXT, subject TEXT, grade TEXT,"
	" PRIMARY KEY (pack, subject, grade));";

/* ------------------------------------------------------------- helpers */

static int sql_error(sqlite3 *db, const char *what)
{
	return kho_error_set(KHO_ERROR, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? KHO_OK :
		sql_error(db, "adding up");
}

/* Runs an INSERT with text (t) and integer (i) arguments. */
static int insert(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_error(db, "adding up");
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	if (src == SQLITE_DONE)
		return KHO_OK;
	return (src & 0xff) == SQLITE_CONSTRAINT ? KHO_EEXISTS : sql_error(db, "adding up");
}

/* A whole file read into memory (at most `max` bytes). */
static int slurp(char **out, size_t *len, const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st)) {
		if (f)
			fclose(f);
		return kho_error_set(KHO_ENOTFOUND, "cannot read it");
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		fclose(f);
		return kho_error_set(KHO_ELIMIT, "not a file of at most %zu bytes", max);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		free(buf);
		return kho_error_set(KHO_EIO, "cannot read it");
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return KHO_OK;
}

/* ------------------------------------------------------- the reports */

/* Adds one report (already checked) as report number `id`. */
static int add_report(sqlite3 *db, const char *file, const char *box, const kho_usage *u)
{
	int rc = insert(db, "INSERT INTO reports (file, box, day_from, day_to) VALUES (?, ?, ?, ?)",
		"tttt", file, box, u->from, u->to);
	int64_t id = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; !rc && i < u->n_days; i++)
		rc = insert(db, "INSERT INTO days VALUES (?, ?, ?, ?, ?)", "itiii", id, u->days[i].day,
			u->days[i].searches, u->days[i].opens, u->days[i].askers);
	for (size_t i = 0; !rc && i < u->n_lessons; i++)
		if ((rc = insert(db, "INSERT INTO lessons VALUES (?, ?, ?, ?, ?)", "ittii", id,
			u->lessons[i].pack, u->lessons[i].lesson, u->lessons[i].opens,
			u->lessons[i].favourites)) == KHO_EEXISTS)
			rc = kho_error_set(KHO_EINVALID, "lessons[%zu]: %s/%s is there twice", i,
				u->lessons[i].pack, u->lessons[i].lesson);
	for (size_t i = 0; !rc && i < u->n_queries; i++)
		if ((rc = insert(db, "INSERT INTO queries VALUES (?, ?, ?, ?, ?)", "itiii", id,
			u->queries[i].query, u->queries[i].searches, u->queries[i].found_nothing,
			u->queries[i].no_open)) == KHO_EEXISTS)
			rc = kho_error_set(KHO_EINVALID, "queries[%zu]: the query is there twice", i);
	return rc;
}

/* The report already read from `box` whose days overlap from..to, or NULL
 * (malloc'd). */
static char *overlapping(sqlite3 *db, const char *box, const kho_usage *u)
{
	sqlite3_stmt *st = NULL;
	char *file = NULL;
	if (sqlite3_prepare_v2(db, "SELECT file FROM reports WHERE box = ?1 AND day_from <= ?3"
		" AND day_to >= ?2", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, box, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->to, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		file = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return file;
}

/* Reads one report file: 0 when it was added or skipped as a repeat, 1
 * when it was refused (named on stderr). */
static int read_report(sqlite3 *db, const char *path, size_t *added)
{
	char *text = NULL, box[17];
	size_t len = 0;
	kho_usage *u = NULL;
	int rc = slurp(&text, &len, path, USAGE_REPORT_MAX_SIZE);
	if (!rc)
		rc = usage_report_parse(&u, box, text, len);
	free(text);
	char *earlier = rc ? NULL : overlapping(db, box, u);
	if (earlier) {
		fprintf(stderr, "kho: repo report: %s: left out: box %s already reported days of "
			"%s to %s in %s\n", path, box, u->from, u->to, earlier);
		free(earlier);
		kho_usage_free(u);
		return 0;
	}
	if (!rc && !(rc = exec(db, "SAVEPOINT one;"))) {
		rc = add_report(db, path, box, u);
		exec(db, rc ? "ROLLBACK TO one; RELEASE one;" : "RELEASE one;");
	}
	kho_usage_free(u);
	if (rc) {
		fprintf(stderr, "kho: repo report: %s: %s\n", path, kho_error_last());
		kho_error_clear();
		return 1;
	}
	(*added)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json under `path` (or `path` itself when it is a file), sorted
 * within each folder. */
static int collect(sqlite3 *db, const char *path, int depth, size_t *added)
{
	struct stat st;
	if (lstat(path, &st) || !S_ISDIR(st.st_mode))
		return read_report(db, path, added);
	if (depth >= MAX_DEPTH)
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "kho: repo report: %s: cannot read the folder\n", path);
		return 1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int status = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(e->d_name);
		char *full = kho_path_join(path, e->d_name);
		struct stat cs;
		bool wanted = full && !lstat(full, &cs) && (S_ISDIR(cs.st_mode) ||
			(S_ISREG(cs.st_mode) && len > 5 && !strcmp(e->d_name + len - 5, ".json")));
		if (wanted && n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
			if (!more)
				wanted = false;
			else
				names = more;
		}
		if (wanted)
			names[n++] = full;
		else
			free(full);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		status |= collect(db, names[i], depth + 1, added);
		free(names[i]);
	}
	free(names);
	return status;
}

/* ------------------------------------------------------------ the catalog */

static char *tags_text(json_t *arr)
{
	size_t cap = 1;
	for (size_t i = 0; i < json_array_size(arr); i++)
		cap += 24 + (json_is_string(json_array_get(arr, i)) ?
			json_string_length(json_array_get(arr, i)) : 0);
	char *s = calloc(cap, 1);
	for (size_t i = 0; s && i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);
		size_t len = strlen(s);
		if (json_is_string(v))
			snprintf(s + len, cap - len, "%s%s", len ? " " : "", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(s + len, cap - len, "%s%lld", len ? " " : "",
				(long long)json_integer_value(v));
	}
	return s;
}

/* Packs' titles, subjects and grades from `repo`/catalog.json, when there is
 * one; a pack with several subjects and grades counts in each pair. */
static int read_catalog(sqlite3 *db, const char *repo, size_t *packs)
{
	char *path = kho_path_join(repo, "catalog.json");
	json_t *root = path && access(path, F_OK) == 0 ? json_load_file(path, 0, NULL) : NULL;
	int rc = KHO_OK;
	if (path && !root && access(path, F_OK) == 0)
		rc = kho_error_set(KHO_EINVALID, "%s is not JSON", path);
	free(path);
	json_t *list = json_object_get(root, "packs");
	for (size_t i = 0; !rc && i < json_array_size(list); i++) {
		json_t *p = json_array_get(list, i);
		const char *id = json_string_value(json_object_get(p, "id"));
		if (!id)
			continue;
		json_t *subjects = json_object_get(p, "subjects"), *grades = json_object_get(p, "grades");
		char *s = tags_text(subjects), *g = tags_text(grades);
		rc = insert(db, "INSERT OR REPLACE INTO packs VALUES (?, ?, ?, ?)", "tttt", id,
			json_string_value(json_object_get(p, "title")) ?
			json_string_value(json_object_get(p, "title")) : "", s ? s : "", g ? g : "");
		free(s);
		free(g);
		for (size_t a = 0; !rc && a < (json_array_size(subjects) ? json_array_size(subjects) : 1); a++)
			for (size_t b = 0; !rc && b < (json_array_size(grades) ? json_array_size(grades) : 1);
			     b++) {
				json_t *sv = json_array_get(subjects, a), *gv = json_array_get(grades, b);
				char grade[24] = "";
				if (json_is_integer(gv))
					snprintf(grade, sizeof grade, "%lld", (long long)json_integer_value(gv));
				else if (json_is_string(gv))
					snprintf(grade, sizeof grade, "%s", json_string_value(gv));
				rc = insert(db, "INSERT OR IGNORE INTO pack_tags VALUES (?, ?, ?)", "ttt", id,
					json_is_string(sv) ? json_string_value(sv) : "", grade);
			}
		(*packs)++;
	}
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------- outputs */

/* A CSV field: quoted when it must be (RFC 4180); a text that a
 * spreadsheet would read as a formula (= + - @ first) gets a ' before it. */
static void csv_field(FILE *f, const char *s, bool text)
{
	s = s ? s : "";
	bool guard = text && s[0] && strchr("=+-@\t\r", s[0]);
	if (!guard && !strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputs(guard ? "\"'" : "\"", f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Opens DIR/NAME.part for writing. */
static FILE *open_out(char **tmp, const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 8;
	*tmp = malloc(n);
	if (!*tmp)
		return NULL;
	snprintf(*tmp, n, "%s/%s.part", dir, name);
	FILE *f = fopen(*tmp, "w");
	if (!f)
		kho_error_set(KHO_EIO, "cannot write %s", *tmp);
	return f;
}

/* Closes DIR/NAME.part and, when `rc` is 0 and it was written whole,
 * renames it to DIR/NAME; removes it otherwise. Frees `tmp`. */
static int close_out(FILE *f, char *tmp, int rc)
{
	if (f && (ferror(f) | fclose(f)) && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s", tmp);
	if (!f && !rc)
		rc = tmp ? kho_error_last_code() : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		char *final = strdup(tmp);
		if (!final)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
		else
			final[strlen(final) - 5] = '\0';
		if (final && rename(tmp, final))
			rc = kho_error_set(KHO_EIO, "cannot rename %s", tmp);
		free(final);
	}
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Writes the rows of `sql` as DIR/NAME (CSV with the columns' names). */
static int write_csv(sqlite3 *db, const char *dir, const char *name, const char *sql)
{
	char *tmp = NULL;
	FILE *f = open_out(&tmp, dir, name);
	sqlite3_stmt *st = NULL;
	if (f && sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fclose(f);
		f = NULL;
		sql_error(db, "adding up");
	}
	int rc = f ? KHO_OK : kho_error_last_code();
	int cols = st ? sqlite3_column_count(st) : 0;
	for (int c = 0; f && c < cols; c++) {
		fputs(c ? "," : "", f);
		csv_field(f, sqlite3_column_name(st, c), false);
	}
	if (f)
		fputs("\r\n", f);
	while (f && sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < cols; c++) {
			fputs(c ? "," : "", f);
			csv_field(f, (const char *)sqlite3_column_text(st, c),
				sqlite3_column_type(st, c) == SQLITE_TEXT);
		}
		fputs("\r\n", f);
	}
	sqlite3_finalize(st);
	return close_out(f, tmp, rc);
}

static const char lessons_sql[] =
	"SELECT l.pack AS pack, l.lesson AS lesson, COALESCE(p.title, '') AS pack_title,"
	" COALESCE(p.subjects, '') AS subjects, COALESCE(p.grades, '') AS grades,"
	" SUM(l.opens) AS opens, SUM(l.favourites) AS favourites,"
	" COUNT(DISTINCT r.box) AS schools"
	" FROM lessons l JOIN reports r ON r.id = l.report LEFT JOIN packs p ON p.id = l.pack"
	" GROUP BY l.pack, l.lesson ORDER BY opens DESC, favourites DESC, schools DESC, pack, lesson";

static const char gaps_sql[] =
	"SELECT q.query AS query, SUM(q.found_nothing) + SUM(q.no_open) AS gap,"
	" SUM(q.found_nothing) AS found_nothing, SUM(q.no_open) AS no_open,"
	" SUM(q.searches) AS searches, COUNT(DISTINCT r.box) AS schools"
	" FROM queries q JOIN reports r ON r.id = q.report GROUP BY q.query"
	" HAVING gap > 0 ORDER BY gap DESC, schools DESC, query";

static const char subject_grade_sql[] =
	"SELECT COALESCE(t.subject, '') AS subject, COALESCE(t.grade, '') AS grade,"
	" SUM(l.opens) AS opens, SUM(l.favourites) AS favourites,"
	" COUNT(DISTINCT l.pack || '/' || l.lesson) AS lessons, COUNT(DISTINCT r.box) AS schools"
	" FROM lessons l JOIN reports r ON r.id = l.report LEFT JOIN pack_tags t ON t.pack = l.pack"
	" GROUP BY 1, 2 ORDER BY opens DESC, subject, grade";

static const char days_sql[] =
	"SELECT d.day AS day, SUM(d.searches) AS searches, SUM(d.opens) AS opens,"
	" COUNT(DISTINCT r.box) AS schools FROM days d JOIN reports r ON r.id = d.report"
	" GROUP BY d.day ORDER BY d.day";

static int write_popularity(sqlite3 *db, const char *dir)
{
	sqlite3_stmt *st = NULL;
	char sql[sizeof lessons_sql + 32];
	snprintf(sql, sizeof sql, "%s LIMIT %d", lessons_sql, POPULAR);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_error(db, "adding up");
	json_t *list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I}",
			"pack", (const char *)sqlite3_column_text(st, 0),
			"lesson", (const char *)sqlite3_column_text(st, 1),
			"opens", (json_int_t)sqlite3_column_int64(st, 5),
			"schools", (json_int_t)sqlite3_column_int64(st, 7)));
	sqlite3_finalize(st);
	json_t *root = json_pack("{s:s, s:o}", "format", "kho-popularity-1", "lessons", list);
	char *tmp = NULL;
	FILE *f = root ? open_out(&tmp, dir, "popularity.json") : NULL;
	int rc = f ? KHO_OK : kho_error_last_code();
	if (f && json_dumpf(root, f, JSON_INDENT(1)))
		rc = kho_error_set(KHO_EIO, "cannot write popularity.json");
	json_decref(root);
	return close_out(f, tmp, rc);
}

/* One section of the page from the rows of `sql`: column 0 the label,
 * `note` a text column or -1, `value` the bar, up to three more figures. */
static int section(report_table *t, sqlite3 *db, const char *sql, int note, int value,
	const int extra[3])
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_error(db, "adding up");
	size_t cap = 0;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW && t->n_rows < 100) {
		if (t->n_rows == cap) {
			report_row *more = realloc(t->rows, (cap = cap ? 2 * cap : 32) * sizeof *more);
			if (!more)
				break;
			t->rows = more;
		}
		report_row *r = &t->rows[t->n_rows++];
		const char *label = (const char *)sqlite3_column_text(st, 0);
		const char *n = note >= 0 ? (const char *)sqlite3_column_text(st, note) : NULL;
		*r = (report_row){ strdup(label && *label ? label : "—"), n ? strdup(n) : NULL,
			sqlite3_column_int64(st, value), { 0 } };
		for (int i = 0; i < 3 && extra[i] >= 0; i++)
			r->extra[i] = sqlite3_column_int64(st, extra[i]);
	}
	sqlite3_finalize(st);
	return KHO_OK;
}

static void sections_free(report_table *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < t[i].n_rows; j++) {
			free((char *)t[i].rows[j].label);
			free((char *)t[i].rows[j].note);
		}
		free(t[i].rows);
	}
}

static int write_html(sqlite3 *db, const char *dir, size_t packs)
{
	char summary[512] = "";
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT box), COUNT(*), MIN(day_from),"
		" MAX(day_to), (SELECT SUM(searches) FROM days), (SELECT SUM(opens) FROM days)"
		" FROM reports", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		snprintf(summary, sizeof summary, "%lld trường (schools), %lld báo cáo (reports), "
			"%s – %s: %lld lượt tìm (searches), %lld lượt mở bài (lessons opened). "
			"%zu gói trong danh mục (packs in the catalog).",
			(long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
			sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "",
			sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "",
			(long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
			packs);
	sqlite3_finalize(st);
	report_table t[] = {
		{ "gaps", "Nội dung còn thiếu / Content gaps: searches that found nothing or led to "
			"no opened lesson", { "Tìm kiếm / query", NULL, "thiếu / gap",
			"không thấy / found nothing", "không mở / no open", "trường / schools" }, NULL, 0 },
		{ "lessons", "Bài học được mở nhiều nhất / Most opened lessons",
			{ "Bài / lesson", "Gói / pack", "mở / opens", "yêu thích / favourites",
			"trường / schools", NULL }, NULL, 0 },
		{ "subjects", "Theo môn và lớp / By subject and grade", { "Môn, lớp / subject, grade",
			NULL, "mở / opens", "yêu thích / favourites", "bài / lessons",
			"trường / schools" }, NULL, 0 },
		{ "days", "Theo ngày / By day", { "Ngày / day", NULL, "tìm / searches", "mở / opens",
			"trường / schools", NULL }, NULL, 0 },
	};
	int rc = section(&t[0], db, gaps_sql, -1, 1, (const int[3]){ 2, 3, 5 });
	if (!rc)
		rc = section(&t[1], db, "SELECT pack || '/' || lesson, pack_title, opens, favourites,"
			" schools FROM (" "SELECT l.pack AS pack, l.lesson AS lesson,"
			" COALESCE(p.title, '') AS pack_title, SUM(l.opens) AS opens,"
			" SUM(l.favourites) AS favourites, COUNT(DISTINCT r.box) AS schools FROM lessons l"
			" JOIN reports r ON r.id = l.report LEFT JOIN packs p ON p.id = l.pack"
			" GROUP BY l.pack, l.lesson ORDER BY opens DESC, favourites DESC, schools DESC,"
			" pack, lesson)", 1, 2, (const int[3]){ 3, 4, -1 });
	if (!rc)
		rc = section(&t[2], db, "SELECT CASE WHEN subject = '' AND grade = ''"
			" THEN '(không rõ / unknown)' ELSE subject || ', ' || grade END, opens, favourites,"
			" lessons, schools FROM (" "SELECT COALESCE(t.subject, '') AS subject,"
			" COALESCE(t.grade, '') AS grade, SUM(l.opens) AS opens,"
			" SUM(l.favourites) AS favourites, COUNT(DISTINCT l.pack || '/' || l.lesson)"
			" AS lessons, COUNT(DISTINCT r.box) AS schools FROM lessons l JOIN reports r"
			" ON r.id = l.report LEFT JOIN pack_tags t ON t.pack = l.pack GROUP BY 1, 2"
			" ORDER BY opens DESC, subject, grade)", -1, 1, (const int[3]){ 2, 3, 4 });
	if (!rc)
		rc = section(&t[3], db, days_sql, -1, 1, (const int[3]){ 2, 3, -1 });
	char *tmp = NULL;
	FILE *f = rc ? NULL : open_out(&tmp, dir, "report.html");
	if (f)
		rc = report_html_write(f, summary, t, sizeof t / sizeof t[0]);
	if (!rc || tmp)
		rc = close_out(f, tmp, rc);
	sections_free(t, sizeof t / sizeof t[0]);
	return rc;
}

/* ----------------------------------------------------------- the command */

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "repo", required_argument, NULL, 'r' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *repo = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_repo_report);
		if (rc >= 0)
			return rc;
		if (opt == 'r')
			repo = optarg;
	}
	if (argc - optind < 2)
		return cli_usage(&cmd_repo_report, "name the folder and the reports");
	const char *dir = argv[optind];
	if (kho_mkdir_p(dir, 0755))
		return cli_fail("repo report");
	sqlite3 *db = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || exec(db, schema)) {
		sqlite3_close(db);
		return cli_fail("repo report");
	}
	size_t packs = 0, added = 0;
	int status = 0;
	if (read_catalog(db, repo ? repo : dir, &packs)) {
		fprintf(stderr, "kho: repo report: the catalog: %s\n", kho_error_last());
		status = 1;
	}
	exec(db, "BEGIN;");
	for (int i = optind + 1; i < argc; i++)
		status |= collect(db, argv[i], 0, &added);
	exec(db, "COMMIT;");
	if (write_csv(db, dir, "lessons.csv", lessons_sql) ||
	    write_csv(db, dir, "gaps.csv", gaps_sql) ||
	    write_csv(db, dir, "by-subject-grade.csv", subject_grade_sql) ||
	    write_popularity(db, dir) || write_html(db, dir, packs))
		status = cli_fail("repo report");
	else
		printf("read %zu report%s; wrote %s/report.html, lessons.csv, gaps.csv, "
			"by-subject-grade.csv and popularity.json%s\n", added, added == 1 ? "" : "s", dir,
			status ? " (some reports were left out: see above)" : "");
	sqlite3_close(db);
	return status;
}

const kho_command cmd_repo_report = {
	"repo report", run, "add up schools' usage reports (for authors and the centre)",
	"usage: kho repo report DIR REPORTS… [--repo REPO]\n\n"
	"Reads the usage reports schools sent (kho usage report, kho push: files, or\n"
	"folders searched for *.json) and writes into DIR:\n"
	"  report.html           the figures with bar charts, one self-contained page\n"
	"  gaps.csv              queries that found nothing or led to no opened lesson,\n"
	"                        summed over schools, with how many schools made them\n"
	"  lessons.csv           lessons by opens and favourites\n"
	"  by-subject-grade.csv  opens by subject and grade (from the catalog)\n"
	"  popularity.json       the 500 most opened lessons, for the catalog\n"
	"Subjects and grades come from DIR/catalog.json, or REPO/catalog.json. A report\n"
	"that does not read is named and left out (exit code 1); one whose box already\n"
	"reported those days is left out as a repeat.\n",
};
