/*
 * server-repo.c — /repo/: this box's packs offered to its neighbours as a
 * repository (sync/REPOSITORY.md), so that a school syncs from the box next
 * door over the LAN: `kho sync --from http://BOX:8080/repo/`. The signed
 * catalog and the indexes are those of the box's last sync ($KHO_HOME/repo,
 * kept by kho_sync_finish()); an object is made on request from the blob
 * store and compressed with zstd. Only the objects that the mirror's
 * indexes name are offered — listed once per catalog, with where each lies
 * (a small file is its own chunk; a chunk of a large file is a range of
 * it) — so a hash that no synced version names finds nothing, whatever the
 * blob store holds. The neighbour checks everything against the
 * publisher's signature, as from the centre. Packs imported by hand,
 * without a repository, are not offered: nothing signed vouches for them.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "server.h"

#define OBJECT_LEVEL 3          /* fast: the LAN is not the bottleneck */
#define MAX_CHUNK (1u << 20)    /* as sync/'s SYNC_SMALL_FILE */

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) >= n && strspn(s, "0123456789abcdef") >= n;
}

/* A file of the mirror: the catalog, its signature or an index. */
static enum MHD_Result send_mirror_file(server_request *r, const char *home, const char *rel,
	const char *mime)
{
	size_t n = strlen(home) + strlen(rel) + 8;
	char *path = malloc(n);
	if (!path)
		return MHD_NO;
	snprintf(path, n, "%s/repo/%s", home, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return server_send_error(r, 404, "this box has no such repository file (it offers "
			"what it synced from a repository)");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	r->bytes = (uint64_t)st.st_size;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return server_send(r, 200, resp);
}

/* Reads `len` bytes at `offset` of the blob `hex`; NULL when absent. */
static unsigned char *read_blob(server_box *box, const char *hex, uint64_t offset, size_t len)
{
	kho_hash h;
	if (kho_hash_from_hex(&h, hex))
		return NULL;
	char *path = kho_blobs_path(kho_store_blobs(box->store), &h);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	unsigned char *data = fd >= 0 ? malloc(len ? len : 1) : NULL;
	if (data && pread(fd, data, len, (off_t)offset) != (ssize_t)len) {
		free(data);
		data = NULL;
	}
	if (fd >= 0)
		close(fd);
	return data;
}

/* ------------------------------------------------ the objects offered */

/* One object this box offers: a chunk that an index of the mirror names,
 * and where its bytes lie in the blob store. */
typedef struct offered {
	char hex[KHO_HASH_HEX_SIZE];   /* the chunk's hash: the object's name */
	char file[KHO_HASH_HEX_SIZE];  /* the file (blob) that holds it */
	uint64_t offset;
	size_t len;
} offered;

/* The objects offered, by name, for the mirror's catalog as it was when
 * they were listed (its inode, size and time: a sync replaces it whole).
 * Listed once per catalog, not per request; request threads share it. */
static struct {
	pthread_mutex_t lock;
	char *home;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	offered *items;
	size_t n, cap;
} offer = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int offered_cmp(const void *a, const void *b)
{
	return strcmp(((const offered *)a)->hex, ((const offered *)b)->hex);
}

static bool offer_add(const char *hex, const char *file, uint64_t offset, size_t len)
{
	if (offer.n == offer.cap) {
		size_t cap = offer.cap ? 2 * offer.cap : 1024;
		offered *grown = realloc(offer.items, cap * sizeof *grown);
		if (!grown)
			return false;
		offer.items = grown;
		offer.cap = cap;
	}
	offered *o = &offer.items[offer.n++];
	snprintf(o->hex, sizeof o->hex, "%s", hex);
	snprintf(o->file, sizeof o->file, "%s", file);
	o->offset = offset;
	o->len = len;
	return true;
}

/* The index REPO/`rel` of the mirror, if it is there and hashes to `hash`. */
static json_t *mirror_index(const char *home, const char *rel, const char *hash)
{
	if (!rel || !hash || strncmp(rel, "packs/", 6) || !kho_path_is_safe(rel))
		return NULL;
	size_t n = strlen(home) + strlen(rel) + 8;
	char *path = malloc(n), *text = NULL;
	if (path)
		snprintf(path, n, "%s/repo/%s", home, rel);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(path);
	struct stat st;
	json_t *index = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64 << 20) &&
	    (text = malloc((size_t)st.st_size + 1)) &&
	    read(fd, text, (size_t)st.st_size) == st.st_size) {
		kho_hash h;
		char hex[KHO_HASH_HEX_SIZE];
		kho_hash_buffer(&h, text, (size_t)st.st_size);
		kho_hash_to_hex(hex, &h);
		if (!strcmp(hex, hash))
			index = json_loadb(text, (size_t)st.st_size, JSON_REJECT_DUPLICATES, NULL);
	}
	if (fd >= 0)
		close(fd);
	free(text);
	return index;
}

