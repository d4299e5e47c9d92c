/*
 * repo-check.c — `kho repo verify`, `list` and `gc`: reading a repository
 * from its catalog down (REPOSITORY.md). Verify does not stop at the first
 * problem: it names every file that is missing or altered, so that an
 * operator knows what to re-publish.
 */
#include "sync-private.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- verify */

typedef struct problems {
	char **items;
	size_t n;
	bool failed; /* out of memory while noting one */
} problems;

static void note(problems *p, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	char **grown = realloc(p->items, (p->n + 1) * sizeof *grown);
	char *copy = grown ? strdup(line) : NULL;
	if (grown)
		p->items = grown;
	if (!copy) {
		p->failed = true;
		return;
	}
	p->items[p->n++] = copy;
}

void kho_repo_problems_free(char **items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		free(items[i]);
	free(items);
}

/* Checks one file of an index: its chunks' objects, and their bytes
 * together against the file's hash and size. */
static void verify_file(problems *p, const char *repo, const char *rel, json_t *f)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	json_int_t size = json_integer_value(json_object_get(f, "size")), total = 0;
	kho_hasher whole;
	kho_hasher_init(&whole);
	size_t i;
	json_t *c;
	bool ok = true;
	json_array_foreach(json_object_get(f, "chunks"), i, c) {
		kho_hash h;
		json_int_t n = json_integer_value(json_array_get(c, 1));
		unsigned char *data = NULL;
		if (kho_hash_from_hex(&h, json_string_value(json_array_get(c, 0))) ||
		    sync_object_read(&data, repo, &h, (size_t)n)) {
			note(p, "%s (%s, %s): %s", rel, path, "chunk", kho_error_last());
			ok = false;
			continue;
		}
		kho_hasher_update(&whole, data, (size_t)n);
		total += n;
		free(data);
	}
	if (!ok)
		return;
	kho_hash h;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hasher_final(&whole, &h);
	kho_hash_to_hex(hex, &h);
	if (total != size || strcmp(hex, json_string_value(json_object_get(f, "hash"))))
		note(p, "%s: file %s: its chunks do not make the file the index names", rel, path);
}

int kho_repo_verify(char ***out, size_t *n_out, const char *repo, const kho_public_key *keys,
	size_t n_keys)
{
	*out = NULL;
	*n_out = 0;
	problems p = { 0 };
	json_t *catalog = NULL;
	int rc = sync_catalog_load(&catalog, repo, keys, n_keys);
	if (rc == KHO_ENOMEM)
		return rc;
	if (rc)
		note(&p, "%s", kho_error_last());
	else if (!catalog)
		note(&p, "catalog.json is missing: %s is not a kho repository", repo);
	size_t i, j, k;
	json_t *pack, *v, *f;
	json_array_foreach(catalog ? json_object_get(catalog, "packs") : NULL, i, pack) {
		json_array_foreach(json_object_get(pack, "versions"), j, v) {
			const char *rel = json_string_value(json_object_get(v, "index"));
			json_t *index = NULL;
			if (sync_index_load(&index, repo, rel,
				json_string_value(json_object_get(v, "index_hash")))) {
				note(&p, "%s", kho_error_last());
				continue;
			}
			json_array_foreach(json_object_get(index, "files"), k, f)
				verify_file(&p, repo, rel, f);
			json_decref(index);
		}
	}
	json_decref(catalog);
	if (p.failed) {
		kho_repo_problems_free(p.items, p.n);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	*out = p.items;
	*n_out = p.n;
	return p.n ? kho_error_set(KHO_ECORRUPT, "%zu problem%s in %s", p.n, p.n == 1 ? "" : "s",
		repo) : KHO_OK;
}

/* ------------------------------------------------------------------ list */

void kho_repo_versions_free(kho_repo_version *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].pack);
		free(v[i].title);
	}
	free(v);
}

