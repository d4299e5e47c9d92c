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
#include <time.h>

int kho_repo_bundle(int64_t *serial, const char *repo, const kho_secret_key *sec,
	const char *name, const char *title, const kho_bundle_rule *rules, size_t n_rules)
{
	*serial = 0;
	kho_public_key pub;
	memcpy(pub.id, sec->id, KHO_KEY_ID_SIZE);
	memcpy(pub.key, sec->key + 32, 32);
	json_t *catalog = NULL;
	int lock = -1;
	int rc = sync_lock(&lock, repo, SYNC_REPO_LOCK, "another kho publish, repo bundle or gc");
	if (!rc)
		rc = sync_catalog_load(&catalog, repo, &pub, 1);
	if (!rc && !catalog)
		rc = kho_error_set(KHO_ENOTFOUND, "%s is not a kho repository (publish a pack first)", repo);
	if (rc) {
		sync_unlock(lock);
		return rc;
	}
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
		if (bname && !strcmp(bname, name)) {
			json_array_remove(bundles, i);
			found = true;
			break;
		}
	}
	if (!rules && !found) {
		json_decref(catalog);
		sync_unlock(lock);
		return kho_error_set(KHO_ENOTFOUND, "no bundle '%s' in %s", name, repo);
	}
	if (rules) {
		json_t *list = json_array();
		for (size_t k = 0; k < n_rules; k++)
			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}",
				"pattern", rules[k].pattern ? rules[k].pattern : "*",
				"subject", rules[k].subject ? rules[k].subject : "",
				"grade", rules[k].grade ? rules[k].grade : "",
				"lang", rules[k].lang ? rules[k].lang : ""));
		json_array_append_new(bundles, json_pack("{s:s, s:s, s:o}", "name", name, "title",
			title ? title : name, "rules", list));
	}
	*serial = json_integer_value(json_object_get(catalog, "serial")) + 1;
	json_object_set_new(catalog, "serial", json_integer(*serial));
	json_object_set_new(catalog, "created", json_integer(time(NULL)));
	rc = sync_catalog_save(repo, catalog, sec);
	json_decref(catalog);
	sync_unlock(lock);
	return rc;
}
