/*
 * repo-catalog.c — catalog.json and the pack indexes (REPOSITORY.md): read
 * with their signature or hash checked first, then parsed (jansson, no
 * duplicate keys) and checked for the shape the format gives them; written
 * whole, the catalog signed before it is renamed into place.
 */
#include "sync-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int parse(json_t **out, const char *text, size_t len, const char *what)
{
	json_error_t err;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return kho_error_set(KHO_ECORRUPT, "%s is not a JSON object (line %d: %s)", what,
			err.line, err.text);
	}
	return KHO_OK;
}

bool sync_is_hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

bool sync_pack_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 3 || n > 128 || id[0] == '.' || id[0] == '-' || id[n - 1] == '.' || strstr(id, ".."))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

/* An index's path in the catalog: a canonical relative path under packs/,
 * ending .json, named once in the whole catalog (`seen`), so that a box
 * can fetch it and keep it in its mirror without leaving either folder. */
static bool index_rel_ok(const char *rel, json_t *seen)
{
	if (!rel || strncmp(rel, "packs/", 6) || strlen(rel) < 12 ||
	    strcmp(rel + strlen(rel) - 5, ".json") || !kho_path_is_safe(rel) ||
	    json_object_get(seen, rel))
		return false;
	json_object_set_new(seen, rel, json_true());
	return true;
}

/* A version's optional "delta": {from, index, index_hash}, checked as the
 * version's own index is. */
static bool delta_ok(json_t *delta, json_int_t version, json_t *seen)
{
	if (!delta || json_is_null(delta))
		return true;
	json_t *from = json_object_get(delta, "from");
	return json_is_object(delta) && json_is_integer(from) && json_integer_value(from) > 0 &&
		json_integer_value(from) < version &&
		index_rel_ok(json_string_value(json_object_get(delta, "index")), seen) &&
		sync_is_hex64(json_string_value(json_object_get(delta, "index_hash")));
}

/* One pack's versions: positive, strictly increasing (oldest first), each
 * with a well-formed index and delta. */
static int check_versions(json_t *versions, const char *id, json_t *seen)
{
	size_t j;
	json_t *v;
	json_int_t last = 0;
	json_array_foreach(versions, j, v) {
		json_t *version = json_object_get(v, "version");
		json_int_t n = json_integer_value(version);
		if (!json_is_integer(version) || n <= last ||
		    !index_rel_ok(json_string_value(json_object_get(v, "index")), seen) ||
		    !sync_is_hex64(json_string_value(json_object_get(v, "index_hash"))) ||
		    !delta_ok(json_object_get(v, "delta"), n, seen))
			return kho_error_set(KHO_ECORRUPT, "catalog.json: a version of %s is malformed", id);
		last = n;
	}
	return KHO_OK;
}

/* The catalog's shape: every field REPOSITORY.md lists, of its type; pack
 * ids as the manifest rules allow them, each once; index paths that stay
 * inside the repository, each once. */
static int check_catalog(json_t *c)
{
	const char *format = json_string_value(json_object_get(c, "format"));
	json_t *packs = json_object_get(c, "packs");
	if (!format || strcmp(format, "kho-repository-1"))
		return kho_error_set(KHO_ECORRUPT, "catalog.json: not format kho-repository-1");
	if (!json_is_integer(json_object_get(c, "serial")) || !json_is_array(packs))
		return kho_error_set(KHO_ECORRUPT, "catalog.json: no serial or packs");
	json_t *ids = json_object(), *indexes = json_object();
	int rc = ids && indexes ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	size_t i;
	json_t *p;
	json_array_foreach(packs, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		json_t *versions = json_object_get(p, "versions");
		if (rc)
			break;
		if (!id || !json_is_array(versions))
			rc = kho_error_set(KHO_ECORRUPT, "catalog.json: pack %zu has no id or versions", i);
		else if (!sync_pack_id_ok(id))
			rc = kho_error_set(KHO_EUNSAFE, "catalog.json: '%.140s' is not a pack id", id);
		else if (json_object_get(ids, id))
			rc = kho_error_set(KHO_ECORRUPT, "catalog.json: pack %s is listed twice", id);
		else if (!(rc = check_versions(versions, id, indexes)))
			json_object_set_new(ids, id, json_true());
	}
	json_decref(ids);
	json_decref(indexes);
	return rc ? rc : sync_check_popular(json_object_get(c, "popular"), "catalog.json");
}

