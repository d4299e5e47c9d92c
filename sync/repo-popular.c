/*
 * repo-popular.c — lesson popularity across schools, in the catalog. The
 * centre adds up the schools' usage reports (`kho repo report`, which
 * writes popularity.json) and folds the most opened lessons into the
 * catalog's "popular" (REPOSITORY.md); boxes show them as "popular across
 * schools" after their next sync. Only figures: no school is named.
 */
#include "sync-private.h"

#include <stdlib.h>
#include <string.h>

static bool lesson_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	return n >= 1 && n <= 128 && !strstr(id, "..") && strspn(id,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int sync_check_popular(json_t *popular, const char *where)
{
	if (!popular)
		return KHO_OK;
	if (!json_is_array(popular) || json_array_size(popular) > SYNC_POPULAR_MAX)
		return kho_error_set(KHO_ECORRUPT, "%s: \"popular\" is not a list of at most %d lessons",
			where, SYNC_POPULAR_MAX);
	size_t i;
	json_t *p;
	json_array_foreach(popular, i, p) {
		json_t *opens = json_object_get(p, "opens"), *schools = json_object_get(p, "schools");
		if (!sync_pack_id_ok(json_string_value(json_object_get(p, "pack"))) ||
		    !lesson_id_ok(json_string_value(json_object_get(p, "lesson"))) ||
		    !json_is_integer(opens) || json_integer_value(opens) < 0 ||
		    !json_is_integer(schools) || json_integer_value(schools) < 0)
			return kho_error_set(KHO_ECORRUPT, "%s: popular lesson %zu is not {pack, lesson, "
				"opens, schools}", where, i);
	}
	return KHO_OK;
}

/* The entries of popularity.json whose pack is in the catalog, at most
 * SYNC_POPULAR_MAX, in the file's order (most opened first). */
static int read_popularity(json_t **out, const char *path, json_t *catalog)
{
	json_error_t err;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return kho_error_set(KHO_EINVALID, "%s: not JSON (line %d: %s)", path, err.line,
			err.text);
	const char *format = json_string_value(json_object_get(root, "format"));
	json_t *lessons = json_object_get(root, "lessons");
	int rc = format && !strcmp(format, "kho-popularity-1") && json_is_array(lessons) ? KHO_OK :
		kho_error_set(KHO_EINVALID, "%s: not a popularity.json of kho repo report", path);
	json_t *packs = json_object(), *list = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(catalog, "packs"), i, p)
		json_object_set(packs, json_string_value(json_object_get(p, "id")), json_true());
	json_array_foreach(lessons, i, p) {
		if (rc || json_array_size(list) == SYNC_POPULAR_MAX)
			break;
		json_t *one = json_pack("{s:O?, s:O?, s:O?, s:O?}", "pack", json_object_get(p, "pack"),
			"lesson", json_object_get(p, "lesson"), "opens", json_object_get(p, "opens"),
			"schools", json_object_get(p, "schools"));
		json_t *check = json_pack("[O]", one);
		rc = sync_check_popular(check, path);
		if (rc)
			rc = kho_error_set(KHO_EINVALID, "%s: lesson %zu is not {pack, lesson, opens, "
				"schools}", path, i);
		else if (json_object_get(packs, json_string_value(json_object_get(one, "pack"))))
			json_array_append(list, one);
		json_decref(check);
		json_decref(one);
	}
	json_decref(packs);
	json_decref(root);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return KHO_OK;
}

typedef struct popular_edit {
	const char *path;
	size_t count;
} popular_edit;

static int put_popular(json_t *catalog, void *payload)
{
	popular_edit *e = payload;
	json_t *list = NULL;
	int rc = read_popularity(&list, e->path, catalog);
	if (!rc) {
		e->count = json_array_size(list);
		json_object_set_new(catalog, "popular", list);
	}
	return rc;
}

int kho_repo_popular(int64_t *serial, size_t *count, const char *repo,
	const kho_secret_key *sec, const char *popularity)
{
	popular_edit e = { popularity, 0 };
	int rc = sync_catalog_edit(serial, repo, sec, put_popular, &e);
	*count = rc ? 0 : e.count;
	return rc;
}

void kho_popular_free(kho_popular *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		free(list[i].pack);
		free(list[i].lesson);
	}
	free(list);
}

int kho_sync_popular(kho_popular **out, size_t *out_count, kho_store *store)
{
	*out = NULL;
	*out_count = 0;
	char *path = NULL;
	if (asprintf(&path, "%s/repo/catalog.json", kho_store_home(store)) < 0)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	json_t *catalog = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	free(path);
	json_t *popular = json_object_get(catalog, "popular");
	int rc = sync_check_popular(popular, "catalog.json");
	size_t n = rc ? 0 : json_array_size(popular);
	kho_popular *list = n ? calloc(n, sizeof *list) : NULL;
	if (n && !list)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		json_t *p = json_array_get(popular, i);
		list[i] = (kho_popular){ strdup(json_string_value(json_object_get(p, "pack"))),
			strdup(json_string_value(json_object_get(p, "lesson"))),
			json_integer_value(json_object_get(p, "opens")),
			json_integer_value(json_object_get(p, "schools")) };
		if (!list[i].pack || !list[i].lesson)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	json_decref(catalog);
	if (rc) {
		kho_popular_free(list, n);
		return rc;
	}
	*out = list;
	*out_count = n;
	return KHO_OK;
}
