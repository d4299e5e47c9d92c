/*
 * sync-box.c — the box's side of `kho sync` (docs/sync.md): fetch the
 * repository's catalog into $KHO_HOME/sync, check its signature against the
 * trusted keys and its serial against the highest seen, choose the newest
 * version of each subscribed pack, and plan what to fetch: only the files
 * whose content the box does not hold yet (its blob store is addressed by
 * the same hash as the index's files), and of those only the objects not
 * fetched already by an interrupted sync. Fetching checks every object and
 * file against its hash and builds the version as a pack folder, which the
 * caller installs in one transaction (kho import's path).
 */
#include "sync-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define MAX_CATALOG (16u << 20)
#define MAX_SIG 8192

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

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
static bool have_blob(kho_store *store, const char *hex)
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
	char *path = join(plan->work, name), *text = NULL, *base_text = NULL;
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
static int load_index(json_t **out, kho_sync_plan *plan, const kho_sync_item *item,
	kho_store *store)
{
	char name[96];
	snprintf(name, sizeof name, "index-%.64s.json", item->index_hash);
	char *dest = join(plan->work, name);
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
	int rc = load_index(&index, plan, item, store);
	if (rc)
		return rc;
	size_t i, j;
	json_t *f, *c;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		const char *hex = json_string_value(json_object_get(f, "hash"));
		uint64_t size = (uint64_t)json_integer_value(json_object_get(f, "size"));
		item->files++;
		item->bytes = add_sat(item->bytes, size);
		if (have_blob(store, hex))
			continue;
		item->files_needed++;
		plan->disk = add_sat(plan->disk, 2 * size); /* the assembled file, then its blob */
		json_t *patch = json_object_get(f, "patch");
		const char *base = json_string_value(json_array_get(patch, 0));
		if (base && have_blob(store, base)) {
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
	char *cat = join(plan->work, "catalog.json"), *sig = join(plan->work, "catalog.json.minisig");
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
	    !(plan->work = join(kho_store_home(store), "sync"))) {
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

/* ---------------------------------------------------------------- fetch */

/* Reads the whole blob `hex` of the box (malloc'd), or NULL. */
static unsigned char *read_blob(kho_store *store, const char *hex, size_t *len)
{
	kho_hash h;
	char *data = NULL;
	if (kho_hash_from_hex(&h, hex) ||
	    kho_blobs_read(&data, len, kho_store_blobs(store), &h)) {
		kho_error_clear();
		return NULL;
	}
	return (unsigned char *)data;
}

/* Creates `dest` for writing; it must not exist yet. A build folder is
 * made fresh, so a file there is one this build wrote: possibly a hard
 * link into the blob store, which must never be written through. */
static FILE *create_new(const char *dest)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	return f;
}

static int window_ended(kho_sync_plan *plan)
{
	plan->stopped = true;
	return kho_error_set(KHO_ELIMIT, "the sync window ended; the next sync continues from here");
}

/* Counts `bytes` more fetched, and tells the progress callback. */
static void count_fetched(kho_sync_plan *plan, uint64_t bytes)
{
	plan->fetched += bytes;
	if (plan->progress)
		plan->progress(plan->progress_payload, plan->fetched, plan->download);
}

/* Fetches `rel` (an object, `stored` bytes) into the work folder, unless an
 * earlier fetch put it there. Past plan->until: KHO_ELIMIT. */
static int fetch_object(kho_sync_plan *plan, const char *rel, uint64_t stored)
{
	char *path = join(plan->work, rel);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	struct stat st;
	int rc = KHO_OK;
	if (stat(path, &st) != 0) {
		if (plan->until && time(NULL) >= plan->until)
			rc = window_ended(plan);
		if (!rc)
			rc = sync_make_dirs(plan->work, rel);
		if (!rc)
			rc = sync_fetch_file(plan->source, rel, path, SYNC_MAX_OBJECT, plan->max_rate);
		if (!rc)
			count_fetched(plan, stored);
	}
	free(path);
	return rc;
}

static void unlink_in(const char *dir, const char *rel)
{
	char *path = join(dir, rel);
	if (path)
		unlink(path);
	free(path);
}

/* Writes `len` bytes to the new file `dest`. */
static int write_new(const char *dest, const unsigned char *data, size_t len)
{
	FILE *out = create_new(dest);
	int rc = out && fwrite(data, 1, len, out) == len ? KHO_OK : KHO_EIO;
	if (out && fclose(out))
		rc = KHO_EIO;
	if (rc) {
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
		if (out)
			unlink(dest);
	}
	return rc;
}

/* Builds `dest` from the entry's patch and the box's copy of the previous
 * version of the file; any failure (no patch, no base, a damaged patch):
 * not KHO_OK, and the caller fetches the file's own objects. */
static int try_patch(const char *dest, json_t *f, const kho_hash *want, kho_sync_plan *plan,
	kho_store *store)
{
	json_t *patch = json_object_get(f, "patch");
	const char *base_hex = json_string_value(json_array_get(patch, 0));
	size_t size = (size_t)json_integer_value(json_object_get(f, "size")), base_len = 0;
	if (!base_hex || !have_blob(store, base_hex))
		return KHO_ENOTFOUND;
	char new_hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(new_hex, want);
	char *rel = sync_patch_rel(new_hex, base_hex);
	int rc = rel ? fetch_object(plan, rel, (uint64_t)json_integer_value(json_array_get(patch, 1))) :
		KHO_ENOMEM;
	if (rc == KHO_ELIMIT && plan->stopped) {
		free(rel);
		return rc;
	}
	unsigned char *base = rc ? NULL : read_blob(store, base_hex, &base_len);
	unsigned char *data = NULL;
	if (!rc && !base)
		rc = KHO_ENOTFOUND;
	if (!rc && (rc = sync_patch_read(&data, plan->work, rel, want, size, base, base_len)))
		unlink_in(plan->work, rel); /* a damaged patch: fetched again next time */
	if (!rc)
		rc = write_new(dest, data, size);
	free(data);
	free(base);
	free(rel);
	kho_error_clear();
	return rc;
}

/* The bytes of chunk `c` ([hash, size, stored]), from its object, fetched
 * when the work folder lacks it. An object that fails its check is removed
 * and fetched whole once more: a transfer resumed over another run may have
 * joined bytes that do not belong together. */
static int chunk_data(unsigned char **out, kho_sync_plan *plan, json_t *c)
{
	const char *hex = json_string_value(json_array_get(c, 0));
	size_t size = (size_t)json_integer_value(json_array_get(c, 1));
	uint64_t stored = (uint64_t)json_integer_value(json_array_get(c, 2));
	kho_hash h;
	char rel[KHO_HASH_HEX_SIZE + 32];
	snprintf(rel, sizeof rel, "objects/%.2s/%s.zst", hex, hex);
	if (kho_hash_from_hex(&h, hex))
		return kho_error_set(KHO_ECORRUPT, "a malformed chunk hash in the index");
	int rc;
	for (int attempt = 0;; attempt++) {
		if ((rc = fetch_object(plan, rel, stored)))
			return rc;
		if (!(rc = sync_object_read(out, plan->work, &h, size)))
			return KHO_OK;
		unlink_in(plan->work, rel); /* fetched again, now or by the next sync */
		if (rc != KHO_ECORRUPT || attempt)
			break;
		kho_log_info("sync: %s: %s; fetching it again", rel, kho_error_last());
	}
	return kho_error_set(rc, "%s (fetched from %s)", kho_error_last(), plan->source);
}

/* Writes `dest` (new) from the chunks of `f`, checked against `want`. */
static int build_from_chunks(const char *dest, json_t *f, const kho_hash *want,
	kho_sync_plan *plan)
{
	FILE *out = create_new(dest);
	if (!out)
		return kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	kho_hasher whole;
	kho_hasher_init(&whole);
	int rc = KHO_OK;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(f, "chunks"), i, c) {
		unsigned char *data = NULL;
		size_t size = (size_t)json_integer_value(json_array_get(c, 1));
		if ((rc = chunk_data(&data, plan, c)))
			break;
		if (fwrite(data, 1, size, out) != size)
			rc = kho_error_set(KHO_EIO, "cannot write %s", dest);
		kho_hasher_update(&whole, data, size);
		free(data);
		if (rc)
			break;
	}
	if (fclose(out) && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s", dest);
	kho_hash got;
	kho_hasher_final(&whole, &got);
	if (!rc && memcmp(got.bytes, want->bytes, KHO_HASH_SIZE))
		rc = kho_error_set(KHO_ECORRUPT, "%s: its chunks do not make the file the index names",
			json_string_value(json_object_get(f, "path")));
	return rc;
}

/* Writes file `f` of the index into `dir`: linked from the blob store when
 * the box has it, else from a patch or its chunks' objects, checked against
 * its hash. */
static int build_file(const char *dir, json_t *f, kho_sync_plan *plan, kho_store *store)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	const char *hex = json_string_value(json_object_get(f, "hash"));
	kho_hash want;
	/* the index was checked when loaded; these guard the file system */
	if (!path || !kho_path_is_safe(path))
		return kho_error_set(KHO_EUNSAFE, "the index names an unsafe path '%s'", path);
	if (!hex || kho_hash_from_hex(&want, hex))
		return kho_error_set(KHO_ECORRUPT, "a malformed file hash in the index");
	int rc = sync_make_dirs(dir, path);
	char *dest = rc ? NULL : join(dir, path);
	if (!rc && !dest)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc && have_blob(store, hex)) {
		char *blob = kho_blobs_path(kho_store_blobs(store), &want);
		bool linked = blob && link(blob, dest) == 0;
		free(blob);
		if (linked) {
			free(dest);
			return KHO_OK;
		}
		/* another file system: build it from objects */
	}
	int patched = rc ? rc : try_patch(dest, f, &want, plan, store);
	if (!rc && patched != KHO_OK && !plan->stopped)
		rc = build_from_chunks(dest, f, &want, plan);
	else if (!rc)
		rc = patched;
	free(dest);
	return rc;
}

