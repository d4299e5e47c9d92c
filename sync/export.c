/*
 * export.c — sneakernet (docs/sync.md): `kho state FILE` on a box that has
 * never been online writes what it holds and follows (format
 * "kho-box-state-1", below); `kho export --for FILE --from REPO DIR`, where a
 * repository is reachable, writes onto a USB stick a repository that holds
 * exactly what that box lacks: the signed catalog as it is, the indexes of
 * the versions it needs, and only the objects of files it has no copy of.
 * The box then runs `kho sync --from DIR` and checks everything as usual.
 *
 * The state file: {"format": "kho-box-state-1", "created": T,
 * "packs": {"ID": VERSION…}, "subscriptions": [{"pattern", "subject",
 * "grade", "lang"}…], "files": ["HASH"…] (sorted)}.
 */
#include "sync-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int kho_sync_state_write(const char *path, kho_store *store)
{
	kho_pack_info *packs = NULL;
	kho_subscription *subs = NULL;
	char **files = NULL;
	size_t n_packs = 0, n_subs = 0, n_files = 0;
	int rc = kho_store_list_packs(&packs, &n_packs, store);
	if (!rc)
		rc = kho_store_subscriptions(&subs, &n_subs, store);
	if (!rc)
		rc = kho_store_file_hashes(&files, &n_files, store);
	json_t *jp = json_object(), *js = json_array(), *jf = json_array();
	for (size_t i = 0; !rc && i < n_packs; i++)
		json_object_set_new(jp, packs[i].id, json_integer(packs[i].version));
	for (size_t i = 0; !rc && i < n_subs; i++)
		json_array_append_new(js, json_pack("{s:s, s:s, s:s, s:s}", "pattern", subs[i].pattern,
			"subject", subs[i].subject, "grade", subs[i].grade, "lang", subs[i].lang));
	for (size_t i = 0; !rc && i < n_files; i++)
		json_array_append_new(jf, json_string(files[i]));
	json_t *root = json_pack("{s:s, s:I, s:o, s:o, s:o}", "format", "kho-box-state-1",
		"created", (json_int_t)time(NULL), "packs", jp, "subscriptions", js, "files", jf);
	char *text = root && !rc ? json_dumps(root, JSON_COMPACT) : NULL;
	if (!rc && !text)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		FILE *f = fopen(path, "w");
		if (!f || fputs(text, f) < 0 || fclose(f))
			rc = kho_error_set(KHO_EIO, "cannot write %s", path);
	}
	free(text);
	json_decref(root);
	kho_pack_info_free(packs, n_packs);
	kho_subscriptions_free(subs, n_subs);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	return rc;
}

static char *or_empty(const char *s)
{
	return (char *)(s ? s : "");
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The state file, checked for its shape. */
static int load_state(json_t **out, const char *path)
{
	json_error_t err;
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	json_t *s = *out;
	const char *format = s ? json_string_value(json_object_get(s, "format")) : NULL;
	if (!format || strcmp(format, "kho-box-state-1") ||
	    !json_is_object(json_object_get(s, "packs")) ||
	    !json_is_array(json_object_get(s, "subscriptions")) ||
	    !json_is_array(json_object_get(s, "files"))) {
		json_decref(*out);
		*out = NULL;
		return kho_error_set(KHO_EINVALID, "%s is not a box's state file (kho state)", path);
	}
	return KHO_OK;
}

/* Fetches `rel` from the repository into DIR/`dest_rel` (whole, through a
 * temporary name), counted in the report. */
static int fetch_into(kho_export_report *r, const char *from, const char *dir, const char *rel,
	const char *dest_rel)
{
	size_t n = strlen(dir) + strlen(dest_rel) + 2;
	char *dest = malloc(n);
	if (!dest)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(dest, n, "%s/%s", dir, dest_rel);
	struct stat st;
	int rc = sync_make_dirs(dir, dest_rel);
	if (!rc)
		rc = sync_fetch_file(from, rel, dest, SYNC_MAX_INDEX, 0);
	if (!rc && stat(dest, &st) == 0) {
		r->files++;
		r->bytes += (uint64_t)st.st_size;
	}
	free(dest);
	return rc;
}

/* Copies an object into the export folder, unless there: named by its
 * content, an object already on the stick is the same object. */
static int copy_object(kho_export_report *r, const char *from, const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *dest = malloc(n);
	if (!dest)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(dest, n, "%s/%s", dir, rel);
	struct stat st;
	bool there = stat(dest, &st) == 0;
	free(dest);
	return there ? KHO_OK : fetch_into(r, from, dir, rel, rel);
}

/* The catalog and its signature, fetched again every time (a stick used
 * before holds an older one), under temporary names, then renamed in the
 * order a publish uses: signature first, then the catalog. */
static int refresh_catalog(kho_export_report *r, const char *from, const char *dir)
{
	int rc = fetch_into(r, from, dir, "catalog.json", "catalog.json.new");
	if (!rc)
		rc = fetch_into(r, from, dir, "catalog.json.minisig", "catalog.json.minisig.new");
	size_t n = strlen(dir) + 40;
	char *a = malloc(n), *b = malloc(n), *c = malloc(n), *d = malloc(n);
	if (!rc && (!a || !b || !c || !d))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		snprintf(a, n, "%s/catalog.json.minisig.new", dir);
		snprintf(b, n, "%s/catalog.json.minisig", dir);
		snprintf(c, n, "%s/catalog.json.new", dir);
		snprintf(d, n, "%s/catalog.json", dir);
		if (rename(a, b) || rename(c, d))
			rc = kho_error_set(KHO_EIO, "cannot replace the catalog in %s", dir);
	}
	free(a);
	free(b);
	free(c);
	free(d);
	return rc;
}

