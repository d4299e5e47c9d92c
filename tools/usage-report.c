/*
 * usage-report.c — the usage report a box sends to the centre,
 * kho-usage-report-1 (documented field by field in docs/privacy.md): written
 * from the box's figures by `kho usage report`, read back and checked by
 * `kho repo report`. A report comes from outside the centre, so reading
 * trusts nothing: every field's type, range and form is checked, and the
 * first problem is named by its place in the file.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "usage.h"

/* ------------------------------------------------------------- writing */

struct json_t *usage_report_json(const kho_usage *u, const char *box)
{
	json_t *days = json_array(), *lessons = json_array(), *queries = json_array();
	for (size_t i = 0; days && i < u->n_days; i++)
		json_array_append_new(days, json_pack("{s:s, s:I, s:I, s:I}", "day", u->days[i].day,
			"searches", (json_int_t)u->days[i].searches, "opens", (json_int_t)u->days[i].opens,
			"askers", (json_int_t)u->days[i].askers));
	for (size_t i = 0; lessons && i < u->n_lessons; i++)
		json_array_append_new(lessons, json_pack("{s:s, s:s, s:I, s:I}", "pack",
			u->lessons[i].pack, "lesson", u->lessons[i].lesson,
			"opens", (json_int_t)u->lessons[i].opens,
			"favourites", (json_int_t)u->lessons[i].favourites));
	for (size_t i = 0; queries && i < u->n_queries; i++)
		json_array_append_new(queries, json_pack("{s:s, s:I, s:I, s:I}", "query",
			u->queries[i].query, "searches", (json_int_t)u->queries[i].searches,
			"found_nothing", (json_int_t)u->queries[i].found_nothing,
			"no_open", (json_int_t)u->queries[i].no_open));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:o*, s:o*, s:o*}", "format",
		USAGE_REPORT_FORMAT, "box", box, "from", u->from, "to", u->to, "k", u->k,
		"days", days, "lessons", lessons, "queries", queries);
}

/* ------------------------------------------------------------- reading */

/* A field's checks; each sets KHO_EINVALID (or KHO_ELIMIT) naming `where`. */

static int bad(const char *where, const char *what)
{
	return kho_error_set(KHO_EINVALID, "%s: %s", where, what);
}

static int count_of(int64_t *out, json_t *obj, const char *key, const char *where)
{
	char at[96];
	snprintf(at, sizeof at, "%s%s%s", where, *where ? "." : "", key);
	json_t *v = json_object_get(obj, key);
	if (!v)
		return bad(at, "missing");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(at, "not a whole number of at least 0");
	if (json_integer_value(v) > USAGE_REPORT_MAX_COUNT)
		return kho_error_set(KHO_ELIMIT, "%s: larger than %lld", at, USAGE_REPORT_MAX_COUNT);
	*out = (int64_t)json_integer_value(v);
	return KHO_OK;
}

static bool is_day(const char *s)
{
	int y, m, d;
	char tail;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789-") != 10 ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	static const int last[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return y >= 2000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= last[m - 1];
}

/* A text field: its value when it is a string of `min`–`max` bytes of
 * `allowed` characters (NULL: any UTF-8 text without control characters). */
static int text_of(const char **out, json_t *obj, const char *key, const char *where,
	size_t min, size_t max, const char *allowed)
{
	char at[96];
	snprintf(at, sizeof at, "%s%s%s", where, *where ? "." : "", key);
	json_t *v = json_object_get(obj, key);
	if (!v)
		return bad(at, "missing");
	if (!json_is_string(v))
		return bad(at, "not a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n < min || n > max || strlen(s) != n)
		return kho_error_set(KHO_EINVALID, "%s: not %zu to %zu bytes of text", at, min, max);
	if (allowed ? strspn(s, allowed) != n : !kho_utf8_valid(s, n))
		return bad(at, "has characters it may not have");
	for (size_t i = 0; !allowed && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(at, "has control characters");
	*out = s;
	return KHO_OK;
}

static json_t *array_of(json_t *root, const char *key, int *rc)
{
	json_t *a = json_object_get(root, key);
	if (!*rc && !a)
		*rc = bad(key, "missing");
	else if (!*rc && !json_is_array(a))
		*rc = bad(key, "not an array");
	return *rc ? NULL : a;
}

#define DIGITS "0123456789"
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static int read_days(kho_usage *u, json_t *days)
{
	if (!(u->days = calloc(json_array_size(days) + 1, sizeof *u->days)))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(days); i++) {
		json_t *d = json_array_get(days, i);
		char at[48];
		snprintf(at, sizeof at, "days[%zu]", i);
		if (!json_is_object(d))
			return bad(at, "not an object");
		kho_usage_day *day = &u->days[u->n_days];
		const char *s;
		int rc = text_of(&s, d, "day", at, 10, 10, DIGITS "-");
		if (!rc && !is_day(s))
			rc = bad(at, "day is not a date YYYY-MM-DD");
		if (!rc && (strcmp(s, u->from) < 0 || strcmp(s, u->to) > 0))
			rc = bad(at, "day is outside from..to");
		if (!rc && u->n_days && strcmp(s, u->days[u->n_days - 1].day) <= 0)
			rc = bad(at, "days are not in order, or one is there twice");
		if (!rc)
			memcpy(day->day, s, sizeof day->day);
		if (!rc)
			rc = count_of(&day->searches, d, "searches", at);
		if (!rc)
			rc = count_of(&day->opens, d, "opens", at);
		if (!rc)
			rc = count_of(&day->askers, d, "askers", at);
		if (rc)
			return rc;
		u->n_days++;
	}
	return KHO_OK;
}

static int read_lessons(kho_usage *u, json_t *lessons)
{
	if (!(u->lessons = calloc(json_array_size(lessons) + 1, sizeof *u->lessons)))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(lessons); i++) {
		json_t *l = json_array_get(lessons, i);
		char at[48];
		snprintf(at, sizeof at, "lessons[%zu]", i);
		if (!json_is_object(l))
			return bad(at, "not an object");
		kho_usage_lesson *out = &u->lessons[u->n_lessons];
		const char *pack, *lesson;
		int rc = text_of(&pack, l, "pack", at, 3, 128, LOWER DIGITS ".-");
		if (!rc)
			rc = text_of(&lesson, l, "lesson", at, 1, 200, LOWER UPPER DIGITS "._-");
		if (!rc)
			rc = count_of(&out->opens, l, "opens", at);
		if (!rc)
			rc = count_of(&out->favourites, l, "favourites", at);
		if (rc)
			return rc;
		if (!(out->pack = strdup(pack)) || !(out->lesson = strdup(lesson))) {
			free(out->pack);
			return kho_error_set(KHO_ENOMEM, "out of memory");
		}
		u->n_lessons++;
	}
	return KHO_OK;
}

