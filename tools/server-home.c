/*
 * server-home.c — GET /api/home: what a signed-in teacher's home page shows
 * (docs/api.md "Home page"), from their history and profile:
 *
 *   continue   the lessons opened last
 *   next       in each unit they are working through, the first lesson after
 *              the last one they opened that they have not opened yet; with
 *              no history, the lessons their grades' and subjects' units
 *              start with
 *   related    lessons whose text is like the last one opened (a search for
 *              its title), not opened yet
 *   popular    opened by the most teachers of the box this week
 *   everywhere opened at the most schools, from the centre's figures in the
 *              catalog of the last sync (kho repo popular)
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kho_sync.h"
#include "server.h"

#define HOME_CONTINUE 3
#define HOME_NEXT 4        /* units */
#define HOME_RELATED 4
#define HOME_POPULAR 5
#define HOME_HISTORY 50    /* lessons of the history looked at */
#define WEEK (7 * 24 * 3600)

static json_t *item(const char *pack, const char *lesson, const char *title, const char *unit)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o}", "pack", pack, "lesson", lesson, "title",
		title, "unit", unit && *unit ? json_string(unit) : json_null(), "url",
		server_lesson_url(pack, lesson));
}

static bool in_history(const kho_favourite *h, size_t n, const char *pack, const char *lesson)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(h[i].pack, pack) && !strcmp(h[i].lesson, lesson))
			return true;
	return false;
}

static bool listed(json_t *list, const char *pack, const char *lesson)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		if (!strcmp(json_string_value(json_object_get(v, "pack")), pack) &&
		    !strcmp(json_string_value(json_object_get(v, "lesson")), lesson))
			return true;
	}
	return false;
}

static void add_continue(json_t *out, kho_store *store, const kho_favourite *h, size_t n)
{
	for (size_t i = 0; i < n && json_array_size(out) < HOME_CONTINUE; i++) {
		kho_lesson_info *l = NULL;
		if (kho_store_lesson(&l, store, h[i].pack, h[i].lesson)) {
			kho_error_clear(); /* no longer on the box */
			continue;
		}
		json_t *j = item(l->pack, l->lesson, l->title, l->unit_title);
		json_object_set_new(j, "opened_at", json_integer((json_int_t)h[i].added_at));
		json_array_append_new(out, j);
		kho_lesson_info_free(l);
	}
}

static void add_briefs(json_t *out, const kho_lesson_brief *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *j = item(b[i].pack, b[i].lesson, b[i].title, b[i].unit_title);
		if (b[i].after)
			json_object_set_new(j, "after", json_string(b[i].after));
		if (b[i].count)
			json_object_set_new(j, "teachers", json_integer((json_int_t)b[i].count));
		json_array_append_new(out, j);
	}
}

static void add_next(json_t *out, kho_store *store, size_t n_history, const kho_user *u)
{
	kho_lesson_brief *b = NULL;
	size_t n = 0;
	/* with a history, the units they work through; without, where the units
	 * of their grades and subjects start */
	int rc = n_history ? kho_store_next_lessons(&b, &n, store, u->id, HOME_NEXT) :
		kho_store_starting_lessons(&b, &n, store, u->grades, u->subjects, 2 * HOME_NEXT);
	if (rc) {
		kho_error_clear();
		return;
	}
	add_briefs(out, b, n);
	kho_lesson_briefs_free(b, n);
}

