/*
 * repo-publish.c — `kho publish`: each pack version becomes an index of its
 * files and their chunks, every chunk an object (REPOSITORY.md); objects and
 * chunks already in the repository are not written again, so a new version
 * adds only what changed. The catalog is re-signed once, at the end, and
 * only when something was added.
 */
#include "sync-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The public half of a secret key (libsodium keeps it in the last 32 bytes). */
static void public_of(kho_public_key *pub, const kho_secret_key *sec)
{
	memcpy(pub->id, sec->id, KHO_KEY_ID_SIZE);
	memcpy(pub->key, sec->key + 32, 32);
}

/* ------------------------------------------------------- one file's chunks */

typedef struct file_writer {
	const char *repo;
	kho_publish_report *report;
	kho_hasher whole;          /* the file's own hash */
	unsigned char *buf;        /* bytes not yet cut into chunks */
	size_t len, cap;
	bool chunked;              /* a large file: content-defined chunks */
	json_t *chunks;            /* [[hash, size], …] */
	int rc;
} file_writer;

static int put_chunk(file_writer *w, size_t n)
{
	kho_hash h;
	bool added;
	uint64_t stored;
	int rc = sync_object_put(&h, &added, &stored, w->repo, w->buf, n);
	if (rc)
		return rc;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(hex, &h);
	json_array_append_new(w->chunks, json_pack("[s, I, I]", hex, (json_int_t)n,
		(json_int_t)stored));
	if (added) {
		w->report->objects_added++;
		w->report->bytes_added += stored;
	} else {
		w->report->objects_reused++;
	}
	memmove(w->buf, w->buf + n, w->len - n);
	w->len -= n;
	return KHO_OK;
}

static int cut_chunks(file_writer *w, bool last)
{
	while (w->len > 0) {
		size_t n = w->chunked ? sync_chunk_cut(w->buf, w->len, last) : (last ? w->len : 0);
		if (!n)
			return KHO_OK;
		int rc = put_chunk(w, n);
		if (rc)
			return rc;
	}
	return KHO_OK;
}

static int sink(void *payload, const void *data, size_t len)
{
	file_writer *w = payload;
	kho_hasher_update(&w->whole, data, len);
	const unsigned char *p = data;
	while (len > 0 && !w->rc) {
		size_t room = w->cap - w->len, n = len < room ? len : room;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (w->len == w->cap) {
			if (!w->chunked) /* a small file larger than it said */
				return w->rc = kho_error_set(KHO_ECORRUPT, "a file is larger than declared");
			w->rc = cut_chunks(w, false);
		}
	}
	return w->rc;
}

/* The index entry of file `i` of `pack`, its chunks written as objects. */
static int index_file(json_t **out, kho_pack *pack, size_t i, const char *repo,
	kho_publish_report *report)
{
	uint64_t size = kho_pack_entry_size(pack, i);
	file_writer w = { .repo = repo, .report = report, .chunked = size > SYNC_SMALL_FILE };
	w.cap = w.chunked ? 2 * SYNC_MAX_CHUNK : (size_t)size + 1;
	w.buf = malloc(w.cap);
	w.chunks = json_array();
	if (!w.buf || !w.chunks) {
		free(w.buf);
		json_decref(w.chunks);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	kho_hasher_init(&w.whole);
	int rc = kho_pack_entry_read(pack, i, sink, &w);
	if (!rc)
		rc = w.rc ? w.rc : cut_chunks(&w, true);
	free(w.buf);
	if (rc) {
		json_decref(w.chunks);
		return rc;
	}
	kho_hash h;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hasher_final(&w.whole, &h);
	kho_hash_to_hex(hex, &h);
	*out = json_pack("{s:s, s:I, s:s, s:o}", "path", kho_pack_entry_name(pack, i),
		"size", (json_int_t)size, "hash", hex, "chunks", w.chunks);
	return *out ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
}

/* ------------------------------------------------------ one pack version */

static json_t *find_pack(json_t *packs, const char *id)
{
	size_t i;
	json_t *p;
	json_array_foreach(packs, i, p)
		if (!strcmp(json_string_value(json_object_get(p, "id")), id))
			return p;
	return NULL;
}

static json_t *find_version(json_t *pack, int64_t version)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(pack, "versions"), i, v)
		if (json_integer_value(json_object_get(v, "version")) == version)
			return v;
	return NULL;
}

