/*
 * objects.c — the repository's objects (REPOSITORY.md): one chunk each,
 * compressed as one zstd frame, named by the BLAKE2b-256 of the chunk, and
 * written to a temporary name, synced and renamed, so that an object under
 * its name is always whole. Plus the small file helpers the repository's
 * writers share.
 */
#include "sync-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

char *sync_object_path(const char *repo, const kho_hash *hash)
{
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(hex, hash);
	size_t n = strlen(repo) + KHO_HASH_HEX_SIZE + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/objects/%.2s/%s.zst", repo, hex, hex);
	return p;
}

int sync_make_dirs(const char *repo, const char *rel)
{
	size_t n = strlen(repo) + strlen(rel) + 2;
	char *path = malloc(n);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(path, n, "%s/%s", repo, rel);
	int rc = KHO_OK;
	if (mkdir(repo, 0755) && errno != EEXIST)
		rc = kho_error_set(KHO_EIO, "cannot create %s: %s", repo, strerror(errno));
	for (char *s = path + strlen(repo) + 1; !rc && (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			rc = kho_error_set(KHO_EIO, "cannot create %s: %s", path, strerror(errno));
		*s = '/';
		if (rc)
			break;
	}
	free(path);
	return rc;
}

int sync_lock(int *fd, const char *dir, const char *name, const char *who)
{
	*fd = -1;
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(path, n, "%s/%s", dir, name);
	int rc = sync_make_dirs(dir, name);
	if (rc) {
		free(path);
		return rc;
	}
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0)
		rc = kho_error_set(KHO_EIO, "cannot open %s: %s", path, strerror(errno));
	else if (flock(f, LOCK_EX | LOCK_NB))
		rc = errno == EWOULDBLOCK ?
			kho_error_set(KHO_EBUSY, "%s is running on %s (%s); try again when it has "
				"finished", who, dir, name) :
			kho_error_set(KHO_EIO, "cannot lock %s: %s", path, strerror(errno));
	free(path);
	if (rc && f >= 0)
		close(f);
	if (!rc)
		*fd = f;
	return rc;
}

void sync_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the lock goes with the last descriptor */
}