int sync_catalog_parse(json_t **out, const char *text, size_t len)
{
	int rc = parse(out, text, len, "catalog.json");
	if (!rc && (rc = check_catalog(*out))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int sync_catalog_load(json_t **out, const char *repo, const kho_public_key *keys, size_t n_keys)
{
	*out = NULL;
	char *text;
	size_t len;
	int rc = sync_read_file(&text, &len, repo, "catalog.json");
	if (rc == KHO_ENOTFOUND) {
		kho_error_clear();
		return KHO_OK;
	}
	if (rc)
		return rc;
	if (keys) {
		size_t n = strlen(repo) + 40;
		char *path = malloc(n), *sig = malloc(n);
		if (!path || !sig)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
		if (!rc) {
			snprintf(path, n, "%s/catalog.json", repo);
			snprintf(sig, n, "%s/catalog.json.minisig", repo);
			rc = kho_verify_file(NULL, NULL, path, sig, keys, n_keys);
			if (rc == KHO_ENOTFOUND && access(sig, F_OK))
				rc = kho_error_set(KHO_ESIGNATURE, "catalog.json.minisig is missing");
			else if (rc == KHO_ENOTFOUND)
				rc = kho_error_set(KHO_ESIGNATURE, "catalog.json: %s", kho_error_last());
		}
		free(path);
		free(sig);
	}
	if (!rc)
		rc = sync_catalog_parse(out, text, len);
	free(text);
	return rc;
}

int sync_catalog_save(const char *repo, json_t *catalog, const kho_secret_key *sec)
{
	char *text = json_dumps(catalog, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	size_t n = strlen(repo) + 48;
	char *path = malloc(n), *tmp = malloc(n), *sig = malloc(n), *sig_tmp = malloc(n);
	int rc = path && tmp && sig && sig_tmp ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		snprintf(path, n, "%s/catalog.json", repo);
		snprintf(tmp, n, "%s/catalog.json.new", repo);
		snprintf(sig, n, "%s/catalog.json.minisig", repo);
		snprintf(sig_tmp, n, "%s/catalog.json.minisig.new", repo);
		char comment[128];
		snprintf(comment, sizeof comment, "kho repository catalog, serial %lld",
			(long long)json_integer_value(json_object_get(catalog, "serial")));
		/* signature of the new catalog first, both under temporary names */
		rc = sync_write_file(repo, "catalog.json.new", text);
		if (!rc)
			rc = kho_sign_file(tmp, sig_tmp, sec, comment);
		if (!rc && (rename(sig_tmp, sig) || rename(tmp, path)))
			rc = kho_error_set(KHO_EIO, "cannot replace %s", path);
	}
	free(path);
	free(tmp);
	free(sig);
	free(sig_tmp);
	free(text);
	return rc;
}

/* A chunk [hash, size, stored]: a chunk is at most SYNC_SMALL_FILE bytes, and
 * its object at most SYNC_MAX_OBJECT as stored. */
static bool chunk_ok(json_t *c)
{
	json_t *size = json_array_get(c, 1), *stored = json_array_get(c, 2);
	return json_array_size(c) == 3 && sync_is_hex64(json_string_value(json_array_get(c, 0))) &&
		json_is_integer(size) && json_integer_value(size) > 0 &&
		json_integer_value(size) <= (json_int_t)SYNC_SMALL_FILE &&
		json_is_integer(stored) && json_integer_value(stored) > 0 &&
		json_integer_value(stored) <= (json_int_t)SYNC_MAX_OBJECT;
}

/* A file's optional "patch": [base hash, stored size], only on a file small
 * enough to be one object. */
static bool patch_ok(json_t *patch, json_int_t size)
{
	json_t *stored = json_array_get(patch, 1);
	return !patch || (json_array_size(patch) == 2 && size <= (json_int_t)SYNC_SMALL_FILE &&
		sync_is_hex64(json_string_value(json_array_get(patch, 0))) &&
		json_is_integer(stored) && json_integer_value(stored) > 0 &&
		json_integer_value(stored) <= (json_int_t)SYNC_MAX_OBJECT);
}

/* One file of an index: a canonical path after `prev` (sorted, each once), a
 * size that its chunks add up to (one chunk up to SYNC_SMALL_FILE bytes, none
 * for an empty file), its hash, and a well-formed patch. */
static bool file_ok(json_t *f, const char *prev)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	json_t *size = json_object_get(f, "size"), *chunks = json_object_get(f, "chunks");
	if (!path || !kho_path_is_safe(path) || (prev && strcmp(prev, path) >= 0) ||
	    !json_is_integer(size) || json_integer_value(size) < 0 ||
	    !sync_is_hex64(json_string_value(json_object_get(f, "hash"))) ||
	    !json_is_array(chunks) || !patch_ok(json_object_get(f, "patch"), json_integer_value(size)))
		return false;
	json_int_t want = json_integer_value(size), total = 0;
	size_t n = json_array_size(chunks), j;
	json_t *c;
	if (want <= (json_int_t)SYNC_SMALL_FILE ? n != (want > 0) : n < 2)
		return false;
	json_array_foreach(chunks, j, c) {
		if (!chunk_ok(c))
			return false;
		total += json_integer_value(json_array_get(c, 1)); /* ≤ 1 MiB each: no overflow */
		if (total > want)
			return false;
	}
	return total == want;
}

/* The index's shape: format, pack, version, and every file (file_ok). */
static int check_index(json_t *index, const char *rel)
{
	const char *format = json_string_value(json_object_get(index, "format"));
	json_t *files = json_object_get(index, "files");
	if (!format || strcmp(format, "kho-pack-index-1") || !json_is_array(files) ||
	    !json_string_value(json_object_get(index, "pack")) ||
	    !json_is_integer(json_object_get(index, "version")))
		return kho_error_set(KHO_ECORRUPT, "%s: not a kho-pack-index-1 with files", rel);
	const char *prev = NULL;
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		if (!file_ok(f, prev))
			return kho_error_set(KHO_ECORRUPT, "%s: file %zu is malformed (its path, size, "
				"hash, chunks or patch, or not in path order)", rel, i);
		prev = json_string_value(json_object_get(f, "path"));
	}
	return KHO_OK;
}