static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return KHO_OK;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *child = join(path, e->d_name);
			if (child)
				remove_tree(child);
			free(child);
		}
		if (d)
			closedir(d);
		return rmdir(path) ? KHO_EIO : KHO_OK;
	}
	return unlink(path) ? KHO_EIO : KHO_OK;
}

/* ------------------------------------------------------ parallel fetches */

/* Objects are small: on a link with a long round trip, fetching one after
 * another leaves it idle. What a version needs is fetched FETCHERS at a
 * time first, each object once; building the files then finds everything
 * in place, and fetches one by one what this could not get. */
#define FETCHERS 4

typedef struct job {
	char *rel;             /* what to fetch, relative to the repository */
	uint64_t size;         /* as stored, for the progress */
	json_t *file;          /* a patch's file entry (borrowed): its chunks are
	                          fetched instead when the source lacks the patch */
} job;

typedef struct prefetch {
	kho_sync_plan *plan;
	kho_store *store;
	job *jobs;
	size_t n, cap, next;
	json_t *queued;        /* rels already queued, as a set */
	pthread_mutex_t lock;  /* over jobs, n, cap, next, queued, rc, plan->fetched */
	int rc;                /* the first failure that stops the others */
	char message[1024];
} prefetch;

/* Queues `rel` (`size` bytes as stored) unless queued or fetched already. */
static int add_job(prefetch *p, const char *rel, uint64_t size, json_t *file)
{
	char *path = join(p->plan->work, rel);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	struct stat st;
	bool skip = json_object_get(p->queued, rel) || stat(path, &st) == 0;
	free(path);
	if (skip)
		return KHO_OK;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		job *grown = realloc(p->jobs, cap * sizeof *grown);
		if (!grown)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		p->jobs = grown;
		p->cap = cap;
	}
	char *copy = strdup(rel);
	if (!copy || json_object_set_new(p->queued, rel, json_true())) {
		free(copy);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	p->jobs[p->n++] = (job){ copy, size, file };
	return KHO_OK;
}