static json_t *strings(char **items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

static json_t *integers(const int *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(items[i]));
	return a;
}

/* Writes the delta of `index` from the newest published version older than
 * `version` (if any), packs/ID/VERSION.from-BASE.json; *out gets its
 * catalog entry {"from", "index", "index_hash"}. */
/* The catalog entry of the newest version of `pack` older than `version`. */
static json_t *newest_before(json_t *pack, int64_t version)
{
	json_t *base_entry = NULL;
	size_t i;
	json_t *v;
	json_array_foreach(pack ? json_object_get(pack, "versions") : NULL, i, v) {
		json_int_t n = json_integer_value(json_object_get(v, "version"));
		if (n < version && (!base_entry ||
		    n > json_integer_value(json_object_get(base_entry, "version"))))
			base_entry = v;
	}
	return base_entry;
}

/* For each small file that changed since the previous version (same path,
 * other content), a patch object: the new content compressed with the old as
 * zstd's prefix, kept when smaller than the file's own object; its entry
 * gets "patch": [BASE_HASH, STORED]. A box that holds the old file fetches
 * the patch (a sentence added to a lesson: tens of bytes). */
static int add_patches(const char *repo, json_t *pack, json_t *index, int64_t version,
	kho_publish_report *report)
{
	json_t *base_entry = newest_before(pack, version), *base = NULL;
	if (!base_entry)
		return KHO_OK;
	if (sync_index_load(&base, repo, json_string_value(json_object_get(base_entry, "index")),
		json_string_value(json_object_get(base_entry, "index_hash")))) {
		kho_error_clear();
		return KHO_OK;
	}
	json_t *old_by_path = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(base, "files"), i, f)
		json_object_set(old_by_path, json_string_value(json_object_get(f, "path")), f);
	int rc = KHO_OK;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		json_t *old = json_object_get(old_by_path, json_string_value(json_object_get(f, "path")));
		json_t *chunks = json_object_get(f, "chunks"), *old_chunks = json_object_get(old, "chunks");
		const char *new_hex = json_string_value(json_object_get(f, "hash"));
		const char *old_hex = json_string_value(json_object_get(old, "hash"));
		if (rc || !old || json_array_size(chunks) != 1 || json_array_size(old_chunks) != 1 ||
		    !strcmp(new_hex, old_hex))
			continue;
		size_t size = (size_t)json_integer_value(json_object_get(f, "size"));
		size_t old_size = (size_t)json_integer_value(json_object_get(old, "size"));
		uint64_t full = (uint64_t)json_integer_value(json_array_get(json_array_get(chunks, 0), 2));
		kho_hash nh, oh;
		unsigned char *data = NULL, *base_data = NULL;
		if (kho_hash_from_hex(&nh, new_hex) || kho_hash_from_hex(&oh, old_hex) ||
		    sync_object_read(&data, repo, &nh, size) ||
		    sync_object_read(&base_data, repo, &oh, old_size)) {
			kho_error_clear(); /* an object missing: no patch */
			free(data);
			free(base_data);
			continue;
		}
		uint64_t stored = 0;
		rc = sync_patch_put(&stored, repo, new_hex, old_hex, data, size, base_data, old_size);
		if (!rc && stored < full) {
			json_object_set_new(f, "patch", json_pack("[s, I]", old_hex, (json_int_t)stored));
			report->bytes_added += stored;
		} else if (!rc) { /* no smaller than the object itself: not worth it */
			char *rel = sync_patch_rel(new_hex, old_hex);
			size_t n = strlen(repo) + (rel ? strlen(rel) : 0) + 2;
			char *path = rel ? malloc(n) : NULL;
			if (path) {
				snprintf(path, n, "%s/%s", repo, rel);
				remove(path);
			}
			free(path);
			free(rel);
		}
		free(data);
		free(base_data);
	}
	json_decref(old_by_path);
	json_decref(base);
	return rc;
}

