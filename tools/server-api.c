/*
 * server-api.c — the JSON API under /api/ (docs/api.md): search and
 * completions (the same JSON as `kho search --json`), one lesson with its
 * neighbours, browsing by subject → grade → unit, the installed packs and
 * the box's name. Parameters are checked before anything is searched: a bad
 * one is a 400 naming it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server.h"
#include "usage.h"

#define MAX_QUERY 1000   /* bytes of q */
#define MAX_PARAM 200    /* bytes of any other text parameter */

/* The JSON text of `root` (which it frees), or NULL when out of memory. */
static char *dump(json_t *root)
{
	if (!root)
		return NULL;
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

/* Reads an integer parameter in [min, max], `fallback` when absent. */
static bool int_arg(server_request *r, const char *key, long min, long max, long fallback,
	long *out)
{
	bool bad = false;
	const char *v = server_arg(r, key, 20, &bad);
	if (bad)
		return false;
	if (!v) {
		*out = fallback;
		return true;
	}
	return cli_parse_int(v, min, max, out);
}

json_t *server_lesson_url(const char *pack, const char *lesson)
{
	size_t n = strlen(pack) + strlen(lesson) + 16;
	char *url = malloc(n);
	if (!url)
		return NULL;
	snprintf(url, n, "/lesson/%s/%s", pack, lesson);
	json_t *j = json_string(url);
	free(url);
	return j;
}

/* `path` with every byte but unreserved ones and "/" percent-encoded, so
 * that a file named "100%.html" or "a b.png" keeps its name in a URL. */
static char *url_path_escape(const char *path)
{
	char *out = malloc(3 * strlen(path) + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

/* ---------------------------------------------------------------- search */

/* Moves the hits that the teacher opened lately to the front, the latest
 * first; the others keep their order. */
static int recent_first(kho_search_result *res, kho_store *store, int64_t user_id)
{
	kho_favourite *h = NULL;
	size_t n = 0;
	int rc = res->n_hits ? kho_store_history(&h, &n, store, user_id, 50) : KHO_OK;
	if (rc || !n)
		return rc;
	kho_search_hit *sorted = malloc(res->n_hits * sizeof *sorted);
	bool *taken = calloc(res->n_hits, sizeof *taken);
	if (!sorted || !taken) {
		free(sorted);
		free(taken);
		kho_favourites_free(h, n);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	size_t out = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < res->n_hits; j++)
			if (!taken[j] && !strcmp(res->hits[j].pack, h[i].pack) &&
			    !strcmp(res->hits[j].lesson, h[i].lesson)) {
				sorted[out++] = res->hits[j];
				taken[j] = true;
			}
	for (size_t j = 0; j < res->n_hits; j++)
		if (!taken[j])
			sorted[out++] = res->hits[j];
	memcpy(res->hits, sorted, res->n_hits * sizeof *sorted);
	free(sorted);
	free(taken);
	kho_favourites_free(h, n);
	return KHO_OK;
}

static enum MHD_Result search(server_request *r, const char *home, bool suggest)
{
	bool bad = false;
	kho_search_query q = { 0 };
	q.text = server_arg(r, "q", MAX_QUERY, &bad);
	if (bad)
		return server_send_error(r, 400, "q must be UTF-8 text of at most 1000 bytes");
	q.grade = server_arg(r, "grade", MAX_PARAM, &bad);
	q.subject = server_arg(r, "subject", MAX_PARAM, &bad);
	q.pack = server_arg(r, "pack", MAX_PARAM, &bad);
	const char *prefix = server_arg(r, "prefix", 8, &bad);
	if (bad)
		return server_send_error(r, 400, "grade, subject, pack and prefix must be short text");
	long limit, offset = 0;
	if (!int_arg(r, "limit", 1, suggest ? 20 : 100, suggest ? 8 : 10, &limit))
		return server_send_error(r, 400, suggest ? "limit must be a number from 1 to 20" :
			"limit must be a number from 1 to 100");
	if (!suggest && !int_arg(r, "offset", 0, 10000, 0, &offset))
		return server_send_error(r, 400, "offset must be a number from 0 to 10000");
	q.limit = (int)limit;
	q.offset = (int)offset;
	q.typing = suggest || (prefix && strcmp(prefix, "0") && *prefix);
	q.hits_only = suggest;
	if (!q.text)
		q.text = "";
	server_box *box = server_box_get(r, home);
	if (!box)
		return server_send_failure(r);
	/* a signed-in teacher's grades and subjects rank higher; among
	 * completions, the lessons they opened lately come first, picked from
	 * a few more than are shown */
	char csrf[65];
	kho_user *u = server_session_user(r, box, csrf);
	int shown = q.limit;
	if (u) {
		q.prefer_grades = u->grades;
		q.prefer_subjects = u->subjects;
		if (suggest)
			q.limit = shown * 4;
	}
	kho_search_result *res = NULL;
	int rc = kho_index_search(&res, box->index, &q);
	if (!rc && u && suggest)
		rc = recent_first(res, box->store, u->id);
	if (!rc && !suggest)
		server_usage_search(r, box, u, &q, res);
	kho_user_free(u);
	q.limit = shown;
	if (rc) {
		kho_search_result_free(res);
		return server_send_failure(r);
	}
	char *json = dump(suggest ? cli_suggest_json(res, &q) : cli_search_json(res, &q));
	kho_search_result_free(res);
	return server_send_json(r, 200, json);
}

/* --------------------------------------------------------------- lessons */

static json_t *split_words(const char *s, bool numbers)
{
	json_t *list = json_array();
	while (s && *s) {
		s += strspn(s, " ");
		size_t n = strcspn(s, " ");
		if (n) {
			char word[64];
			snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), s);
			json_array_append_new(list, numbers ? json_integer(atoi(word)) : json_string(word));
		}
		s += n;
	}
	return list;
}

static json_t *neighbour(const char *pack, const kho_lesson_ref *ref)
{
	if (!ref->lesson)
		return json_null();
	return json_pack("{s:s, s:s, s:o}", "lesson", ref->lesson, "title", ref->title, "url",
		server_lesson_url(pack, ref->lesson));
}

/* /api/lessons/PACK/LESSON */
static enum MHD_Result lesson(server_request *r, const char *home, const char *rest)
{
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/') ||
	    (size_t)(slash - rest) > MAX_PARAM || strlen(slash + 1) > MAX_PARAM)
		return server_send_error(r, 404, "no such lesson (the path is /api/lessons/PACK/LESSON)");
	char pack[MAX_PARAM + 1];
	snprintf(pack, sizeof pack, "%.*s", (int)(slash - rest), rest);
	server_box *box = server_box_get(r, home);
	kho_lesson_info *info = NULL;
	if (!box || kho_store_lesson(&info, box->store, pack, slash + 1))
		return server_send_failure(r);
	bool bad = false;
	if (!server_arg(r, "peek", 8, &bad)) /* ?peek=1: the app wants a title, no one opened it */
		server_usage_open(r, box, info->pack, info->lesson);
	char *href = url_path_escape(info->href);
	size_t n = strlen(info->pack) + (href ? strlen(href) : 0) + 48;
	char *file = href ? malloc(n) : NULL;
	if (file)
		snprintf(file, n, "/files/%s/%lld/%s", info->pack, (long long)info->version, href);
	free(href);
	json_t *unit = info->unit_id ?
		json_pack("{s:s, s:s}", "id", info->unit_id, "title", info->unit_title) : json_null();
	json_t *root = file ? json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s,"
		" s:o, s:o, s:o, s:s?}",
		"pack", info->pack, "version", (json_int_t)info->version,
		"pack_title", info->pack_title, "lesson", info->lesson, "title", info->title,
		"summary", info->summary, "keywords", info->keywords, "unit", unit,
		"subjects", split_words(info->subjects, false),
		"grades", split_words(info->grades, true), "file", file,
		"prev", neighbour(info->pack, &info->prev), "next", neighbour(info->pack, &info->next),
		"url", server_lesson_url(info->pack, info->lesson), "signed_by", info->signed_by) : NULL;
	if (!file)
		json_decref(unit);
	free(file);
	kho_lesson_info_free(info);
	return server_send_json(r, 200, dump(root));
}

