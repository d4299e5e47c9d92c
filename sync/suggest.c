/*
 * suggest.c — subscriptions the school's teachers would want: the packs of
 * the box's last catalog ($KHO_HOME/repo/catalog.json, kept and verified by
 * the sync that brought it) that no subscription pulls and that are not
 * installed, whose subjects and grades are those of teachers' profiles
 * ("teachers here teach Toán 6–9"). An administrator accepts them with
 * `kho subscribe ID` or in the app.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kho_sync.h"
#include "sync-private.h"

void kho_suggestions_free(kho_suggestion *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		free(list[i].pack);
		free(list[i].title);
		free(list[i].subjects);
		free(list[i].grades);
	}
	free(list);
}

/* Whether the space-separated `list` holds `word`. */
static bool has_word(const char *list, const char *word)
{
	char each[128];
	for (const char *p = list; kho_next_word(&p, each, sizeof each);)
		if (!strcmp(each, word))
			return true;
	return false;
}

/* Whether a teacher of `grades` and `subjects` (either may be empty: any)
 * teaches what `pack` (a catalog entry) is for. A teacher who gave neither
 * has no say. */
static bool serves(json_t *pack, const char *grades, const char *subjects)
{
	if (!*grades && !*subjects)
		return false;
	bool subject = !*subjects, grade = !*grades;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(pack, "subjects"), i, v) {
		if (json_is_string(v) && has_word(subjects, json_string_value(v)))
			subject = true;
	}
	json_array_foreach(json_object_get(pack, "grades"), i, v) {
		char g[24];
		snprintf(g, sizeof g, "%lld", (long long)json_integer_value(v));
		if (json_is_integer(v) && has_word(grades, g))
			grade = true;
	}
	return subject && grade;
}

/* The array's values joined by spaces; malloc'd. */
static char *joined(json_t *array)
{
	size_t cap = 1, i;
	json_t *v;
	json_array_foreach(array, i, v) cap += 24 + (json_is_string(v) ? strlen(json_string_value(v)) : 0);
	char *out = malloc(cap);
	if (!out)
		return NULL;
	out[0] = '\0';
	size_t len = 0;
	json_array_foreach(array, i, v) {
		if (json_is_string(v))
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "",
				json_string_value(v));
		else if (json_is_integer(v))
			len += (size_t)snprintf(out + len, cap - len, "%s%lld", len ? " " : "",
				(long long)json_integer_value(v));
	}
	return out;
}

static int by_teachers(const void *a, const void *b)
{
	const kho_suggestion *x = a, *y = b;
	if (x->teachers != y->teachers)
		return x->teachers > y->teachers ? -1 : 1;
	return strcmp(x->pack, y->pack);
}

int kho_sync_suggest(kho_suggestion **out, size_t *out_count, kho_store *store)
{
	*out = NULL;
	*out_count = 0;
	char *path = NULL;
	if (asprintf(&path, "%s/repo/catalog.json", kho_store_home(store)) < 0)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	json_error_t jerr;
	json_t *catalog = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	free(path);
	if (!catalog)
		return kho_error_set(KHO_ENOTFOUND, "this box has no catalog yet: run kho sync once");
	kho_user *users = NULL;
	kho_subscription *subs = NULL;
	size_t n_users = 0, n_subs = 0, n = 0;
	kho_suggestion *list = NULL;
	int rc = kho_store_users(&users, &n_users, store);
	if (!rc)
		rc = kho_store_subscriptions(&subs, &n_subs, store);
	json_t *packs = json_object_get(catalog, "packs");
	size_t i;
	json_t *pack;
	json_array_foreach(packs, i, pack) {
		const char *id = json_string_value(json_object_get(pack, "id"));
		const char *title = json_string_value(json_object_get(pack, "title"));
		int64_t installed = 0;
		if (rc || !id || sync_subscribed(pack, catalog, subs, n_subs))
			continue;
		if (!kho_store_current_version(&installed, store, id))
			continue;
		kho_error_clear();
		size_t teachers = 0;
		for (size_t u = 0; u < n_users; u++)
			teachers += serves(pack, users[u].grades, users[u].subjects);
		if (!teachers)
			continue;
		kho_suggestion *grown = realloc(list, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		list = grown;
		kho_suggestion *s = &list[n++];
		*s = (kho_suggestion){ strdup(id), strdup(title ? title : id),
			joined(json_object_get(pack, "subjects")), joined(json_object_get(pack, "grades")),
			teachers };
		if (!s->pack || !s->title || !s->subjects || !s->grades)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	json_decref(catalog);
	kho_users_free(users, n_users);
	kho_subscriptions_free(subs, n_subs);
	if (rc) {
		kho_suggestions_free(list, n);
		return rc;
	}
	if (n)
		qsort(list, n, sizeof *list, by_teachers);
	*out = list;
	*out_count = n;
	return KHO_OK;
}
