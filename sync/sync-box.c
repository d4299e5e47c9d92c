/*
 * sync-box.c — the box's side of `kho sync` (docs/sync.md), before and after
 * the fetching: fetch the repository's catalog into $KHO_HOME/sync, check
 * its signature against the trusted keys and its serial against the highest
 * seen, choose the newest version of each subscribed pack, and plan what to
 * fetch: only the files whose content the box does not hold yet (its blob
 * store is addressed by the same hash as the index's files), and of those
 * only the objects not fetched already by an interrupted sync. Fetching and
 * building the pack folders is sync-fetch.c; finishing keeps the catalog and
 * the installed versions' indexes as the box's mirror, for its neighbours.
 */
#include "sync-private.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_CATALOG (16u << 20)
#define MAX_SIG 8192

static void item_free(kho_sync_item *item)
{
	free(item->pack);
	free(item->title);
	free(item->index_rel);
	free(item->index_hash);
	free(item->delta_rel);
	free(item->delta_hash);
}

void kho_sync_plan_free(kho_sync_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_items; i++)
		item_free(&plan->items[i]);
	free(plan->items);
	free(plan->source);
	free(plan->work);
	sync_unlock(plan->lock);
	free(plan);
}

/* a + b, or UINT64_MAX when it does not fit. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---------------------------------------------------------------- plan */

static bool has_string(json_t *array, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v) {
		char num[32];
		const char *text = json_string_value(v);
		if (!text && json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			text = num;
		}
		if (text && !strcmp(text, s))
			return true;
	}
	return false;
}

static bool rule_matches(json_t *pack, const char *pattern, const char *subject,
	const char *grade, const char *lang)
{
	const char *id = json_string_value(json_object_get(pack, "id"));
	const char *plang = json_string_value(json_object_get(pack, "lang"));
	return id && pattern && !fnmatch(pattern, id, 0) &&
		(!subject || !*subject || has_string(json_object_get(pack, "subjects"), subject)) &&
		(!grade || !*grade || has_string(json_object_get(pack, "grades"), grade)) &&
		(!lang || !*lang || (plang && !strcmp(plang, lang)));
}

/* A subscription "@NAME" follows the catalog's bundle NAME: its rules. */
static bool bundle_matches(json_t *pack, json_t *catalog, const char *name)
{
	size_t i, j;
	json_t *b, *rule;
	json_array_foreach(json_object_get(catalog, "bundles"), i, b) {
		const char *bname = json_string_value(json_object_get(b, "name"));
		if (!bname || strcmp(bname, name))
			continue;
		json_array_foreach(json_object_get(b, "rules"), j, rule)
			if (rule_matches(pack, json_string_value(json_object_get(rule, "pattern")),
				json_string_value(json_object_get(rule, "subject")),
				json_string_value(json_object_get(rule, "grade")),
				json_string_value(json_object_get(rule, "lang"))))
				return true;
	}
	return false;
}

bool sync_subscribed(json_t *pack, json_t *catalog, const kho_subscription *subs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (subs[i].pattern[0] == '@' ? bundle_matches(pack, catalog, subs[i].pattern + 1) :
		    rule_matches(pack, subs[i].pattern, subs[i].subject, subs[i].grade, subs[i].lang))
			return true;
	}
	return false;
}

/* Whether the box's blob store holds content `hex`. */
bool sync_have_blob(kho_store *store, const char *hex)
{
	kho_hash h;
	if (!hex || kho_hash_from_hex(&h, hex))
		return false;
	char *path = kho_blobs_path(kho_store_blobs(store), &h);
	struct stat st;
	bool yes = path && stat(path, &st) == 0;
	free(path);
	return yes;
}

static bool have_object(const char *work, const char *hex)
{
	kho_hash h;
	if (!hex || kho_hash_from_hex(&h, hex))
		return false;
	char *path = sync_object_path(work, &h);
	struct stat st;
	bool yes = path && stat(path, &st) == 0;
	free(path);
	return yes;
}

/* The hash (hex) of `len` bytes. */
static void hex_of(char out[KHO_HASH_HEX_SIZE], const char *text, size_t len)
{
	kho_hash h;
	kho_hash_buffer(&h, text, len);
	kho_hash_to_hex(out, &h);
}