static void add_related(json_t *out, server_box *box, const kho_favourite *h, size_t n,
	const kho_user *u, json_t *next)
{
	kho_lesson_info *l = NULL;
	if (!n || kho_store_lesson(&l, box->store, h[0].pack, h[0].lesson)) {
		kho_error_clear();
		return;
	}
	/* its title: a few words, so that it costs what a teacher's search does */
	kho_search_query q = { .text = l->title, .limit = 12, .hits_only = true,
		.prefer_grades = u->grades, .prefer_subjects = u->subjects };
	kho_search_result *res = NULL;
	if (kho_index_search(&res, box->index, &q)) {
		kho_error_clear();
		res = NULL;
	}
	for (size_t i = 0; res && i < res->n_hits && json_array_size(out) < HOME_RELATED; i++) {
		const kho_search_hit *hit = &res->hits[i];
		if (in_history(h, n, hit->pack, hit->lesson) || listed(next, hit->pack, hit->lesson))
			continue;
		json_t *j = item(hit->pack, hit->lesson, hit->title, hit->unit);
		json_object_set_new(j, "because", json_string(l->title));
		json_array_append_new(out, j);
	}
	kho_search_result_free(res);
	kho_lesson_info_free(l);
}

/* The school's popular lessons are the same for every teacher: kept until
 * a lesson is opened (server_home_opened()) or a minute has passed. */
static struct {
	pthread_mutex_t lock;
	unsigned generation;        /* of the list kept */
	int64_t at;
	json_t *list;
} popular_kept = { .lock = PTHREAD_MUTEX_INITIALIZER };
static atomic_uint openings = 1;

void server_home_opened(void)
{
	atomic_fetch_add(&openings, 1);
}

static json_t *popular(kho_store *store)
{
	int64_t now = (int64_t)time(NULL);
	unsigned generation = atomic_load(&openings);
	pthread_mutex_lock(&popular_kept.lock);
	if (!popular_kept.list || popular_kept.generation != generation ||
	    now - popular_kept.at >= 60 || now < popular_kept.at) {
		kho_lesson_brief *b = NULL;
		size_t n = 0;
		json_t *list = json_array();
		if (kho_store_popular_here(&b, &n, store, now - WEEK, HOME_POPULAR))
			kho_error_clear();
		else
			add_briefs(list, b, n);
		kho_lesson_briefs_free(b, n);
		json_decref(popular_kept.list);
		popular_kept.list = list;
		popular_kept.generation = generation;
		popular_kept.at = now;
	}
	json_t *copy = json_deep_copy(popular_kept.list);
	pthread_mutex_unlock(&popular_kept.lock);
	return copy ? copy : json_array();
}

/* The centre's most opened lessons that this box has, from the catalog of
 * its last sync. */
static json_t *everywhere(kho_store *store)
{
	json_t *list = json_array();
	kho_popular *p = NULL;
	size_t n = 0;
	if (kho_sync_popular(&p, &n, store)) {
		kho_error_clear();
		return list;
	}
	for (size_t i = 0; i < n && json_array_size(list) < HOME_POPULAR; i++) {
		kho_lesson_info *l = NULL;
		if (kho_store_lesson(&l, store, p[i].pack, p[i].lesson)) {
			kho_error_clear(); /* not on this box */
			continue;
		}
		json_t *j = item(l->pack, l->lesson, l->title, l->unit_title);
		json_object_set_new(j, "schools", json_integer((json_int_t)p[i].schools));
		json_array_append_new(list, j);
		kho_lesson_info_free(l);
	}
	kho_popular_free(p, n);
	return list;
}

enum MHD_Result server_home(server_request *r, server_box *box, const kho_user *u)
{
	if (strcmp(r->method, "GET") && !r->head)
		return server_send_error(r, 405, "GET /api/home");
	kho_favourite *h = NULL;
	size_t n = 0;
	if (kho_store_history(&h, &n, box->store, u->id, HOME_HISTORY))
		return server_send_failure(r);
	json_t *cont = json_array(), *next = json_array(), *related = json_array();
	add_continue(cont, box->store, h, n);
	add_next(next, box->store, n, u);
	add_related(related, box, h, n, u, next);
	kho_favourites_free(h, n);
	json_t *root = json_pack("{s:o, s:o, s:o, s:o, s:o}", "continue", cont, "next", next,
		"related", related, "popular", popular(box->store), "everywhere",
		everywhere(box->store));
	char *json = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return server_send_json(r, 200, json);
}