/* Queues the objects of the chunks of file `f`. */
static int add_chunk_jobs(prefetch *p, json_t *f)
{
	size_t j;
	json_t *c;
	int rc = KHO_OK;
	json_array_foreach(json_object_get(f, "chunks"), j, c) {
		const char *ch = json_string_value(json_array_get(c, 0));
		char rel[KHO_HASH_HEX_SIZE + 32];
		snprintf(rel, sizeof rel, "objects/%.2s/%s.zst", ch, ch);
		if ((rc = add_job(p, rel, (uint64_t)json_integer_value(json_array_get(c, 2)), NULL)))
			break;
	}
	return rc;
}

/* Queues what file `f` needs: its patch when the box holds the base, else
 * its chunks' objects. */
static int add_file_jobs(prefetch *p, json_t *f)
{
	const char *hex = json_string_value(json_object_get(f, "hash"));
	json_t *patch = json_object_get(f, "patch");
	const char *base = json_string_value(json_array_get(patch, 0));
	if (have_blob(p->store, hex))
		return KHO_OK;
	if (!base || !have_blob(p->store, base))
		return add_chunk_jobs(p, f);
	char *rel = sync_patch_rel(hex, base);
	int rc = rel ? add_job(p, rel, (uint64_t)json_integer_value(json_array_get(patch, 1)), f) :
		kho_error_set(KHO_ENOMEM, "out of memory");
	free(rel);
	return rc;
}