/* Adds every chunk of an index's files, at its place in its file. */
static bool offer_index(json_t *index)
{
	size_t i, j;
	json_t *f, *c;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		const char *file = json_string_value(json_object_get(f, "hash"));
		uint64_t at = 0;
		json_array_foreach(json_object_get(f, "chunks"), j, c) {
			const char *ch = json_string_value(json_array_get(c, 0));
			json_int_t size = json_integer_value(json_array_get(c, 1));
			if (!file || !ch || size <= 0 || size > MAX_CHUNK || strlen(ch) != 64 ||
			    strlen(file) != 64)
				break;
			if (!offer_add(ch, file, at, (size_t)size))
				return false;
			at += (uint64_t)size;
		}
	}
	return true;
}

/* Lists anew the objects that the mirror's catalog leads to. */
static void offer_list(const char *home, const char *catalog_path)
{
	offer.n = 0;
	json_t *catalog = json_load_file(catalog_path, JSON_REJECT_DUPLICATES, NULL);
	size_t i, j;
	json_t *pack, *v;
	json_array_foreach(json_object_get(catalog, "packs"), i, pack) {
		json_array_foreach(json_object_get(pack, "versions"), j, v) {
			json_t *index = mirror_index(home, json_string_value(json_object_get(v, "index")),
				json_string_value(json_object_get(v, "index_hash")));
			bool ok = !index || offer_index(index);
			json_decref(index);
			if (!ok)
				break;
		}
	}
	json_decref(catalog);
	qsort(offer.items, offer.n, sizeof *offer.items, offered_cmp);
}

/* Where the offered object `hex` lies; false when this box does not offer
 * it (only what a signed catalog's indexes name is offered). */
static bool find_offered(const char *home, const char *hex, offered *out)
{
	size_t n = strlen(home) + 32;
	char *catalog = malloc(n);
	if (!catalog)
		return false;
	snprintf(catalog, n, "%s/repo/catalog.json", home);
	struct stat st;
	bool have = stat(catalog, &st) == 0;
	pthread_mutex_lock(&offer.lock);
	if (have && (!offer.home || strcmp(offer.home, home) || offer.ino != st.st_ino ||
	    offer.size != st.st_size || offer.mtime.tv_sec != st.st_mtim.tv_sec ||
	    offer.mtime.tv_nsec != st.st_mtim.tv_nsec)) {
		free(offer.home);
		offer.home = strdup(home);
		offer.ino = st.st_ino;
		offer.size = st.st_size;
		offer.mtime = st.st_mtim;
		offer_list(home, catalog);
	}
	offered key, *found = NULL;
	snprintf(key.hex, sizeof key.hex, "%s", hex);
	if (have && offer.home)
		found = bsearch(&key, offer.items, offer.n, sizeof *offer.items, offered_cmp);
	if (found)
		*out = *found;
	pthread_mutex_unlock(&offer.lock);
	free(catalog);
	return found != NULL;
}

static enum MHD_Result send_object(server_request *r, const char *home, const char *hex)
{
	server_box *box = server_box_get(r, home);
	if (!box)
		return server_send_failure(r);
	offered where;
	kho_hash h;
	unsigned char *data = NULL;
	if (!kho_hash_from_hex(&h, hex) && find_offered(home, hex, &where))
		data = read_blob(box, where.file, where.offset, where.len);
	if (!data)
		return server_send_error(r, 404, "this box has no such object");
	size_t len = where.len;
	/* the content must be what the name says, or the neighbour refuses it */
	kho_hash check;
	kho_hash_buffer(&check, data, len);
	size_t cap = ZSTD_compressBound(len);
	void *z = memcmp(check.bytes, h.bytes, KHO_HASH_SIZE) ? NULL : malloc(cap ? cap : 1);
	size_t zlen = z ? ZSTD_compress(z, cap, data, len, OBJECT_LEVEL) : 0;
	free(data);
	if (!z || ZSTD_isError(zlen)) {
		free(z);
		return server_send_error(r, 500, "the box could not make that object");
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(zlen, z, free);
	if (!resp) {
		free(z);
		return MHD_NO;
	}
	r->bytes = zlen;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zstd");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		"public, max-age=31536000, immutable");
	return server_send(r, 200, resp);
}

enum MHD_Result server_repo(server_request *r, const char *home)
{
	const char *rel = r->path + strlen("/repo/");
	if (!strcmp(rel, "catalog.json"))
		return send_mirror_file(r, home, rel, "application/json");
	if (!strcmp(rel, "catalog.json.minisig"))
		return send_mirror_file(r, home, rel, "text/plain; charset=utf-8");
	if (!strncmp(rel, "packs/", 6) && strlen(rel) > 11 && !strcmp(rel + strlen(rel) - 5, ".json"))
		return send_mirror_file(r, home, rel, "application/json");
	/* objects/ab/HASH.zst */
	if (!strncmp(rel, "objects/", 8) && strlen(rel) == 8 + 3 + 64 + 4 && rel[10] == '/' &&
	    is_hex(rel + 11, 64) && !strncmp(rel + 8, rel + 11, 2) && !strcmp(rel + 75, ".zst")) {
		char hex[KHO_HASH_HEX_SIZE];
		snprintf(hex, sizeof hex, "%.64s", rel + 11);
		return send_object(r, home, hex);
	}
	return server_send_error(r, 404, "no such repository file");
}