/* A version's index on the stick, checked against the catalog's hash: one
 * already there that does not match (from another repository, or damaged)
 * is fetched again. */
static int export_index(json_t **index, kho_export_report *r, const char *from, const char *dir,
	json_t *version)
{
	const char *rel = json_string_value(json_object_get(version, "index"));
	const char *hash = json_string_value(json_object_get(version, "index_hash"));
	int rc = sync_index_load(index, dir, rel, hash);
	if (rc) {
		kho_error_clear();
		rc = fetch_into(r, from, dir, rel, rel);
		if (!rc)
			rc = sync_index_load(index, dir, rel, hash);
	}
	return rc;
}

int kho_sync_export(kho_export_report *out, const char *state_path, const char *from,
	const char *dir)
{
	*out = (kho_export_report){ 0 };
	if (!from[0] || !dir[0])
		return kho_error_set(KHO_EINVALID, "name the repository and the folder to write");
	json_t *state = NULL, *catalog = NULL;
	int lock = -1;
	int rc = load_state(&state, state_path);
	/* one export into a folder at a time */
	if (!rc)
		rc = sync_lock(&lock, dir, SYNC_REPO_LOCK, "another kho export");
	/* the catalog as the repository has it, and its signature: the box checks them */
	if (!rc)
		rc = refresh_catalog(out, from, dir);
	if (!rc && (rc = sync_catalog_load(&catalog, dir, NULL, 0)) == KHO_OK && !catalog)
		rc = kho_error_set(KHO_ENOTFOUND, "%s is not a kho repository", from);
	/* the box's subscriptions and files */
	size_t n_subs = 0, n_files = 0, i;
	json_t *v;
	json_t *jsubs = state ? json_object_get(state, "subscriptions") : NULL;
	kho_subscription *subs = calloc(json_array_size(jsubs) + 1, sizeof *subs);
	json_array_foreach(jsubs, i, v) {
		const char *pattern = json_string_value(json_object_get(v, "pattern"));
		if (!pattern || !subs)
			continue;
		subs[n_subs++] = (kho_subscription){ (char *)pattern,
			or_empty(json_string_value(json_object_get(v, "subject"))),
			or_empty(json_string_value(json_object_get(v, "grade"))),
			or_empty(json_string_value(json_object_get(v, "lang"))), 0 };
	}
	json_t *jfiles = state ? json_object_get(state, "files") : NULL;
	const char **files = calloc(json_array_size(jfiles) + 1, sizeof *files);
	json_array_foreach(jfiles, i, v)
		if (files && json_string_value(v))
			files[n_files++] = json_string_value(v);
	if (!rc && (!subs || !files))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (files)
		qsort(files, n_files, sizeof *files, hex_cmp);
	json_t *pack;
	json_array_foreach(rc ? NULL : json_object_get(catalog, "packs"), i, pack) {
		json_t *versions = json_object_get(pack, "versions");
		json_t *newest = json_array_get(versions, json_array_size(versions) - 1);
		const char *id = json_string_value(json_object_get(pack, "id"));
		json_int_t have = json_integer_value(json_object_get(json_object_get(state, "packs"), id));
		if (rc || !newest || !sync_subscribed(pack, catalog, subs, n_subs) ||
		    json_integer_value(json_object_get(newest, "version")) <= have)
			continue;
		json_t *index = NULL;
		if ((rc = export_index(&index, out, from, dir, newest)))
			break;
		out->versions++;
		size_t k, c;
		json_t *f, *chunk;
		json_array_foreach(json_object_get(index, "files"), k, f) {
			const char *hash = json_string_value(json_object_get(f, "hash"));
			if (bsearch(&hash, files, n_files, sizeof *files, hex_cmp))
				continue;
			json_array_foreach(json_object_get(f, "chunks"), c, chunk) {
				const char *h = json_string_value(json_array_get(chunk, 0));
				char orel[KHO_HASH_HEX_SIZE + 16];
				snprintf(orel, sizeof orel, "objects/%.2s/%s.zst", h, h);
				if (!rc)
					rc = copy_object(out, from, dir, orel);
			}
		}
		json_decref(index);
	}
	free(subs);
	free(files);
	json_decref(catalog);
	json_decref(state);
	sync_unlock(lock);
	return rc;
}
