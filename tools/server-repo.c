/*
 * server-repo.c — /repo/: this box's packs offered to its neighbours as a
 * repository (sync/REPOSITORY.md), so that a school syncs from the box next
 * door over the LAN: `kho sync --from http://BOX:8080/repo/`. The signed
 * catalog and the indexes are those of the box's last sync ($KHO_HOME/repo,
 * kept by kho_sync_finish()); an object is made on request from the blob
 * store — a small file is its own chunk; a chunk of a large file is found
 * through the indexes — and compressed with zstd. The neighbour checks
 * everything against the publisher's signature, as from the centre. Packs
 * imported by hand, without a repository, are not offered: nothing signed
 * vouches for them.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
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

/* Where chunk `hex` lies: in a file the mirror's indexes list in more than
 * one chunk. */
static bool find_chunk(const char *home, const char *hex, char file[KHO_HASH_HEX_SIZE],
	uint64_t *offset, size_t *len)
{
	size_t n = strlen(home) + 16;
	char *packs = malloc(n);
	if (!packs)
		return false;
	snprintf(packs, n, "%s/repo/packs", home);
	DIR *d = opendir(packs);
	bool found = false;
	struct dirent *e;
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t m = strlen(packs) + strlen(e->d_name) + 2;
		char *dir = malloc(m);
		if (!dir)
			break;
		snprintf(dir, m, "%s/%s", packs, e->d_name);
		DIR *v = opendir(dir);
		struct dirent *f;
		while (v && !found && (f = readdir(v))) {
			if (f->d_name[0] == '.')
				continue;
			size_t k = strlen(dir) + strlen(f->d_name) + 2;
			char *path = malloc(k);
			if (!path)
				break;
			snprintf(path, k, "%s/%s", dir, f->d_name);
			json_t *index = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
			free(path);
			size_t i, j;
			json_t *entry, *c;
			json_array_foreach(json_object_get(index, "files"), i, entry) {
				uint64_t at = 0;
				json_t *chunks = json_object_get(entry, "chunks");
				if (json_array_size(chunks) < 2)
					continue;
				json_array_foreach(chunks, j, c) {
					const char *ch = json_string_value(json_array_get(c, 0));
					json_int_t size = json_integer_value(json_array_get(c, 1));
					if (!found && ch && !strcmp(ch, hex) && size > 0 && size <= MAX_CHUNK) {
						snprintf(file, KHO_HASH_HEX_SIZE, "%s",
							json_string_value(json_object_get(entry, "hash")));
						*offset = at;
						*len = (size_t)size;
						found = true;
					}
					at += (uint64_t)size;
				}
			}
			json_decref(index);
		}
		if (v)
			closedir(v);
		free(dir);
	}
	if (d)
		closedir(d);
	free(packs);
	return found;
}

static enum MHD_Result send_object(server_request *r, const char *home, const char *hex)
{
	server_box *box = server_box_get(r, home);
	if (!box)
		return server_send_failure(r);
	unsigned char *data = NULL;
	size_t len = 0;
	kho_hash h;
	char *path = kho_hash_from_hex(&h, hex) ? NULL :
		kho_blobs_path(kho_store_blobs(box->store), &h);
	struct stat st;
	if (path && stat(path, &st) == 0 && (uint64_t)st.st_size <= MAX_CHUNK) {
		len = (size_t)st.st_size;
		data = read_blob(box, hex, 0, len);
	} else {
		char file[KHO_HASH_HEX_SIZE];
		uint64_t offset;
		if (find_chunk(home, hex, file, &offset, &len))
			data = read_blob(box, file, offset, len);
	}
	free(path);
	if (!data)
		return server_send_error(r, 404, "this box has no such object");
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
