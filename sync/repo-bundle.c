/*
 * repo-bundle.c — bundles: sets of packs the centre recommends ("all of
 * grades 6–9"), named in the catalog, that a school follows with one
 * subscription (`kho subscribe @NAME`). A bundle is rules of the same kind
 * as a box's subscriptions, so that what it brings changes as packs are
 * published: {"name", "title", "rules": [{"pattern", "subject", "grade",
 * "lang"}]} in the catalog's "bundles" (REPOSITORY.md).
 */
#include "sync-private.h"

#include <string.h>

typedef struct bundle_edit {
	const char *name, *title;
	const kho_bundle_rule *rules;  /* NULL: remove the bundle */
	size_t n_rules;
} bundle_edit;

static int put_bundle(json_t *catalog, void *payload)
{
	const bundle_edit *e = payload;
	json_t *bundles = json_object_get(catalog, "bundles");
	if (!json_is_array(bundles)) {
		bundles = json_array();
		json_object_set_new(catalog, "bundles", bundles);
	}
	size_t i;
	json_t *b;
	bool found = false;
	json_array_foreach(bundles, i, b) {
		const char *bname = json_string_value(json_object_get(b, "name"));
		if (bname && !strcmp(bname, e->name)) {
			json_array_remove(bundles, i);
			found = true;
			break;
		}
	}
	if (!e->rules && !found)
		return kho_error_set(KHO_ENOTFOUND, "no bundle '%s' in the catalog", e->name);
	if (e->rules) {
		json_t *list = json_array();
		for (size_t k = 0; k < e->n_rules; k++)
			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}",
				"pattern", e->rules[k].pattern ? e->rules[k].pattern : "*",
				"subject", e->rules[k].subject ? e->rules[k].subject : "",
				"grade", e->rules[k].grade ? e->rules[k].grade : "",
				"lang", e->rules[k].lang ? e->rules[k].lang : ""));
		json_array_append_new(bundles, json_pack("{s:s, s:s, s:o}", "name", e->name, "title",
			e->title ? e->title : e->name, "rules", list));
	}
	return KHO_OK;
}

int kho_repo_bundle(int64_t *serial, const char *repo, const kho_secret_key *sec,
	const char *name, const char *title, const kho_bundle_rule *rules, size_t n_rules)
{
	bundle_edit e = { name, title, rules, n_rules };
	return sync_catalog_edit(serial, repo, sec, put_bundle, &e);
}