/* Writes `len` bytes to `path` through PATH.tmp, synced and renamed. */
static int write_whole(const char *path, const void *data, size_t len)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	if (!tmp)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;
	while (fd >= 0 && done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	bool ok = fd >= 0 && done == len && fsync(fd) == 0;
	if (fd >= 0)
		ok = close(fd) == 0 && ok;
	int rc = KHO_OK;
	if (!ok || rename(tmp, path))
		rc = kho_error_set(errno == ENOSPC ? KHO_ENOSPACE : KHO_EIO, "cannot write %s: %s",
			path, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int sync_write_file(const char *repo, const char *rel, const char *text)
{
	size_t n = strlen(repo) + strlen(rel) + 2;
	char *path = malloc(n);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(path, n, "%s/%s", repo, rel);
	int rc = sync_make_dirs(repo, rel);
	if (!rc)
		rc = write_whole(path, text, strlen(text));
	free(path);
	return rc;
}

FILE *sync_open_regular(const char *path, bool nofollow)
{
	/* O_NONBLOCK: a FIFO (on a stick) must not block the open */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	return f;
}

int sync_read_file(char **out, size_t *out_len, const char *repo, const char *rel)
{
	*out = NULL;
	size_t n = strlen(repo) + strlen(rel) + 2;
	char *path = malloc(n);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(path, n, "%s/%s", repo, rel);
	FILE *f = sync_open_regular(path, false);
	free(path);
	if (!f)
		return kho_error_set(errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "%s: %s", rel,
			errno == EINVAL ? "not a regular file" : strerror(errno));
	char *buf = malloc(SYNC_MAX_INDEX + 1);
	size_t len = buf ? fread(buf, 1, SYNC_MAX_INDEX + 1, f) : 0;
	bool err = ferror(f);
	fclose(f);
	if (!buf)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	if (err || len > SYNC_MAX_INDEX) {
		free(buf);
		return kho_error_set(err ? KHO_EIO : KHO_ELIMIT, "%s: %s", rel,
			err ? "cannot read it" : "larger than any index may be");
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return KHO_OK;
}

int sync_object_put(kho_hash *hash, bool *added, uint64_t *stored, const char *repo,
	const void *data, size_t len)
{
	kho_hash_buffer(hash, data, len);
	*added = false;
	*stored = 0;
	char *path = sync_object_path(repo, hash);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	struct stat st;
	if (stat(path, &st) == 0) {
		*stored = (uint64_t)st.st_size;
		free(path);
		return KHO_OK;
	}
	size_t cap = ZSTD_compressBound(len);
	void *z = malloc(cap ? cap : 1);
	int rc = z ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	size_t zlen = z ? ZSTD_compress(z, cap, data, len, SYNC_ZSTD_LEVEL) : 0;
	if (!rc && ZSTD_isError(zlen))
		rc = kho_error_set(KHO_ERROR, "zstd: %s", ZSTD_getErrorName(zlen));
	char hex[KHO_HASH_HEX_SIZE], rel[KHO_HASH_HEX_SIZE + 16];
	kho_hash_to_hex(hex, hash);
	snprintf(rel, sizeof rel, "objects/%.2s/x", hex);
	if (!rc)
		rc = sync_make_dirs(repo, rel);
	if (!rc)
		rc = write_whole(path, z, zlen);
	if (!rc) {
		*added = true;
		*stored = zlen;
	}
	free(z);
	free(path);
	return rc;
}

int sync_object_read(unsigned char **out, const char *repo, const kho_hash *hash, size_t size)
{
	*out = NULL;
	char *path = sync_object_path(repo, hash);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(hex, hash);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return kho_error_set(KHO_ENOTFOUND, "objects/%.2s/%s.zst is missing", hex, hex);
	size_t cap = ZSTD_compressBound(size) + 64;
	unsigned char *z = malloc(cap), *data = malloc(size ? size : 1);
	size_t zlen = z ? fread(z, 1, cap, f) : 0;
	fclose(f);
	int rc = z && data ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		/* exactly `size` bytes, in one frame, with nothing after it */
		unsigned long long declared = ZSTD_getFrameContentSize(z, zlen);
		size_t frame = ZSTD_findFrameCompressedSize(z, zlen);
		size_t got = declared == size && !ZSTD_isError(frame) && frame == zlen ?
			ZSTD_decompress(data, size ? size : 1, z, zlen) : (size_t)-1;
		kho_hash check;
		if (ZSTD_isError(got) || got != size)
			rc = kho_error_set(KHO_ECORRUPT, "objects/%.2s/%s.zst is not a zstd frame of "
				"%zu bytes", hex, hex, size);
		else if (kho_hash_buffer(&check, data, size), memcmp(check.bytes, hash->bytes,
			KHO_HASH_SIZE))
			rc = kho_error_set(KHO_ECORRUPT, "objects/%.2s/%s.zst: its content does not "
				"match its name", hex, hex);
	}
	free(z);
	if (rc) {
		free(data);
		return rc;
	}
	*out = data;
	return KHO_OK;
}

/* ------------------------------------------------------- patch objects */

char *sync_patch_rel(const char *new_hex, const char *base_hex)
{
	size_t n = 2 * KHO_HASH_HEX_SIZE + 32;
	char *rel = malloc(n);
	if (rel)
		snprintf(rel, n, "objects/%.2s/%s.patch-%s.zst", new_hex, new_hex, base_hex);
	return rel;
}

int sync_patch_put(uint64_t *stored, const char *repo, const char *new_hex, const char *base_hex,
	const void *data, size_t len, const void *base, size_t base_len)
{
	*stored = 0;
	char *rel = sync_patch_rel(new_hex, base_hex);
	size_t cap = ZSTD_compressBound(len);
	void *z = malloc(cap ? cap : 1);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	int rc = rel && z && cctx ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	size_t zlen = 0;
	if (!rc) {
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, SYNC_ZSTD_LEVEL);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
		ZSTD_CCtx_refPrefix(cctx, base, base_len);
		zlen = ZSTD_compress2(cctx, z, cap, data, len);
		if (ZSTD_isError(zlen))
			rc = kho_error_set(KHO_ERROR, "zstd: %s", ZSTD_getErrorName(zlen));
	}
	size_t n = strlen(repo) + (rel ? strlen(rel) : 0) + 2;
	char *path = rc ? NULL : malloc(n);
	if (!rc && !path)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		snprintf(path, n, "%s/%s", repo, rel);
		rc = sync_make_dirs(repo, rel);
		if (!rc)
			rc = write_whole(path, z, zlen);
	}
	if (!rc)
		*stored = zlen;
	ZSTD_freeCCtx(cctx);
	free(path);
	free(rel);
	free(z);
	return rc;
}

int sync_patch_read(unsigned char **out, const char *dir, const char *rel, const kho_hash *hash,
	size_t size, const void *base, size_t base_len)
{
	*out = NULL;
	char *text = NULL;
	size_t zlen = 0;
	int rc = sync_read_file(&text, &zlen, dir, rel);
	if (rc)
		return rc;
	unsigned char *data = malloc(size ? size : 1);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!data || !dctx)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		ZSTD_DCtx_refPrefix(dctx, base, base_len);
		size_t got = ZSTD_getFrameContentSize(text, zlen) == size ?
			ZSTD_decompressDCtx(dctx, data, size ? size : 1, text, zlen) : (size_t)-1;
		kho_hash check;
		if (ZSTD_isError(got) || got != size)
			rc = kho_error_set(KHO_ECORRUPT, "%s is not a patch of %zu bytes", rel, size);
		else if (kho_hash_buffer(&check, data, size), memcmp(check.bytes, hash->bytes,
			KHO_HASH_SIZE))
			rc = kho_error_set(KHO_ECORRUPT, "%s: the patched file does not match its hash", rel);
	}
	ZSTD_freeDCtx(dctx);
	free(text);
	if (rc) {
		free(data);
		return rc;
	}
	*out = data;
	return KHO_OK;
}