int kho_repo_list(kho_repo_version **out, size_t *n_out, int64_t *serial, int64_t *created,
	const char *repo, const kho_public_key *keys, size_t n_keys)
{
	*out = NULL;
	*n_out = 0;
	json_t *catalog = NULL;
	int rc = sync_catalog_load(&catalog, repo, keys, n_keys);
	if (rc)
		return rc;
	if (!catalog)
		return kho_error_set(KHO_ENOTFOUND, "%s is not a kho repository (no catalog.json)",
			repo);
	*serial = json_integer_value(json_object_get(catalog, "serial"));
	*created = json_integer_value(json_object_get(catalog, "created"));
	kho_repo_version *list = NULL;
	size_t n = 0, i, j;
	json_t *pack, *v;
	json_array_foreach(json_object_get(catalog, "packs"), i, pack) {
		json_array_foreach(json_object_get(pack, "versions"), j, v) {
			kho_repo_version *grown = realloc(list, (n + 1) * sizeof *grown);
			if (!grown) {
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
				break;
			}
			list = grown;
			const char *title = json_string_value(json_object_get(pack, "title"));
			list[n] = (kho_repo_version){
				.pack = strdup(json_string_value(json_object_get(pack, "id"))),
				.title = strdup(title ? title : ""),
				.version = json_integer_value(json_object_get(v, "version")),
				.files = json_integer_value(json_object_get(v, "files")),
				.bytes = json_integer_value(json_object_get(v, "bytes")),
				.lessons = json_integer_value(json_object_get(v, "lessons")),
				.published = json_integer_value(json_object_get(v, "published")),
			};
			if (!list[n++].pack || !list[n - 1].title)
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
		}
	}
	json_decref(catalog);
	if (rc) {
		kho_repo_versions_free(list, n);
		return rc;
	}
	*out = list;
	*n_out = n;
	return KHO_OK;
}

/* -------------------------------------------------------------------- gc */

/* A sorted set of object names (hex) the kept versions use. */
typedef struct hex_set {
	char (*items)[KHO_HASH_HEX_SIZE];
	size_t n, cap;
} hex_set;

static int set_add(hex_set *s, const char *hex)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		char (*grown)[KHO_HASH_HEX_SIZE] = realloc(s->items, cap * sizeof *grown);
		if (!grown)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		s->items = grown;
		s->cap = cap;
	}
	snprintf(s->items[s->n++], KHO_HASH_HEX_SIZE, "%s", hex);
	return KHO_OK;
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Removes the objects under REPO/objects/ that `keep` does not hold. */
static int sweep_objects(kho_gc_report *out, const char *repo, const hex_set *keep)
{
	size_t n = strlen(repo) + 120;
	char *dir = malloc(n), *path = malloc(n);
	if (!dir || !path) {
		free(dir);
		free(path);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	for (int b = 0; b < 256; b++) {
		snprintf(dir, n, "%s/objects/%02x", repo, b);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t len = strlen(e->d_name);
			if (e->d_name[0] == '.')
				continue;
			char hex[KHO_HASH_HEX_SIZE] = "";
			/* an object, or a patch object (HASH.patch-BASE.zst) of a used file */
			if ((len == 68 || (len == 68 + 7 + 64 && !strncmp(e->d_name + 64, ".patch-", 7))) &&
			    !strcmp(e->d_name + len - 4, ".zst"))
				snprintf(hex, sizeof hex, "%.64s", e->d_name);
			if (hex[0] && bsearch(hex, keep->items, keep->n, sizeof *keep->items, hex_cmp))
				continue;
			/* unused objects, and leftovers of interrupted writes (.tmp) */
			snprintf(path, n, "%s/%s", dir, e->d_name);
			struct stat st;
			if (stat(path, &st) == 0 && unlink(path) == 0) {
				out->objects_removed++;
				out->bytes_removed += (uint64_t)st.st_size;
			}
		}
		closedir(d);
	}
	free(dir);
	free(path);
	return KHO_OK;
}

/* The files of REPO/packs/ the catalog names: each version's index and
 * delta, as a set. */
static json_t *named_files(json_t *catalog)
{
	json_t *named = json_object();
	size_t i, j;
	json_t *pack, *v;
	json_array_foreach(json_object_get(catalog, "packs"), i, pack) {
		json_array_foreach(json_object_get(pack, "versions"), j, v) {
			const char *index = json_string_value(json_object_get(v, "index"));
			const char *delta = json_string_value(json_object_get(json_object_get(v, "delta"),
				"index"));
			if (named && index)
				json_object_set_new(named, index, json_true());
			if (named && delta)
				json_object_set_new(named, delta, json_true());
		}
	}
	return named;
}