int sync_index_parse(json_t **out, const char *text, size_t len, const char *rel)
{
	int rc = parse(out, text, len, rel);
	if (!rc && (rc = check_index(*out, rel))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int sync_index_load(json_t **out, const char *repo, const char *rel, const char *hash_hex)
{
	*out = NULL;
	if (!rel || !sync_is_hex64(hash_hex))
		return kho_error_set(KHO_ECORRUPT, "an index without a path or hash");
	char *text;
	size_t len;
	int rc = sync_read_file(&text, &len, repo, rel);
	if (rc)
		return rc;
	kho_hash h;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_buffer(&h, text, len);
	kho_hash_to_hex(hex, &h);
	if (strcmp(hex, hash_hex))
		rc = kho_error_set(KHO_ECORRUPT, "%s does not match the hash the catalog gives for it",
			rel);
	if (!rc)
		rc = sync_index_parse(out, text, len, rel);
	free(text);
	return rc;
}

int sync_catalog_lock(json_t **catalog, int *lock, const char *repo, const kho_secret_key *sec)
{
	*catalog = NULL;
	kho_public_key pub;
	memcpy(pub.id, sec->id, KHO_KEY_ID_SIZE);
	memcpy(pub.key, sec->key + 32, 32);
	int rc = sync_lock(lock, repo, SYNC_REPO_LOCK, "another kho publish, repo bundle or gc");
	if (!rc)
		rc = sync_catalog_load(catalog, repo, &pub, 1);
	if (!rc && !*catalog)
		rc = kho_error_set(KHO_ENOTFOUND, "%s is not a kho repository (publish a pack first)",
			repo);
	if (rc) {
		sync_unlock(*lock);
		*lock = -1;
	}
	return rc;
}

int sync_catalog_edit(int64_t *serial, const char *repo, const kho_secret_key *sec,
	int (*edit)(json_t *catalog, void *payload), void *payload)
{
	*serial = 0;
	json_t *catalog = NULL;
	int lock = -1;
	int rc = sync_catalog_lock(&catalog, &lock, repo, sec);
	if (!rc)
		rc = edit(catalog, payload);
	if (!rc) {
		*serial = json_integer_value(json_object_get(catalog, "serial")) + 1;
		json_object_set_new(catalog, "serial", json_integer(*serial));
		json_object_set_new(catalog, "created", json_integer(time(NULL)));
		rc = sync_catalog_save(repo, catalog, sec);
	}
	json_decref(catalog);
	sync_unlock(lock);
	return rc;
}
