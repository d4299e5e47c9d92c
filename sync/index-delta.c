/*
 * index-delta.c — an index as the difference from the previous version's
 * (REPOSITORY.md, "Index deltas"): a box that updates a pack of thousands of
 * files fetches the few entries that changed, not an index naming every
 * file. The publisher writes packs/ID/V.from-U.json beside the full index;
 * the box applies it to the index of U it kept from its last sync and checks
 * that the result has exactly the full index's hash, which the signed
 * catalog gives — so a delta can save bytes but never change what is
 * trusted. Anything amiss, and the box fetches the full index instead.
 *
 * A delta: {"format": "kho-pack-index-delta-1", "pack", "version", "base":
 * U, "base_hash": HASH of U's index, "files": [entries of the full index
 * that U's lacks or differ], "removed": [paths U has and V has not]}.
 */
#include "sync-private.h"

#include <stdlib.h>
#include <string.h>

/* The index's text as a publish writes it (compact, keys sorted). */
char *sync_index_text(json_t *index)
{
	return json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS);
}

json_t *sync_index_delta(json_t *base, const char *base_hash, json_t *index)
{
	json_t *files = json_array(), *removed = json_array();
	json_t *old = json_object_get(base, "files"), *cur = json_object_get(index, "files");
	size_t i;
	json_t *f;
	/* both lists are sorted by path: walk them together */
	size_t a = 0, n_old = json_array_size(old);
	json_array_foreach(cur, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		while (a < n_old && strcmp(json_string_value(json_object_get(json_array_get(old, a),
			"path")), path) < 0)
			json_array_append(removed, json_object_get(json_array_get(old, a++), "path"));
		json_t *o = a < n_old && !strcmp(json_string_value(json_object_get(json_array_get(old, a),
			"path")), path) ? json_array_get(old, a++) : NULL;
		if (!o || !json_equal(o, f))
			json_array_append(files, f);
	}
	while (a < n_old)
		json_array_append(removed, json_object_get(json_array_get(old, a++), "path"));
	return json_pack("{s:s, s:O, s:O, s:O, s:s, s:o, s:o}", "format", "kho-pack-index-delta-1",
		"pack", json_object_get(index, "pack"), "version", json_object_get(index, "version"),
		"base", json_object_get(base, "version"), "base_hash", base_hash, "files", files,
		"removed", removed);
}

static int path_order(const void *x, const void *y)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)x, "path")),
		json_string_value(json_object_get(*(json_t *const *)y, "path")));
}

/* Whether every item of `files` is an object with a string "path". */
static bool entries_ok(json_t *files)
{
	size_t i;
	json_t *f;
	if (!json_is_array(files))
		return false;
	json_array_foreach(files, i, f)
		if (!json_string_value(json_object_get(f, "path")))
			return false;
	return true;
}

/* A delta's shape (what is applied must not trip on a missing field; the
 * result is checked against the signed hash anyway). */
static bool delta_ok(json_t *delta)
{
	const char *format = json_string_value(json_object_get(delta, "format"));
	json_t *removed = json_object_get(delta, "removed");
	size_t i;
	json_t *r;
	if (!format || strcmp(format, "kho-pack-index-delta-1") ||
	    !entries_ok(json_object_get(delta, "files")) || !json_is_array(removed))
		return false;
	json_array_foreach(removed, i, r)
		if (!json_is_string(r))
			return false;
	return true;
}

char *sync_index_apply(json_t *base, json_t *delta)
{
	json_t *old = json_object_get(base, "files");
	json_t *changed = json_object_get(delta, "files"), *removed = json_object_get(delta, "removed");
	if (!entries_ok(old) || !delta_ok(delta))
		return NULL;
	size_t n = json_array_size(old) + json_array_size(changed);
	json_t **items = malloc((n ? n : 1) * sizeof *items);
	/* the paths the delta replaces or removes, as a hash table: linear in
	 * the sizes of the base and the delta, whatever they hold */
	json_t *gone = json_object();
	size_t k = 0, i;
	json_t *f;
	if (!items || !gone) {
		free(items);
		json_decref(gone);
		return NULL;
	}
	json_array_foreach(changed, i, f)
		json_object_set(gone, json_string_value(json_object_get(f, "path")), json_true());
	json_array_foreach(removed, i, f)
		json_object_set(gone, json_string_value(f), json_true());
	json_array_foreach(old, i, f)
		if (!json_object_get(gone, json_string_value(json_object_get(f, "path"))))
			items[k++] = f;
	json_decref(gone);
	json_array_foreach(changed, i, f)
		items[k++] = f;
	qsort(items, k, sizeof *items, path_order);
	json_t *files = json_array();
	for (size_t x = 0; x < k; x++)
		json_array_append(files, items[x]);
	free(items);
	json_t *index = json_pack("{s:s, s:O, s:O, s:o}", "format", "kho-pack-index-1",
		"pack", json_object_get(delta, "pack"), "version", json_object_get(delta, "version"),
		"files", files);
	char *text = index ? sync_index_text(index) : NULL;
	json_decref(index);
	return text;
}