/* The full index rebuilt from the delta and the box's copy of the base
 * (kept in $KHO_HOME/repo by the sync that installed it), written to
 * `dest`; any error: the caller fetches the full index instead. */
static int index_from_delta(kho_sync_plan *plan, const kho_sync_item *item, const char *dest,
	kho_store *store)
{
	char name[96], base_rel[600], hex[KHO_HASH_HEX_SIZE];
	snprintf(name, sizeof name, "delta-%.64s.json", item->delta_hash);
	snprintf(base_rel, sizeof base_rel, "repo/packs/%s/%lld.json", item->pack,
		(long long)item->delta_from);
	char *path = kho_path_join(plan->work, name), *text = NULL, *base_text = NULL;
	size_t len = 0, base_len = 0;
	json_t *delta = NULL, *base = NULL;
	int rc = path ? sync_fetch_file(plan->source, item->delta_rel, path, SYNC_MAX_INDEX, 0) :
		KHO_ENOMEM;
	if (!rc)
		rc = sync_read_file(&text, &len, plan->work, name);
	if (!rc) {
		hex_of(hex, text, len);
		delta = strcmp(hex, item->delta_hash) ? NULL : json_loadb(text, len, 0, NULL);
		rc = delta ? KHO_OK : KHO_ECORRUPT;
	}
	if (!rc)
		rc = sync_read_file(&base_text, &base_len, kho_store_home(store), base_rel);
	if (!rc) {
		const char *want = json_string_value(json_object_get(delta, "base_hash"));
		hex_of(hex, base_text, base_len);
		base = want && !strcmp(hex, want) ? json_loadb(base_text, base_len, 0, NULL) : NULL;
		rc = base ? KHO_OK : KHO_ECORRUPT;
	}
	char *full = rc ? NULL : sync_index_apply(base, delta);
	if (!rc && full) {
		hex_of(hex, full, strlen(full));
		rc = strcmp(hex, item->index_hash) ? KHO_ECORRUPT : KHO_OK;
	} else if (!rc) {
		rc = KHO_ECORRUPT;
	}
	if (!rc) {
		const char *slash = strrchr(dest, '/');
		char rel[128];
		snprintf(rel, sizeof rel, "%s", slash ? slash + 1 : dest);
		rc = sync_write_file(plan->work, rel, full);
	}
	if (path)
		unlink(path);
	free(path);
	free(text);
	free(base_text);
	free(full);
	json_decref(delta);
	json_decref(base);
	if (rc)
		kho_error_clear();
	return rc;
}

/* The version's index, fetched into the work folder and checked: rebuilt
 * from a delta when the box holds the base, else fetched whole. */
int sync_load_index(json_t **out, kho_sync_plan *plan, const kho_sync_item *item,
	kho_store *store)
{
	char name[96];
	snprintf(name, sizeof name, "index-%.64s.json", item->index_hash);
	char *dest = kho_path_join(plan->work, name);
	if (!dest)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	struct stat st;
	int rc = stat(dest, &st) == 0 ? KHO_OK : KHO_ENOTFOUND;
	if (rc && item->delta_rel)
		rc = index_from_delta(plan, item, dest, store);
	if (rc)
		rc = sync_fetch_file(plan->source, item->index_rel, dest, SYNC_MAX_INDEX, 0);
	bool fetched = !rc;
	if (!rc && (rc = sync_index_load(out, plan->work, name, item->index_hash)))
		rc = kho_error_set(rc, "%s (from %s)", kho_error_last(), item->index_rel);
	const char *pack = rc ? NULL : json_string_value(json_object_get(*out, "pack"));
	if (!rc && (strcmp(pack, item->pack) ||
	    json_integer_value(json_object_get(*out, "version")) != item->version)) {
		rc = kho_error_set(KHO_ECORRUPT, "%s describes %s version %lld, not what the catalog "
			"names it for (%s version %lld)", item->index_rel, pack,
			(long long)json_integer_value(json_object_get(*out, "version")), item->pack,
			(long long)item->version);
		json_decref(*out);
		*out = NULL;
	}
	if (rc && fetched)
		unlink(dest); /* refused: fetched again by the next sync, not kept */
	free(dest);
	return rc;
}