/* The next job, or false when there is none or the fetchers stop (a
 * failure, or the end of the window). Called under p->lock. */
static bool next_job(job *out, prefetch *p)
{
	if (p->rc || p->next == p->n)
		return false;
	if (p->plan->until && time(NULL) >= p->plan->until) {
		p->plan->stopped = true;
		p->rc = KHO_ELIMIT;
		snprintf(p->message, sizeof p->message, "the sync window ended; the next sync "
			"continues from here");
		return false;
	}
	*out = p->jobs[p->next++];
	return true;
}

/* Notes how job `j` went. Called under p->lock. */
static void job_done(prefetch *p, const job *j, int rc)
{
	if (!rc) {
		count_fetched(p->plan, j->size);
	} else if (rc == KHO_ENOTFOUND) {
		/* the source lacks it (a neighbour box keeps no patch objects): a
		 * patch's file is fetched whole; a missing object is named when the
		 * file is built */
		if (j->file && add_chunk_jobs(p, j->file) && !p->rc) {
			p->rc = kho_error_last_code();
			snprintf(p->message, sizeof p->message, "%s", kho_error_last());
		}
	} else if (!p->rc) {
		p->rc = rc;
		snprintf(p->message, sizeof p->message, "%s", kho_error_last());
	}
}

static void *fetcher(void *arg)
{
	prefetch *p = arg;
	for (;;) {
		job j;
		pthread_mutex_lock(&p->lock);
		bool more = next_job(&j, p);
		pthread_mutex_unlock(&p->lock);
		if (!more)
			return NULL;
		char *dest = join(p->plan->work, j.rel);
		int rc = dest ? sync_make_dirs(p->plan->work, j.rel) : KHO_ENOMEM;
		if (!rc)
			rc = sync_fetch_file(p->plan->source, j.rel, dest, SYNC_MAX_OBJECT,
				p->plan->max_rate ? (p->plan->max_rate + FETCHERS - 1) / FETCHERS : 0);
		free(dest);
		pthread_mutex_lock(&p->lock);
		job_done(p, &j, rc);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Runs the queued jobs on FETCHERS threads (or this one). */
static int run_jobs(prefetch *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_t threads[FETCHERS];
	size_t started = 0;
	for (size_t t = 0; t < FETCHERS; t++) {
		if (pthread_create(&threads[t], NULL, fetcher, p))
			break;
		started++;
	}
	if (!started)
		fetcher(p);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&p->lock);
	return p->rc ? kho_error_set(p->rc, "%s", p->message) : KHO_OK;
}

static int prefetch_version(kho_sync_plan *plan, json_t *index, kho_store *store)
{
	prefetch p = { .plan = plan, .store = store, .queued = json_object() };
	int rc = p.queued ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		if (rc)
			break;
		rc = add_file_jobs(&p, f);
	}
	if (!rc && p.n)
		rc = run_jobs(&p);
	for (size_t k = 0; k < p.n; k++)
		free(p.jobs[k].rel);
	free(p.jobs);
	json_decref(p.queued);
	return rc;
}