static int read_queries(kho_usage *u, json_t *queries)
{
	if (!(u->queries = calloc(json_array_size(queries) + 1, sizeof *u->queries)))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(queries); i++) {
		json_t *q = json_array_get(queries, i);
		char at[48];
		snprintf(at, sizeof at, "queries[%zu]", i);
		if (!json_is_object(q))
			return bad(at, "not an object");
		kho_usage_query *out = &u->queries[u->n_queries];
		const char *text;
		int rc = text_of(&text, q, "query", at, 1, KHO_USAGE_QUERY_MAX, NULL);
		if (!rc)
			rc = count_of(&out->searches, q, "searches", at);
		if (!rc)
			rc = count_of(&out->found_nothing, q, "found_nothing", at);
		if (!rc)
			rc = count_of(&out->no_open, q, "no_open", at);
		if (!rc && out->found_nothing + out->no_open > out->searches)
			rc = bad(at, "found_nothing and no_open add up to more than searches");
		if (rc)
			return rc;
		if (!(out->query = strdup(text)))
			return kho_error_set(KHO_ENOMEM, "out of memory");
		u->n_queries++;
	}
	return KHO_OK;
}

int usage_report_parse(kho_usage **out, char box[17], const char *text, size_t len)
{
	if (len > USAGE_REPORT_MAX_SIZE)
		return kho_error_set(KHO_ELIMIT, "larger than %u bytes", USAGE_REPORT_MAX_SIZE);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return kho_error_set(KHO_EINVALID, "not JSON: %s (line %d)", jerr.text, jerr.line);
	kho_usage *u = calloc(1, sizeof *u);
	int rc = u ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	const char *s = NULL;
	if (!rc && !json_is_object(root))
		rc = kho_error_set(KHO_EINVALID, "not a JSON object");
	if (!rc && (text_of(&s, root, "format", "", 1, 64, NULL) ||
		strcmp(s, USAGE_REPORT_FORMAT)))
		rc = kho_error_set(KHO_EINVALID, "format: not \"%s\"", USAGE_REPORT_FORMAT);
	if (!rc && !(rc = text_of(&s, root, "box", "", 16, 16, DIGITS "abcdef")))
		memcpy(box, s, 17);
	if (!rc && !(rc = text_of(&s, root, "from", "", 10, 10, DIGITS "-")))
		rc = is_day(s) ? (memcpy(u->from, s, 11), KHO_OK) : bad("from", "not a date YYYY-MM-DD");
	if (!rc && !(rc = text_of(&s, root, "to", "", 10, 10, DIGITS "-")))
		rc = is_day(s) ? (memcpy(u->to, s, 11), KHO_OK) : bad("to", "not a date YYYY-MM-DD");
	if (!rc && strcmp(u->from, u->to) > 0)
		rc = bad("from", "later than to");
	int64_t k = 0;
	if (!rc && !(rc = count_of(&k, root, "k", "")) && (k < 1 || k > KHO_USAGE_K_MAX))
		rc = kho_error_set(KHO_EINVALID, "k: not from 1 to %d", KHO_USAGE_K_MAX);
	if (!rc)
		u->k = (int)k;
	json_t *days = array_of(root, "days", &rc), *lessons = array_of(root, "lessons", &rc);
	json_t *queries = array_of(root, "queries", &rc);
	if (!rc)
		rc = read_days(u, days);
	if (!rc)
		rc = read_lessons(u, lessons);
	if (!rc)
		rc = read_queries(u, queries);
	json_decref(root);
	if (rc) {
		kho_usage_free(u);
		return rc;
	}
	*out = u;
	return KHO_OK;
}