/* Whether `key` is in the set `seen` (a JSON object used as a set); adds it
 * when not. */
static bool seen_before(json_t *seen, const char *key)
{
	if (json_object_get(seen, key))
		return true;
	json_object_set_new(seen, key, json_true());
	return false;
}

/* Counts what item `i` needs: its files the box lacks, and the objects to
 * fetch for them, each object once in the whole plan (`counted`: the
 * objects already counted, by name). */
static int plan_item(kho_sync_plan *plan, kho_sync_item *item, kho_store *store,
	json_t *counted)
{
	json_t *index = NULL;
	int rc = sync_load_index(&index, plan, item, store);
	if (rc)
		return rc;
	size_t i, j;
	json_t *f, *c;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		const char *hex = json_string_value(json_object_get(f, "hash"));
		uint64_t size = (uint64_t)json_integer_value(json_object_get(f, "size"));
		item->files++;
		item->bytes = add_sat(item->bytes, size);
		if (sync_have_blob(store, hex))
			continue;
		item->files_needed++;
		plan->disk = add_sat(plan->disk, 2 * size); /* the assembled file, then its blob */
		json_t *patch = json_object_get(f, "patch");
		const char *base = json_string_value(json_array_get(patch, 0));
		if (base && sync_have_blob(store, base)) {
			char *rel = sync_patch_rel(hex, base);
			if (!rel) {
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
				break;
			}
			if (!seen_before(counted, rel))
				item->download = add_sat(item->download,
					(uint64_t)json_integer_value(json_array_get(patch, 1)));
			free(rel);
			continue;
		}
		json_array_foreach(json_object_get(f, "chunks"), j, c) {
			const char *chunk = json_string_value(json_array_get(c, 0));
			if (!seen_before(counted, chunk) && !have_object(plan->work, chunk))
				item->download = add_sat(item->download,
					(uint64_t)json_integer_value(json_array_get(c, 2)));
		}
	}
	json_decref(index);
	plan->download = add_sat(plan->download, item->download);
	plan->disk = add_sat(plan->disk, item->download);
	return rc;
}

/* Fetches the catalog and its signature and checks them; *catalog parsed. */
static int load_catalog(json_t **catalog, kho_sync_plan *plan, kho_store *store)
{
	char *cat = kho_path_join(plan->work, "catalog.json");
	char *sig = kho_path_join(plan->work, "catalog.json.minisig");
	int rc = cat && sig ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc && (rc = sync_fetch_file(plan->source, "catalog.json", cat, MAX_CATALOG, 0)) ==
	    KHO_ENOTFOUND)
		rc = kho_error_set(KHO_ENOTFOUND, "%s is not a kho repository (no catalog.json)",
			plan->source);
	if (!rc && (rc = sync_fetch_file(plan->source, "catalog.json.minisig", sig, MAX_SIG, 0)) ==
	    KHO_ENOTFOUND)
		rc = kho_error_set(KHO_ESIGNATURE, "%s: the catalog is not signed", plan->source);
	kho_trusted_key *trusted = NULL;
	size_t n = 0, signer = 0;
	if (!rc)
		rc = kho_store_trusted_keys(&trusted, &n, store);
	kho_public_key *keys = rc ? NULL : calloc(n ? n : 1, sizeof *keys);
	if (!rc && !keys)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; keys && i < n; i++)
		keys[i] = trusted[i].key;
	if (!rc && (rc = kho_verify_file(&signer, NULL, cat, sig, keys, n)) == KHO_ENOTFOUND)
		rc = kho_error_set(KHO_ESIGNATURE, "%s; nothing was changed (trust the publisher's "
			"key with: kho trust add KEY.pub)", kho_error_last());
	if (!rc) {
		memcpy(plan->key_id, trusted[signer].id_hex, KHO_KEY_ID_HEX_SIZE);
		rc = sync_catalog_load(catalog, plan->work, &keys[signer], 1);
	}
	free(keys);
	kho_trusted_keys_free(trusted, n);
	free(cat);
	free(sig);
	return rc;
}