/* Records the catalog's serial as seen, once per plan, before anything is
 * installed from it. */
static int record_serial(kho_sync_plan *plan, kho_store *store)
{
	if (plan->recorded)
		return KHO_OK;
	int rc = kho_store_catalog_record(store, plan->key_id, plan->serial, plan->created, NULL);
	plan->recorded = rc == KHO_OK;
	return rc;
}

int kho_sync_fetch(char **pack_dir, kho_sync_plan *plan, size_t i, kho_store *store)
{
	*pack_dir = NULL;
	kho_sync_item *item = &plan->items[i];
	json_t *index = NULL;
	int rc = record_serial(plan, store);
	if (!rc)
		rc = load_index(&index, plan, item, store);
	/* named by the index's hash (checked hex), never by anything a catalog
	 * could make a path of */
	char name[KHO_HASH_HEX_SIZE + 16];
	snprintf(name, sizeof name, "build/%.64s", item->index_hash);
	char *dir = rc ? NULL : join(plan->work, name);
	if (!rc && !dir)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		remove_tree(dir); /* what an interrupted sync left */
		char rel[KHO_HASH_HEX_SIZE + 24];
		snprintf(rel, sizeof rel, "%s/x", name);
		rc = sync_make_dirs(plan->work, rel);
	}
	/* a failure here is not final: building the files fetches one by one,
	 * and names what cannot be had */
	if (!rc && prefetch_version(plan, index, store) && plan->stopped)
		rc = KHO_ELIMIT;
	else if (!rc)
		kho_error_clear();
	size_t k;
	json_t *f;
	json_array_foreach(rc ? NULL : json_object_get(index, "files"), k, f) {
		if (!rc && (rc = build_file(dir, f, plan, store)))
			rc = kho_error_set(rc, "%s version %lld: %s", item->pack, (long long)item->version,
				kho_error_last());
	}
	json_decref(index);
	if (rc) {
		free(dir);
		return rc;
	}
	kho_log_info("sync: %s version %lld fetched and checked (%.1f kB so far)", item->pack,
		(long long)item->version, (double)plan->fetched / 1000.0);
	*pack_dir = dir;
	return KHO_OK;
}

int kho_sync_check_pack(const kho_sync_plan *plan, size_t i, const kho_pack *pack)
{
	const kho_sync_item *item = &plan->items[i];
	const kho_manifest *m = kho_pack_manifest(pack);
	if (strcmp(m->id, item->pack) || m->version != item->version)
		return kho_error_set(KHO_ECORRUPT, "the catalog names %s version %lld, but its files "
			"hold %s version %lld; not installed", item->pack, (long long)item->version, m->id,
			(long long)m->version);
	return KHO_OK;
}

/* Moves `name` of the work folder to `rel` of the box's mirror. */
static int keep(const char *work, const char *name, const char *mirror, const char *rel)
{
	char *from = join(work, name), *to = join(mirror, rel);
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
	char *mirror = join(kho_store_home(store), "repo");
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
		char *a = join(mirror, "catalog.json.minisig.new"), *b = join(mirror, "catalog.json.minisig");
		char *c = join(mirror, "catalog.json.new"), *d = join(mirror, "catalog.json");
		if (!rc && (!a || !b || !c || !d || rename(a, b) || rename(c, d)))
			rc = kho_error_set(KHO_EIO, "cannot keep the catalog in %s", mirror);
		free(a);
		free(b);
		free(c);
		free(d);
	}
	free(mirror);
	/* the packs are in the blob store now: what the sync kept can go */
	remove_tree(plan->work);
	return rc;
}
