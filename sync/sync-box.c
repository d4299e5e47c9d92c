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

void kho_sync_plan_free(kho_sync_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_items; i++) {
		free(plan->items[i].pack);
		free(plan->items[i].title);
		free(plan->items[i].index_rel);
		free(plan->items[i].index_hash);
		free(plan->items[i].delta_rel);
		free(plan->items[i].delta_hash);
	}
	free(plan->items);
	free(plan->source);
	free(plan->work);
	free(plan);
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
	if (kho_hash_from_hex(&h, hex))
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
	if (kho_hash_from_hex(&h, hex))
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
	free(dest);
	if (!rc && (rc = sync_index_load(out, plan->work, name, item->index_hash)))
		rc = kho_error_set(rc, "%s (from %s)", kho_error_last(), item->index_rel);
	return rc;
}

static int plan_item(kho_sync_plan *plan, kho_sync_item *item, kho_store *store)
{
	json_t *index = NULL;
	int rc = load_index(&index, plan, item, store);
	if (rc)
		return rc;
	size_t i, j;
	json_t *f, *c;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		item->files++;
		uint64_t size = (uint64_t)json_integer_value(json_object_get(f, "size"));
		item->bytes += size;
		if (have_blob(store, json_string_value(json_object_get(f, "hash"))))
			continue;
		item->files_needed++;
		plan->disk += 2 * size; /* the assembled file, then its blob */
		json_t *patch = json_object_get(f, "patch");
		if (patch && have_blob(store, json_string_value(json_array_get(patch, 0)))) {
			item->download += (uint64_t)json_integer_value(json_array_get(patch, 1));
			continue;
		}
		json_array_foreach(json_object_get(f, "chunks"), j, c)
			if (!have_object(plan->work, json_string_value(json_array_get(c, 0))))
				item->download += (uint64_t)json_integer_value(json_array_get(c, 2));
	}
	json_decref(index);
	plan->download += item->download;
	plan->disk += item->download;
	return KHO_OK;
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