/* ---------------------------------------------------------------- browse */

static json_t *counts_json(const kho_browse_count *c, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:I}", "value", c[i].value, "count",
			(json_int_t)c[i].count));
	return list;
}

static json_t *units_json(const kho_browse_unit *u, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *lessons = json_array();
		for (size_t j = 0; j < u[i].n_lessons; j++)
			json_array_append_new(lessons, json_pack("{s:s, s:s, s:o}",
				"lesson", u[i].lessons[j].lesson, "title", u[i].lessons[j].title,
				"url", server_lesson_url(u[i].pack, u[i].lessons[j].lesson)));
		json_array_append_new(list, json_pack("{s:s, s:s?, s:s?, s:o}", "pack", u[i].pack,
			"unit", u[i].unit_id, "title", u[i].title, "lessons", lessons));
	}
	return list;
}

static enum MHD_Result browse(server_request *r, const char *home)
{
	bool bad = false;
	const char *subject = server_arg(r, "subject", MAX_PARAM, &bad);
	const char *grade = server_arg(r, "grade", MAX_PARAM, &bad);
	if (bad)
		return server_send_error(r, 400, "subject and grade must be short text");
	if (grade && !subject)
		return server_send_error(r, 400, "grade needs a subject");
	server_box *box = server_box_get(r, home);
	if (!box)
		return server_send_failure(r);
	json_t *root;
	if (grade) {
		kho_browse_unit *units = NULL;
		size_t n = 0;
		if (kho_store_browse_units(&units, &n, box->store, subject, grade))
			return server_send_failure(r);
		root = json_pack("{s:s, s:s, s:o}", "subject", subject, "grade", grade, "units",
			units_json(units, n));
		kho_browse_units_free(units, n);
	} else {
		kho_browse_count *counts = NULL;
		size_t n = 0;
		if (kho_store_browse_counts(&counts, &n, box->store, subject))
			return server_send_failure(r);
		root = subject ? json_pack("{s:s, s:o}", "subject", subject, "grades",
			counts_json(counts, n)) : json_pack("{s:o}", "subjects", counts_json(counts, n));
		kho_browse_counts_free(counts, n);
	}
	return server_send_json(r, 200, dump(root));
}