/* Appends an item for version `newest` of `pack` (the box shows `installed`). */
static int add_item(kho_sync_plan *plan, json_t *pack, json_t *newest, int64_t installed)
{
	kho_sync_item *grown = realloc(plan->items, (plan->n_items + 1) * sizeof *grown);
	if (!grown)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	plan->items = grown;
	const char *id = json_string_value(json_object_get(pack, "id"));
	const char *title = json_string_value(json_object_get(pack, "title"));
	kho_sync_item *item = &plan->items[plan->n_items];
	*item = (kho_sync_item){ .pack = strdup(id), .title = strdup(title ? title : id),
		.version = json_integer_value(json_object_get(newest, "version")),
		.installed = installed,
		.index_rel = strdup(json_string_value(json_object_get(newest, "index"))),
		.index_hash = strdup(json_string_value(json_object_get(newest, "index_hash"))) };
	json_t *delta = json_object_get(newest, "delta");
	const char *drel = json_string_value(json_object_get(delta, "index"));
	const char *dhash = json_string_value(json_object_get(delta, "index_hash"));
	if (drel && dhash && installed &&
	    json_integer_value(json_object_get(delta, "from")) == installed) {
		item->delta_rel = strdup(drel);
		item->delta_hash = strdup(dhash);
		item->delta_from = installed;
	}
	if (!item->pack || !item->title || !item->index_rel || !item->index_hash ||
	    (item->delta_from && (!item->delta_rel || !item->delta_hash))) {
		item_free(item);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	plan->n_items++;
	return KHO_OK;
}

/* Plans the newest version of a subscribed `pack`, unless the box shows it
 * already. A version whose index the source does not have (a neighbour box
 * that did not install it) is left out with a warning: other sources may
 * offer it. */
static int plan_pack(kho_sync_plan *plan, json_t *pack, kho_store *store, json_t *counted)
{
	json_t *versions = json_object_get(pack, "versions");
	json_t *newest = json_array_get(versions, json_array_size(versions) - 1);
	const char *id = json_string_value(json_object_get(pack, "id"));
	int64_t installed = 0;
	int rc = kho_store_current_version(&installed, store, id);
	if (rc == KHO_ENOTFOUND) {
		kho_error_clear();
		rc = KHO_OK;
		installed = 0;
	}
	if (rc || !newest)
		return rc;
	if (installed >= json_integer_value(json_object_get(newest, "version"))) {
		plan->up_to_date++;
		return KHO_OK;
	}
	if ((rc = add_item(plan, pack, newest, installed)))
		return rc;
	kho_sync_item *item = &plan->items[plan->n_items - 1];
	rc = plan_item(plan, item, store, counted);
	if (rc == KHO_ENOTFOUND) {
		kho_log_warn("%s: %s version %lld is not offered there (%s); left for another "
			"source", plan->source, item->pack, (long long)item->version, kho_error_last());
		kho_error_clear();
		item_free(item);
		plan->n_items--;
		plan->not_offered++;
		rc = KHO_OK;
	}
	return rc;
}

/* Whether the disk holding the work folder has room for the plan. */
static int check_disk(const kho_sync_plan *plan)
{
	struct statvfs vfs;
	if (!plan->disk || statvfs(plan->work, &vfs))
		return KHO_OK;
	uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (free_bytes >= add_sat(plan->disk, plan->disk / 10))
		return KHO_OK;
	return kho_error_set(KHO_ENOSPACE, "the sync needs %.1f MB of disk and %.1f MB are free; "
		"nothing was fetched", (double)plan->disk / 1e6, (double)free_bytes / 1e6);
}

/* The catalog, fetched and checked: trusted signature, no rollback. */
static int plan_catalog(json_t **catalog, kho_sync_plan *plan, kho_store *store)
{
	int rc = load_catalog(catalog, plan, store);
	int64_t seen = 0;
	if (!rc) {
		plan->serial = json_integer_value(json_object_get(*catalog, "serial"));
		plan->created = json_integer_value(json_object_get(*catalog, "created"));
		rc = kho_store_catalog_seen(&seen, store, plan->key_id);
	}
	if (!rc && plan->serial < seen)
		rc = kho_error_set(KHO_EVERSION, "%s: its catalog (serial %lld) is older than one "
			"already installed from key %s (serial %lld): a replayed or rolled-back "
			"repository; nothing was changed", plan->source, (long long)plan->serial,
			plan->key_id, (long long)seen);
	return rc;
}

int kho_sync_plan_make(kho_sync_plan **out, kho_store *store, const char *source)
{
	*out = NULL;
	if (!source[0])
		return kho_error_set(KHO_EINVALID, "no repository named (an empty --from)");
	kho_sync_plan *plan = calloc(1, sizeof *plan);
	if (plan)
		plan->lock = -1;
	if (!plan || !(plan->source = strdup(source)) ||
	    !(plan->work = kho_path_join(kho_store_home(store), "sync"))) {
		kho_sync_plan_free(plan);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	json_t *catalog = NULL, *counted = json_object();
	kho_subscription *subs = NULL;
	size_t n_subs = 0;
	/* one sync at a time: they share the work folder */
	int rc = counted ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc)
		rc = sync_lock(&plan->lock, kho_store_home(store), "sync.lock",
			"another kho sync");
	if (!rc)
		rc = sync_make_dirs(plan->work, "objects/x");
	if (!rc)
		rc = plan_catalog(&catalog, plan, store);
	if (!rc)
		rc = kho_store_subscriptions(&subs, &n_subs, store);
	size_t i;
	json_t *pack;
	json_array_foreach(rc ? NULL : json_object_get(catalog, "packs"), i, pack) {
		if (!rc && sync_subscribed(pack, catalog, subs, n_subs))
			rc = plan_pack(plan, pack, store, counted);
	}
	json_decref(catalog);
	json_decref(counted);
	kho_subscriptions_free(subs, n_subs);
	if (!rc)
		kho_log_info("sync: %s: catalog serial %lld; %zu versions to install, %.1f kB to fetch",
			source, (long long)plan->serial, plan->n_items, (double)plan->download / 1000.0);
	if (!rc)
		rc = check_disk(plan);
	if (rc) {
		kho_sync_plan_free(plan);
		return rc;
	}
	*out = plan;
	return KHO_OK;
}

/* --------------------------------------------------------------- finish */

/* Moves `name` of the work folder to `rel` of the box's mirror. */
static int keep(const char *work, const char *name, const char *mirror, const char *rel)
{
	char *from = kho_path_join(work, name), *to = kho_path_join(mirror, rel);
	int rc = from && to ? sync_make_dirs(mirror, rel) : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc && rename(from, to))
		rc = kho_error_set(KHO_EIO, "cannot keep %s: %s", rel, strerror(errno));
	free(from);
	free(to);
	return rc;
}