/* Removes what REPO/packs/ holds that the catalog does not name: indexes and
 * deltas of dropped versions, and what an interrupted publish left. */
static int sweep_packs(kho_gc_report *out, const char *repo, json_t *catalog)
{
	json_t *named = named_files(catalog);
	size_t n = strlen(repo) + 420;
	char *dir = malloc(n), *path = malloc(n);
	int rc = named && dir && path ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc)
		snprintf(dir, n, "%s/packs", repo);
	DIR *packs = rc ? NULL : opendir(dir);
	struct dirent *p, *e;
	while (packs && (p = readdir(packs))) {
		if (p->d_name[0] == '.' || strlen(p->d_name) > 128)
			continue;
		snprintf(dir, n, "%s/packs/%.128s", repo, p->d_name);
		DIR *d = opendir(dir);
		while (d && (e = readdir(d))) {
			char rel[400];
			snprintf(rel, sizeof rel, "packs/%.128s/%s", p->d_name, e->d_name);
			if (e->d_name[0] == '.' || json_object_get(named, rel))
				continue;
			snprintf(path, n, "%s/%s", repo, rel);
			struct stat st;
			if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(path) == 0) {
				out->indexes_removed++;
				out->bytes_removed += (uint64_t)st.st_size;
			}
		}
		if (d)
			closedir(d);
		rmdir(dir); /* when the pack is gone altogether */
	}
	if (packs)
		closedir(packs);
	json_decref(named);
	free(dir);
	free(path);
	return rc;
}

int kho_repo_gc(kho_gc_report *out, const char *repo, const kho_secret_key *sec, int keep)
{
	*out = (kho_gc_report){ 0 };
	if (keep < 1)
		return kho_error_set(KHO_EINVALID, "keep at least one version of each pack");
	json_t *catalog = NULL;
	int lock = -1;
	int rc = sync_catalog_lock(&catalog, &lock, repo, sec);
	if (rc)
		return rc;
	sync_catalog_sort(catalog);
	hex_set used = { 0 };
	size_t i, j, k, c;
	json_t *pack, *v, *f, *chunk;
	json_array_foreach(json_object_get(catalog, "packs"), i, pack) {
		json_t *versions = json_object_get(pack, "versions");
		while (json_array_size(versions) > (size_t)keep) { /* oldest first */
			json_array_remove(versions, 0);
			out->versions_dropped++;
		}
		json_array_foreach(versions, j, v) {
			json_t *index = NULL;
			if (!rc && (rc = sync_index_load(&index, repo,
				json_string_value(json_object_get(v, "index")),
				json_string_value(json_object_get(v, "index_hash")))))
				rc = kho_error_set(rc, "%s (repair the repository before collecting it)",
					kho_error_last());
			json_array_foreach(index ? json_object_get(index, "files") : NULL, k, f)
				json_array_foreach(json_object_get(f, "chunks"), c, chunk)
					if (!rc)
						rc = set_add(&used, json_string_value(json_array_get(chunk, 0)));
			json_decref(index);
		}
	}
	if (!rc && out->versions_dropped) {
		json_int_t serial = json_integer_value(json_object_get(catalog, "serial")) + 1;
		json_object_set_new(catalog, "serial", json_integer(serial));
		json_object_set_new(catalog, "created", json_integer(time(NULL)));
		rc = sync_catalog_save(repo, catalog, sec);
	}
	out->serial = json_integer_value(json_object_get(catalog, "serial"));
	/* indexes and objects go only after the catalog that no longer names
	 * them is in place */
	if (!rc)
		rc = sweep_packs(out, repo, catalog);
	if (!rc) {
		qsort(used.items, used.n, sizeof *used.items, hex_cmp);
		rc = sweep_objects(out, repo, &used);
	}
	free(used.items);
	json_decref(catalog);
	sync_unlock(lock);
	return rc;
}