/* ----------------------------------------------------------- packs, info */

static enum MHD_Result packs(server_request *r, const char *home)
{
	server_box *box = server_box_get(r, home);
	kho_pack_info *p = NULL;
	size_t n = 0;
	if (!box || kho_store_list_packs(&p, &n, box->store))
		return server_send_failure(r);
	json_t *list = json_array();
	int64_t lessons = 0;
	for (size_t i = 0; i < n; i++) {
		lessons += p[i].lessons;
		json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:s?}",
			"id", p[i].id, "version", (json_int_t)p[i].version, "title", p[i].title,
			"lang", p[i].lang, "lessons", (json_int_t)p[i].lessons,
			"older_versions", (json_int_t)p[i].older_versions,
			"installed_at", (json_int_t)p[i].installed_at, "signed_by", p[i].signed_by));
	}
	kho_pack_info_free(p, n);
	return server_send_json(r, 200, dump(json_pack("{s:o, s:I, s:I}", "packs", list,
		"total_packs", (json_int_t)n, "total_lessons", (json_int_t)lessons)));
}

static enum MHD_Result info(server_request *r, const char *home)
{
	server_box *box = server_box_get(r, home);
	int64_t at = 0, serial = 0;
	char *source = NULL;
	if (!box || kho_store_last_sync(&at, &source, &serial, box->store))
		return server_send_failure(r);
	json_t *sync = at ? json_pack("{s:I, s:o, s:I}", "synced_at", (json_int_t)at, "source",
		cli_json_text(source), "serial", (json_int_t)serial) : json_null();
	free(source);
	return server_send_json(r, 200, dump(json_pack("{s:o, s:s, s:o}", "name",
		r->cfg->name ? cli_json_text(r->cfg->name) : json_null(), "version", KHO_VERSION,
		"sync", sync)));
}

enum MHD_Result server_api(server_request *r, const char *home)
{
	const char *p = r->path + strlen("/api/");
	if (server_is_account_path(p))
		return server_account(r, home, p);
	if (strcmp(r->method, "GET") && !r->head) {
		static const char only[] = "{\"error\":\"this API answers GET and HEAD only\"}\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof only - 1,
			(void *)(uintptr_t)only, MHD_RESPMEM_PERSISTENT);
		if (resp) {
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json; charset=utf-8");
		}
		return server_send(r, 405, resp);
	}
	if (!strcmp(p, "search"))
		return search(r, home, false);
	if (!strcmp(p, "suggest"))
		return search(r, home, true);
	if (!strncmp(p, "lessons/", 8))
		return lesson(r, home, p + 8);
	if (!strcmp(p, "browse"))
		return browse(r, home);
	if (!strcmp(p, "packs"))
		return packs(r, home);
	if (!strcmp(p, "info"))
		return info(r, home);
	return server_send_error(r, 404, "no such API (see docs/api.md)");
}