static int write_delta(json_t **out, const char *repo, json_t *pack, json_t *index,
	int64_t version)
{
	*out = NULL;
	json_t *base_entry = newest_before(pack, version);
	if (!base_entry)
		return KHO_OK;
	const char *base_hash = json_string_value(json_object_get(base_entry, "index_hash"));
	json_t *base = NULL;
	if (sync_index_load(&base, repo, json_string_value(json_object_get(base_entry, "index")),
		base_hash)) {
		kho_error_clear(); /* no base to diff from (collected): no delta */
		return KHO_OK;
	}
	json_t *delta = sync_index_delta(base, base_hash, index);
	char *text = delta ? sync_index_text(delta) : NULL;
	json_decref(delta);
	json_decref(base);
	if (!text)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	char rel[700], hex[KHO_HASH_HEX_SIZE];
	snprintf(rel, sizeof rel, "packs/%s/%lld.from-%lld.json",
		json_string_value(json_object_get(index, "pack")), (long long)version,
		(long long)json_integer_value(json_object_get(base_entry, "version")));
	kho_hash h;
	kho_hash_buffer(&h, text, strlen(text));
	kho_hash_to_hex(hex, &h);
	int rc = sync_write_file(repo, rel, text);
	free(text);
	if (!rc)
		*out = json_pack("{s:O, s:s, s:s}", "from", json_object_get(base_entry, "version"),
			"index", rel, "index_hash", hex);
	return rc;
}

static int publish_one(json_t *catalog, const char *repo, const char *path,
	kho_publish_report *report)
{
	kho_pack *pack = NULL;
	int rc = kho_pack_open(&pack, path);
	if (rc)
		return rc;
	const kho_manifest *m = kho_pack_manifest(pack);
	json_t *files = json_array();
	uint64_t bytes = 0;
	for (size_t i = 0; !rc && i < kho_pack_entry_count(pack); i++) {
		json_t *f = NULL;
		if (!(rc = index_file(&f, pack, i, repo, report))) {
			bytes += kho_pack_entry_size(pack, i);
			json_array_append_new(files, f);
		}
	}
	json_t *index = rc ? NULL : json_pack("{s:s, s:s, s:I, s:O}", "format", "kho-pack-index-1",
		"pack", m->id, "version", (json_int_t)m->version, "files", files);
	json_decref(files);
	if (!rc && index)
		rc = add_patches(repo, find_pack(json_object_get(catalog, "packs"), m->id), index,
			m->version, report);
	char *text = index ? sync_index_text(index) : NULL;
	if (!rc && !text)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	char hex[KHO_HASH_HEX_SIZE], rel[600];
	if (!rc) {
		kho_hash h;
		kho_hash_buffer(&h, text, strlen(text));
		kho_hash_to_hex(hex, &h);
		snprintf(rel, sizeof rel, "packs/%s/%lld.json", m->id, (long long)m->version);
	}
	json_t *packs = json_object_get(catalog, "packs");
	json_t *entry = rc ? NULL : find_pack(packs, m->id);
	json_t *old = entry ? find_version(entry, m->version) : NULL;
	if (!rc && old) {
		if (strcmp(json_string_value(json_object_get(old, "index_hash")), hex))
			rc = kho_error_set(KHO_EVERSION, "%s version %lld is already in the repository with "
				"other content; publish it as a new version", m->id, (long long)m->version);
		else
			report->versions_unchanged++;
		json_decref(index);
		free(text);
		kho_pack_free(pack);
		return rc;
	}
	if (!rc)
		rc = sync_write_file(repo, rel, text);
	free(text);
	json_t *delta = NULL;
	if (!rc && entry)
		rc = write_delta(&delta, repo, entry, index, m->version);
	json_decref(index);
	if (!rc) {
		if (!entry) {
			entry = json_pack("{s:s, s:[]}", "id", m->id, "versions");
			json_array_append_new(packs, entry);
		}
		json_t *versions = json_object_get(entry, "versions");
		json_t *added = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I}",
			"version", (json_int_t)m->version, "index", rel, "index_hash", hex,
			"files", (json_int_t)kho_pack_entry_count(pack), "bytes", (json_int_t)bytes,
			"lessons", (json_int_t)m->n_lessons, "published", (json_int_t)time(NULL));
		if (delta)
			json_object_set_new(added, "delta", delta);
		json_array_append_new(versions, added);
		/* the newest version describes the pack */
		int64_t newest = 0;
		size_t i;
		json_t *v;
		json_array_foreach(versions, i, v)
			if (json_integer_value(json_object_get(v, "version")) > newest)
				newest = json_integer_value(json_object_get(v, "version"));
		if (newest == m->version) {
			json_object_set_new(entry, "title", json_string(m->title));
			json_object_set_new(entry, "lang", json_string(m->lang));
			json_object_set_new(entry, "subjects", strings(m->subjects, m->n_subjects));
			json_object_set_new(entry, "grades", integers(m->grades, m->n_grades));
		}
		report->versions_added++;
	}
	kho_pack_free(pack);
	return rc;
}