int kho_sync_plan_make(kho_sync_plan **out, kho_store *store, const char *source)
{
	*out = NULL;
	kho_sync_plan *plan = calloc(1, sizeof *plan);
	if (!plan || !(plan->source = strdup(source)) ||
	    !(plan->work = join(kho_store_home(store), "sync"))) {
		kho_sync_plan_free(plan);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	json_t *catalog = NULL;
	kho_subscription *subs = NULL;
	size_t n_subs = 0;
	int rc = sync_make_dirs(plan->work, "objects/x");
	if (!rc)
		rc = load_catalog(&catalog, plan, store);
	int64_t seen = 0;
	if (!rc) {
		plan->serial = json_integer_value(json_object_get(catalog, "serial"));
		plan->created = json_integer_value(json_object_get(catalog, "created"));
		rc = kho_store_catalog_seen(&seen, store, plan->key_id);
	}
	if (!rc && plan->serial < seen)
		rc = kho_error_set(KHO_EVERSION, "%s: its catalog (serial %lld) is older than one "
			"already installed from key %s (serial %lld): a replayed or rolled-back "
			"repository; nothing was changed", source, (long long)plan->serial, plan->key_id,
			(long long)seen);
	if (!rc)
		rc = kho_store_subscriptions(&subs, &n_subs, store);
	size_t i;
	json_t *pack;
	json_array_foreach(rc ? NULL : json_object_get(catalog, "packs"), i, pack) {
		json_t *versions = json_object_get(pack, "versions");
		json_t *newest = json_array_get(versions, json_array_size(versions) - 1);
		if (rc || !newest || !sync_subscribed(pack, catalog, subs, n_subs))
			continue;
		const char *id = json_string_value(json_object_get(pack, "id"));
		int64_t version = json_integer_value(json_object_get(newest, "version")), installed = 0;
		if ((rc = kho_store_current_version(&installed, store, id)) == KHO_ENOTFOUND) {
			rc = KHO_OK;
			installed = 0;
			kho_error_clear();
		}
		if (rc)
			break;
		if (installed >= version) {
			plan->up_to_date++;
			continue;
		}
		kho_sync_item *grown = realloc(plan->items, (plan->n_items + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		plan->items = grown;
		const char *title = json_string_value(json_object_get(pack, "title"));
		kho_sync_item *item = &plan->items[plan->n_items++];
		*item = (kho_sync_item){ .pack = strdup(id), .title = strdup(title ? title : id),
			.version = version, .installed = installed,
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
		    (drel && item->delta_from && (!item->delta_rel || !item->delta_hash)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
		else
			rc = plan_item(plan, item, store);
	}
	json_decref(catalog);
	kho_subscriptions_free(subs, n_subs);
	if (!rc)
		kho_log_info("sync: %s: catalog serial %lld; %zu versions to install, %.1f kB to fetch",
			source, (long long)plan->serial, plan->n_items, (double)plan->download / 1000.0);
	struct statvfs vfs;
	if (!rc && plan->disk && statvfs(plan->work, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < plan->disk + plan->disk / 10)
		rc = kho_error_set(KHO_ENOSPACE, "the sync needs %.1f MB of disk and %.1f MB are "
			"free; nothing was fetched", (double)plan->disk / 1e6,
			(double)vfs.f_bavail * (double)vfs.f_frsize / 1e6);
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
	char *path = rel ? join(plan->work, rel) : NULL;
	int rc = path ? sync_make_dirs(plan->work, rel) : KHO_ENOMEM;
	struct stat st;
	if (!rc && stat(path, &st) != 0 && plan->until && time(NULL) >= plan->until) {
		free(path);
		free(rel);
		plan->stopped = true;
		return kho_error_set(KHO_ELIMIT, "the sync window ended; the next sync continues "
			"from here");
	}
	if (!rc && stat(path, &st) != 0) {
		rc = sync_fetch_file(plan->source, rel, path, SYNC_MAX_INDEX, plan->max_rate);
		if (!rc) {
			plan->fetched += (uint64_t)json_integer_value(json_array_get(patch, 1));
			if (plan->progress)
				plan->progress(plan->progress_payload, plan->fetched, plan->download);
		}
	}
	unsigned char *base = rc ? NULL : read_blob(store, base_hex, &base_len);
	unsigned char *data = NULL;
	if (!rc && !base)
		rc = KHO_ENOTFOUND;
	if (!rc && (rc = sync_patch_read(&data, plan->work, rel, want, size, base, base_len)))
		unlink(path); /* a damaged patch: fetched again next time */
	if (!rc) {
		FILE *out = fopen(dest, "wb");
		if (!out || fwrite(data, 1, size, out) != size)
			rc = KHO_EIO;
		if (out && fclose(out))
			rc = KHO_EIO;
	}
	free(data);
	free(base);
	free(path);
	free(rel);
	if (rc)
		kho_error_clear();
	return rc;
}

/* Writes file `f` of the index into `dir`: linked from the blob store when
 * the box has it, else from its chunks' objects, checked against its hash. */
static int build_file(const char *dir, json_t *f, kho_sync_plan *plan, kho_store *store)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	const char *hex = json_string_value(json_object_get(f, "hash"));
	if (!path || strstr(path, "..") || path[0] == '/')
		return kho_error_set(KHO_EUNSAFE, "the index names an unsafe path '%s'", path);
	int rc = sync_make_dirs(dir, path);
	char *dest = rc ? NULL : join(dir, path);
	if (!rc && !dest)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	kho_hash want;
	if (!rc && kho_hash_from_hex(&want, hex))
		rc = kho_error_set(KHO_ECORRUPT, "a malformed file hash in the index");
	if (!rc && have_blob(store, hex)) {
		char *blob = kho_blobs_path(kho_store_blobs(store), &want);
		bool linked = blob && link(blob, dest) == 0;
		free(blob);
		if (linked) {
			free(dest);
			return KHO_OK;
		}
		/* another file system: fall through and build it from objects */
	}
	int patched = rc ? rc : try_patch(dest, f, &want, plan, store);
	if (patched == KHO_OK || patched == KHO_ELIMIT) {
		free(dest);
		return patched;
	}
	FILE *out = rc ? NULL : fopen(dest, "wb");
	if (!rc && !out)
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	kho_hasher whole;
	kho_hasher_init(&whole);
	size_t i;
	json_t *c;
	json_array_foreach(rc ? NULL : json_object_get(f, "chunks"), i, c) {
		if (rc)
			break;
		const char *chunk = json_string_value(json_array_get(c, 0));
		size_t size = (size_t)json_integer_value(json_array_get(c, 1));
		kho_hash h;
		kho_hash_from_hex(&h, chunk);
		char rel[KHO_HASH_HEX_SIZE + 32], *obj = NULL;
		snprintf(rel, sizeof rel, "objects/%.2s/%s.zst", chunk, chunk);
		if (!have_object(plan->work, chunk) && plan->until && time(NULL) >= plan->until) {
			plan->stopped = true;
			rc = kho_error_set(KHO_ELIMIT, "the sync window ended; the next sync continues "
				"from here");
			break;
		}
		if (!have_object(plan->work, chunk)) {
			obj = join(plan->work, rel);
			rc = obj ? sync_make_dirs(plan->work, rel) : kho_error_set(KHO_ENOMEM, "out of memory");
			if (!rc)
				rc = sync_fetch_file(plan->source, rel, obj, 2 * SYNC_SMALL_FILE, plan->max_rate);
			if (!rc) {
				plan->fetched += (uint64_t)json_integer_value(json_array_get(c, 2));
				if (plan->progress)
					plan->progress(plan->progress_payload, plan->fetched, plan->download);
			}
			free(obj);
		}
		unsigned char *data = NULL;
		if (!rc && (rc = sync_object_read(&data, plan->work, &h, size))) {
			/* a damaged object: removed, so that the next sync fetches it again */
			char *bad = join(plan->work, rel);
			if (bad)
				unlink(bad);
			free(bad);
			rc = kho_error_set(rc, "%s (fetched from %s)", kho_error_last(), plan->source);
		}
		if (!rc && fwrite(data, 1, size, out) != size)
			rc = kho_error_set(KHO_EIO, "cannot write %s", dest);
		if (!rc)
			kho_hasher_update(&whole, data, size);
		free(data);
	}
	if (out && fclose(out) && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s", dest);
	if (!rc) {
		kho_hash got;
		kho_hasher_final(&whole, &got);
		if (memcmp(got.bytes, want.bytes, KHO_HASH_SIZE))
			rc = kho_error_set(KHO_ECORRUPT, "%s: its chunks do not make the file the index "
				"names", path);
	}
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
 * time first; building the files then finds everything in place. */
#define FETCHERS 4

typedef struct prefetch {
	kho_sync_plan *plan;
	char **rels;           /* what to fetch, relative to the repository */
	uint64_t *sizes;       /* as stored, for the progress */
	size_t n, next;
	pthread_mutex_t lock;
	int rc;                /* the first failure */
	char message[1024];
} prefetch;

static void *fetcher(void *arg)
{
	prefetch *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		bool stop = p->rc || p->next == p->n;
		size_t i = stop ? 0 : p->next++;
		if (!stop && p->plan->until && time(NULL) >= p->plan->until) {
			p->plan->stopped = true;
			p->rc = KHO_ELIMIT;
			snprintf(p->message, sizeof p->message, "the sync window ended; the next sync "
				"continues from here");
			stop = true;
		}
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return NULL;
		char *dest = join(p->plan->work, p->rels[i]);
		int rc = dest ? sync_make_dirs(p->plan->work, p->rels[i]) : KHO_ENOMEM;
		if (!rc)
			rc = sync_fetch_file(p->plan->source, p->rels[i], dest, 2 * SYNC_SMALL_FILE,
				p->plan->max_rate ? (p->plan->max_rate + FETCHERS - 1) / FETCHERS : 0);
		free(dest);
		pthread_mutex_lock(&p->lock);
		if (rc && !p->rc) {
			p->rc = rc;
			snprintf(p->message, sizeof p->message, "%s", kho_error_last());
		} else if (!rc) {
			p->plan->fetched += p->sizes[i];
			if (p->plan->progress)
				p->plan->progress(p->plan->progress_payload, p->plan->fetched,
					p->plan->download);
		}
		pthread_mutex_unlock(&p->lock);
	}
}

static int add_job(prefetch *p, size_t *cap, const char *rel, uint64_t size)
{
	if (p->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		char **r = realloc(p->rels, *cap * sizeof *r);
		uint64_t *s = r ? realloc(p->sizes, *cap * sizeof *s) : NULL;
		if (r)
			p->rels = r;
		if (s)
			p->sizes = s;
		if (!r || !s)
			return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!(p->rels[p->n] = strdup(rel)))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	p->sizes[p->n++] = size;
	return KHO_OK;
}

static int prefetch_version(kho_sync_plan *plan, json_t *index, kho_store *store)
{
	prefetch p = { .plan = plan };
	size_t cap = 0, i, j;
	json_t *f, *c;
	int rc = KHO_OK;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		const char *hex = json_string_value(json_object_get(f, "hash"));
		json_t *patch = json_object_get(f, "patch");
		const char *base = json_string_value(json_array_get(patch, 0));
		if (rc || have_blob(store, hex))
			continue;
		if (base && have_blob(store, base)) {
			char *rel = sync_patch_rel(hex, base), *path = rel ? join(plan->work, rel) : NULL;
			struct stat st;
			if (!rel || !path)
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
			else if (stat(path, &st) != 0)
				rc = add_job(&p, &cap, rel, (uint64_t)json_integer_value(json_array_get(patch, 1)));
			free(rel);
			free(path);
			continue;
		}
		json_array_foreach(json_object_get(f, "chunks"), j, c) {
			const char *ch = json_string_value(json_array_get(c, 0));
			if (rc || !ch || have_object(plan->work, ch))
				continue;
			char rel[KHO_HASH_HEX_SIZE + 32];
			snprintf(rel, sizeof rel, "objects/%.2s/%s.zst", ch, ch);
			rc = add_job(&p, &cap, rel, (uint64_t)json_integer_value(json_array_get(c, 2)));
		}
	}
	if (!rc && p.n) {
		pthread_mutex_init(&p.lock, NULL);
		pthread_t threads[FETCHERS];
		size_t started = 0;
		for (size_t t = 0; t < FETCHERS && t < p.n; t++)
			if (!pthread_create(&threads[t], NULL, fetcher, &p))
				started++;
			else
				break;
		if (!started)
			fetcher(&p);
		for (size_t t = 0; t < started; t++)
			pthread_join(threads[t], NULL);
		pthread_mutex_destroy(&p.lock);
		if (p.rc)
			rc = kho_error_set(p.rc, "%s", p.message);
	}
	for (size_t k = 0; k < p.n; k++)
		free(p.rels[k]);
	free(p.rels);
	free(p.sizes);
	return rc;
}

int kho_sync_fetch(char **pack_dir, kho_sync_plan *plan, size_t i, kho_store *store)
{
	*pack_dir = NULL;
	kho_sync_item *item = &plan->items[i];
	json_t *index = NULL;
	int rc = load_index(&index, plan, item, store);
	char name[600];
	snprintf(name, sizeof name, "build/%s-%lld", item->pack, (long long)item->version);
	char *dir = rc ? NULL : join(plan->work, name);
	if (!rc && !dir)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		remove_tree(dir); /* what an interrupted sync left */
		char rel[640];
		snprintf(rel, sizeof rel, "%s/x", name);
		rc = sync_make_dirs(plan->work, rel);
	}
	/* a failure here is not final: building the files fetches one by one,
	 * and names what cannot be had */
	if (!rc && prefetch_version(plan, index, store) == KHO_ELIMIT)
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
	if (!rc && plan->n_items) {
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
