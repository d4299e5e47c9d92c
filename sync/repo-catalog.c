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

static bool is_hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* The catalog's shape: every field REPOSITORY.md lists, of its type. */
static int check_catalog(json_t *c)
{
	const char *format = json_string_value(json_object_get(c, "format"));
	json_t *packs = json_object_get(c, "packs");
	if (!format || strcmp(format, "kho-repository-1"))
		return kho_error_set(KHO_ECORRUPT, "catalog.json: not format kho-repository-1");
	if (!json_is_integer(json_object_get(c, "serial")) || !json_is_array(packs))
		return kho_error_set(KHO_ECORRUPT, "catalog.json: no serial or packs");
	size_t i, j;
	json_t *p, *v;
	json_array_foreach(packs, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		json_t *versions = json_object_get(p, "versions");
		if (!id || !json_is_array(versions))
			return kho_error_set(KHO_ECORRUPT, "catalog.json: pack %zu has no id or versions", i);
		json_array_foreach(versions, j, v) {
			const char *index = json_string_value(json_object_get(v, "index"));
			if (!json_is_integer(json_object_get(v, "version")) || !index ||
			    strstr(index, "..") || index[0] == '/' ||
			    !is_hex64(json_string_value(json_object_get(v, "index_hash"))))
				return kho_error_set(KHO_ECORRUPT, "catalog.json: a version of %s is malformed",
					id);
		}
	}
	return KHO_OK;
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
		rc = parse(out, text, len, "catalog.json");
	free(text);
	if (!rc && (rc = check_catalog(*out))) {
		json_decref(*out);
		*out = NULL;
	}
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

int sync_index_load(json_t **out, const char *repo, const char *rel, const char *hash_hex)
{
	*out = NULL;
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
		rc = parse(out, text, len, rel);
	free(text);
	json_t *files = *out ? json_object_get(*out, "files") : NULL;
	const char *format = *out ? json_string_value(json_object_get(*out, "format")) : NULL;
	if (!rc && (!format || strcmp(format, "kho-pack-index-1") || !json_is_array(files)))
		rc = kho_error_set(KHO_ECORRUPT, "%s: not a kho-pack-index-1 with files", rel);
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		if (rc)
			break;
		json_t *chunks = json_object_get(f, "chunks");
		if (!json_string_value(json_object_get(f, "path")) ||
		    !json_is_integer(json_object_get(f, "size")) ||
		    !is_hex64(json_string_value(json_object_get(f, "hash"))) || !json_is_array(chunks))
			rc = kho_error_set(KHO_ECORRUPT, "%s: file %zu is malformed", rel, i);
		size_t j;
		json_t *c;
		json_array_foreach(chunks, j, c) {
			if (!rc && (json_array_size(c) != 3 || json_integer_value(json_array_get(c, 2)) <= 0 ||
			    !is_hex64(json_string_value(json_array_get(c, 0))) ||
			    json_integer_value(json_array_get(c, 1)) <= 0 ||
			    json_integer_value(json_array_get(c, 1)) > (json_int_t)SYNC_SMALL_FILE))
				rc = kho_error_set(KHO_ECORRUPT, "%s: a chunk of file %zu is malformed", rel, i);
		}
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