/* Versions oldest first, packs by id: the catalog reads the same whatever
 * order packs were published in. */
static int by_version(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "version"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "version"));
	return x < y ? -1 : x > y;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
		json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

static void sort_array(json_t *array, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(array);
	json_t **items = malloc((n ? n : 1) * sizeof *items);
	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(array, i));
	qsort(items, n, sizeof *items, cmp);
	json_array_clear(array);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(array, items[i]);
	free(items);
}

void sync_catalog_sort(json_t *catalog)
{
	json_t *packs = json_object_get(catalog, "packs");
	sort_array(packs, by_id);
	size_t i;
	json_t *p;
	json_array_foreach(packs, i, p)
		sort_array(json_object_get(p, "versions"), by_version);
}

int kho_repo_publish(kho_publish_report *out, const char *repo, const kho_secret_key *sec,
	const char *const *packs, size_t n_packs)
{
	*out = (kho_publish_report){ 0 };
	kho_public_key pub;
	public_of(&pub, sec);
	json_t *catalog = NULL;
	int lock = -1;
	int rc = sync_make_dirs(repo, "objects/x");
	if (!rc)
		rc = sync_lock(&lock, repo, SYNC_REPO_LOCK, "another kho publish, repo bundle or gc");
	if (!rc && (rc = sync_catalog_load(&catalog, repo, &pub, 1)) == KHO_ESIGNATURE)
		rc = kho_error_set(KHO_ESIGNATURE, "%s: %s (one repository, one publisher key)", repo,
			kho_error_last());
	if (rc) {
		sync_unlock(lock);
		return rc;
	}
	char id[KHO_KEY_ID_HEX_SIZE];
	kho_key_id_hex(id, sec->id);
	if (!catalog)
		catalog = json_pack("{s:s, s:I, s:[]}", "format", "kho-repository-1", "serial",
			(json_int_t)0, "packs");
	for (size_t i = 0; !rc && i < n_packs; i++)
		if ((rc = publish_one(catalog, repo, packs[i], out)))
			rc = kho_error_set(rc, "%s: %s", packs[i], kho_error_last());
	out->serial = json_integer_value(json_object_get(catalog, "serial"));
	if (!rc && out->versions_added) {
		out->serial++;
		json_object_set_new(catalog, "serial", json_integer(out->serial));
		json_object_set_new(catalog, "created", json_integer(time(NULL)));
		json_object_set_new(catalog, "key_id", json_string(id));
		sync_catalog_sort(catalog);
		rc = sync_catalog_save(repo, catalog, sec);
	}
	json_decref(catalog);
	sync_unlock(lock);
	return rc;
}
