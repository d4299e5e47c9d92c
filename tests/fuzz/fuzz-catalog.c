/*
 * fuzz-catalog.c — feeds arbitrary bytes to sync_catalog_parse(), which reads
 * a repository's catalog.json once its signature verified: a box checks its
 * shape as it would a stranger's (REPOSITORY.md), since a signature proves
 * who signed, not that they meant well. It must refuse anything malformed
 * without crashing, leaking or reading out of bounds; a catalog it accepts
 * must hold what the box relies on when it plans (every pack id a safe
 * folder name, versions increasing, index and delta paths under packs/ with
 * a hash), and must survive what the box then does with it: match it
 * against subscriptions (bundles included) and sort it.
 */
#include <stdlib.h>
#include <string.h>

#include "sync-private.h"
#include "fuzz-target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool index_ok(json_t *v)
{
	const char *rel = json_string_value(json_object_get(v, "index"));
	return rel && !strncmp(rel, "packs/", 6) && kho_path_is_safe(rel) &&
		sync_is_hex64(json_string_value(json_object_get(v, "index_hash")));
}

/* What the plan reads of an accepted catalog (sync-box.c: plan_pack,
 * add_item), checked to be there. */
static void check_accepted(json_t *catalog)
{
	json_t *packs = json_object_get(catalog, "packs"), *p, *v;
	size_t i, j;
	if (!json_is_array(packs) || !json_is_integer(json_object_get(catalog, "serial")))
		abort();
	json_array_foreach(packs, i, p) {
		json_t *versions = json_object_get(p, "versions");
		json_int_t last = 0;
		if (!sync_pack_id_ok(json_string_value(json_object_get(p, "id"))) ||
		    !json_is_array(versions))
			abort();
		json_array_foreach(versions, j, v) {
			json_t *delta = json_object_get(v, "delta");
			json_int_t n = json_integer_value(json_object_get(v, "version"));
			if (n <= last || !index_ok(v))
				abort();
			if (json_is_object(delta) && (!index_ok(delta) ||
			    json_integer_value(json_object_get(delta, "from")) >= n))
				abort();
			last = n;
		}
	}
	json_t *popular = json_object_get(catalog, "popular");
	if (popular && json_array_size(popular) > SYNC_POPULAR_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *catalog = NULL;
	if (sync_catalog_parse(&catalog, (const char *)data, size) == KHO_OK) {
		check_accepted(catalog);
		/* subscriptions as a box holds them: a pattern with filters, and
		 * bundles, whose rules come from the catalog */
		kho_subscription subs[] = {
			{ .pattern = "vn.kho.*", .subject = "toan", .grade = "5", .lang = "vi" },
			{ .pattern = "@thpt", .subject = "", .grade = "", .lang = "" },
			{ .pattern = "@", .subject = "", .grade = "", .lang = "" },
		};
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(catalog, "packs"), i, p)
			(void)sync_subscribed(p, catalog, subs, sizeof subs / sizeof *subs);
		sync_catalog_sort(catalog);
		check_accepted(catalog);
	} else if (catalog) {
		abort(); /* *out is set only on success */
	}
	json_decref(catalog);
	kho_error_clear();
	return 0;
}
