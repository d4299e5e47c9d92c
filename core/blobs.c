/*
 * blobs.c — the content-addressed blob store: every file of every pack
 * version, named by its BLAKE2b-256 hash under blobs/xx/<hash>.
 *
 * Writing is two-phase so that a power cut never leaves a blob under its
 * final name without its content, and so that an import of thousands of
 * files costs two filesystem syncs instead of one fsync per file:
 *   1. stage: stream the bytes into blobs/tmp/, hashing them on the way;
 *   2. commit: syncfs(), rename each staged file to its final name, syncfs().
 * Step 2 can run in a thread of its own (kho_blobs_commit_begin / _end)
 * while the install indexes, so that the disk works meanwhile; waiting for
 * it costs the install no processor time.
 * The store commits its database transaction only after step 2, so the
 * database never names a blob that is not durable. A blob that already
 * exists is not written twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>

#include "core-private.h"

typedef struct staged {
	char *tmp;       /* path under tmp/ */
	kho_hash hash;
} staged;

struct kho_blobs {
	char *dir;
	char *tmpdir;
	staged *staged;
	size_t n_staged, cap_staged;
	size_t *slots;        /* open-addressing set of staged indices + 1 */
	size_t n_slots;
	/* kho_blobs_commit_begin()'s thread, while it runs */
	pthread_t committer;
	bool committing;
	int commit_rc;
	char commit_error[1024];
};

/* Blobs up to this size stay in memory until they are finished. */
#define MEMORY_BLOB_MAX (256u * 1024)

struct kho_blob_writer {
	kho_blobs *blobs;
	kho_buf memory;  /* the content, while it is small */
	char *tmp;       /* the temporary file, once it is not */
	int fd;
	kho_hasher hasher;
	uint64_t size;
};

static int io_error(const char *what, const char *path)
{
	int e = errno;
	return kho_error_set(e == ENOSPC || e == EDQUOT ? KHO_ENOSPACE : KHO_EIO,
		"%s %s: %s", what, path, strerror(e));
}

int kho_blobs_open(kho_blobs **out, const char *dir)
{
	kho_blobs *b = calloc(1, sizeof *b);
	int rc = KHO_ENOMEM;
	if (!b)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	b->dir = strdup(dir);
	b->tmpdir = kho_path_join(dir, "tmp");
	if (!b->dir || !b->tmpdir) {
		kho_error_set(KHO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = kho_mkdir_p(b->tmpdir, 0755)))
		goto fail;
	*out = b;
	return KHO_OK;
fail:
	kho_blobs_free(b);
	return rc;
}

void kho_blobs_free(kho_blobs *b)
{
	if (!b)
		return;
	kho_blobs_abort(b);
	free(b->staged);
	free(b->slots);
	free(b->dir);
	free(b->tmpdir);
	free(b);
}

char *kho_blobs_path(const kho_blobs *b, const kho_hash *hash)
{
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(hex, hash);
	size_t n = strlen(b->dir) + 4 + KHO_HASH_HEX_SIZE + 1;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s/%.2s/%s", b->dir, hex, hex);
	return path;
}

static size_t slot_of(const kho_hash *h, size_t n_slots)
{
	uint64_t k;
	memcpy(&k, h->bytes, sizeof k);
	return (size_t)(k & (n_slots - 1));
}

static bool is_staged(const kho_blobs *b, const kho_hash *h)
{
	if (!b->n_slots)
		return false;
	for (size_t i = slot_of(h, b->n_slots);; i = (i + 1) & (b->n_slots - 1)) {
		if (!b->slots[i])
			return false;
		if (!memcmp(b->staged[b->slots[i] - 1].hash.bytes, h->bytes, KHO_HASH_SIZE))
			return true;
	}
}

static void slots_insert(kho_blobs *b, size_t index)
{
	size_t i = slot_of(&b->staged[index].hash, b->n_slots);
	while (b->slots[i])
		i = (i + 1) & (b->n_slots - 1);
	b->slots[i] = index + 1;
}