int kho_sync_finish(kho_sync_plan *plan, kho_store *store)
{
	int rc = kho_store_catalog_record(store, plan->key_id, plan->serial, plan->created,
		plan->source);
	/* The signed catalog and the installed versions' indexes stay in
	 * $KHO_HOME/repo, so that `kho serve` offers this box's packs to its
	 * neighbours as a repository (its objects come from the blob store). */
	char *mirror = kho_path_join(kho_store_home(store), "repo");
	if (!mirror)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < plan->n_items; i++) {
		char name[96];
		snprintf(name, sizeof name, "index-%.64s.json", plan->items[i].index_hash);
		rc = keep(plan->work, name, mirror, plan->items[i].index_rel);
	}
	/* the catalog too, also when nothing changed: what the school could
	 * subscribe to (kho subscriptions --suggest) is in the newest one */
	if (!rc) {
		rc = keep(plan->work, "catalog.json.minisig", mirror, "catalog.json.minisig.new");
		if (!rc)
			rc = keep(plan->work, "catalog.json", mirror, "catalog.json.new");
		/* signature first, then the catalog, as a publish does */
		char *a = kho_path_join(mirror, "catalog.json.minisig.new");
		char *b = kho_path_join(mirror, "catalog.json.minisig");
		char *c = kho_path_join(mirror, "catalog.json.new"), *d = kho_path_join(mirror, "catalog.json");
		if (!rc && (!a || !b || !c || !d || rename(a, b) || rename(c, d)))
			rc = kho_error_set(KHO_EIO, "cannot keep the catalog in %s", mirror);
		free(a);
		free(b);
		free(c);
		free(d);
	}
	free(mirror);
	/* the packs are in the blob store now: what the sync kept can go */
	sync_remove_tree(plan->work);
	return rc;
}