static int stage(kho_blobs *b, char *tmp, const kho_hash *hash)
{
	if (b->n_staged == b->cap_staged) {
		size_t cap = b->cap_staged ? 2 * b->cap_staged : 64;
		staged *s = realloc(b->staged, cap * sizeof *s);
		size_t *slots = calloc(2 * cap, sizeof *slots);
		if (!s || !slots) {
			free(slots);
			if (s)
				b->staged = s;
			return kho_error_set(KHO_ENOMEM, "out of memory");
		}
		b->staged = s;
		b->cap_staged = cap;
		free(b->slots);
		b->slots = slots;
		b->n_slots = 2 * cap;
		for (size_t i = 0; i < b->n_staged; i++)
			slots_insert(b, i);
	}
	b->staged[b->n_staged].tmp = tmp;
	b->staged[b->n_staged].hash = *hash;
	slots_insert(b, b->n_staged);
	b->n_staged++;
	return KHO_OK;
}

int kho_blob_writer_new(kho_blob_writer **out, kho_blobs *b)
{
	kho_blob_writer *w = calloc(1, sizeof *w);
	if (!w)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	w->blobs = b;
	w->fd = -1;
	kho_hasher_init(&w->hasher);
	*out = w;
	return KHO_OK;
}

static int write_all(int fd, const char *path, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_error("cannot write", path);
		}
		p += n;
		len -= (size_t)n;
	}
	return KHO_OK;
}

/* Moves a blob that outgrew memory into a temporary file. */
static int spill(kho_blob_writer *w)
{
	if (!(w->tmp = kho_path_join(w->blobs->tmpdir, "blob-XXXXXX")))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int rc = io_error("cannot create", w->tmp);
		free(w->tmp);
		w->tmp = NULL;
		return rc;
	}
	fchmod(w->fd, 0644);
	int rc = write_all(w->fd, w->tmp, w->memory.data, w->memory.len);
	kho_buf_free(&w->memory);
	return rc;
}

int kho_blob_writer_write(kho_blob_writer *w, const void *data, size_t len)
{
	int rc;
	kho_hasher_update(&w->hasher, data, len);
	w->size += len;
	if (w->fd < 0 && w->memory.len + len <= MEMORY_BLOB_MAX)
		return kho_buf_append(&w->memory, data, len);
	if (w->fd < 0 && (rc = spill(w)))
		return rc;
	return write_all(w->fd, w->tmp, data, len);
}

void kho_blob_writer_free(kho_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp) {
		unlink(w->tmp);
		free(w->tmp);
	}
	kho_buf_free(&w->memory);
	free(w);
}

/* Writes a small blob's content to tmp/<hash>: the name cannot clash, since
 * installs run one at a time under the store's write lock. */
static int write_memory_blob(kho_blob_writer *w, const kho_hash *hash)
{
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(hex, hash);
	if (!(w->tmp = kho_path_join(w->blobs->tmpdir, hex)))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (w->fd < 0)
		return io_error("cannot create", w->tmp);
	return write_all(w->fd, w->tmp, w->memory.data ? w->memory.data : "", w->memory.len);
}

int kho_blob_writer_finish(kho_blob_writer *w, kho_hash *out, uint64_t *out_size)
{
	kho_hash hash;
	struct stat st;
	int rc = KHO_OK;
	kho_hasher_final(&w->hasher, &hash);
	char *final = kho_blobs_path(w->blobs, &hash);
	if (!final) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto done;
	}
	bool have = stat(final, &st) == 0 && (uint64_t)st.st_size == w->size;
	free(final);
	if (!have && !is_staged(w->blobs, &hash)) {
		if (w->fd < 0 && (rc = write_memory_blob(w, &hash)))
			goto done;
		int fd = w->fd;
		w->fd = -1;
		if (close(fd) != 0) {
			rc = io_error("cannot write", w->tmp);
			goto done;
		}
		if ((rc = stage(w->blobs, w->tmp, &hash)))
			goto done;
		w->tmp = NULL; /* now owned by the staged list */
	}
	*out = hash;
	if (out_size)
		*out_size = w->size;
done:
	kho_blob_writer_free(w);
	return rc;
}

int kho_blobs_put(kho_blobs *b, kho_hash *out, const void *data, size_t len)
{
	kho_blob_writer *w = NULL;
	int rc = kho_blob_writer_new(&w, b);
	if (rc)
		return rc;
	if ((rc = kho_blob_writer_write(w, data, len))) {
		kho_blob_writer_free(w);
		return rc;
	}
	return kho_blob_writer_finish(w, out, NULL);
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return io_error("cannot open", dir);
	int rc = syncfs(fd) == 0 ? KHO_OK : io_error("cannot sync", dir);
	close(fd);
	return rc;
}

int kho_blobs_commit(kho_blobs *b)
{
	int rc;
	if (!b->n_staged)
		return KHO_OK;
	if ((rc = sync_dir(b->dir)))
		return rc;
	for (size_t i = 0; i < b->n_staged; i++) {
		char *final = kho_blobs_path(b, &b->staged[i].hash);
		if (!final)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		char *slash = strrchr(final, '/');
		*slash = '\0';
		if (mkdir(final, 0755) != 0 && errno != EEXIST) {
			rc = io_error("cannot create", final);
			free(final);
			return rc;
		}
		*slash = '/';
		if (rename(b->staged[i].tmp, final) != 0) {
			rc = io_error("cannot rename into", final);
			free(final);
			return rc;
		}
		free(final);
		free(b->staged[i].tmp);
		b->staged[i].tmp = NULL;
	}
	b->n_staged = 0;
	memset(b->slots, 0, b->n_slots * sizeof *b->slots);
	return sync_dir(b->dir);
}

static void *commit_in_background(void *arg)
{
	kho_blobs *b = arg;
	b->commit_rc = kho_blobs_commit(b);
	if (b->commit_rc)
		snprintf(b->commit_error, sizeof b->commit_error, "%s", kho_error_last());
	return NULL;
}

void kho_blobs_commit_begin(kho_blobs *b)
{
	if (b->n_staged && !b->committing)
		b->committing = pthread_create(&b->committer, NULL, commit_in_background, b) == 0;
}

int kho_blobs_commit_end(kho_blobs *b)
{
	if (!b->committing)
		return kho_blobs_commit(b);
	pthread_join(b->committer, NULL);
	b->committing = false;
	return b->commit_rc ? kho_error_set(b->commit_rc, "%s", b->commit_error) : KHO_OK;
}

void kho_blobs_abort(kho_blobs *b)
{
	if (b->committing) { /* what it renamed stays: unreferenced, for kho gc */
		pthread_join(b->committer, NULL);
		b->committing = false;
	}
	for (size_t i = 0; i < b->n_staged; i++) {
		if (b->staged[i].tmp) {
			unlink(b->staged[i].tmp);
			free(b->staged[i].tmp);
		}
	}
	b->n_staged = 0;
	if (b->slots)
		memset(b->slots, 0, b->n_slots * sizeof *b->slots);
}

void blobs_clean_tmp(kho_blobs *b)
{
	DIR *dir = opendir(b->tmpdir);
	struct dirent *de;
	int removed = 0;
	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(dir), de->d_name, 0) == 0)
			removed++;
	if (dir)
		closedir(dir);
	if (removed)
		kho_log_info("removed %d unfinished blob%s left by an interrupted install", removed,
			removed == 1 ? "" : "s");
}

int kho_blobs_read(char **out, size_t *out_len, const kho_blobs *b, const kho_hash *hash)
{
	char *path = kho_blobs_path(b, hash);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	int rc = KHO_OK;
	kho_buf buf = { 0 };
	FILE *f = fopen(path, "rbe");
	if (!f) {
		rc = errno == ENOENT ? kho_error_set(KHO_ENOTFOUND, "blob %s is missing", path)
			: io_error("cannot open", path);
		goto done;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if ((rc = kho_buf_append(&buf, chunk, n)))
			goto done;
	if (ferror(f)) {
		rc = io_error("cannot read", path);
		goto done;
	}
	if ((rc = kho_buf_append(&buf, "", 0)))
		goto done;
	kho_hash got;
	kho_hash_buffer(&got, buf.data, buf.len);
	if (memcmp(got.bytes, hash->bytes, KHO_HASH_SIZE)) {
		rc = kho_error_set(KHO_ECORRUPT, "blob %s does not match its hash", path);
		goto done;
	}
	*out = buf.data;
	*out_len = buf.len;
	buf.data = NULL;
done:
	if (f)
		fclose(f);
	kho_buf_free(&buf);
	free(path);
	return rc;
}
