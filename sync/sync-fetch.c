/*
 * sync-fetch.c — the box's side of `kho sync` (docs/sync.md), for one
 * planned version (sync-box.c plans): fetch what it needs into
 * $KHO_HOME/sync, several objects at a time, check every object and file
 * against its hash, and build the version as a pack folder, which the
 * caller installs in one transaction (kho import's path) once its manifest
 * names the pack and version the catalog does.
 */
#include "sync-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- files */

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

/* Creates `dest` for writing; it must not exist yet. A build folder is
 * made fresh, so a file there is one this build wrote: possibly a hard
 * link into the blob store, which must never be written through. */
static FILE *create_new(const char *dest)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	return f;
}

static int window_ended(kho_sync_plan *plan)
{
	plan->stopped = true;
	return kho_error_set(KHO_ELIMIT, "the sync window ended; the next sync continues from here");
}

/* Counts `bytes` more fetched, and tells the progress callback. */
static void count_fetched(kho_sync_plan *plan, uint64_t bytes)
{
	plan->fetched += bytes;
	if (plan->progress)
		plan->progress(plan->progress_payload, plan->fetched, plan->download);
}

/* Fetches `rel` (an object, `stored` bytes) into the work folder, unless an
 * earlier fetch put it there. Past plan->until: KHO_ELIMIT. */
static int fetch_object(kho_sync_plan *plan, const char *rel, uint64_t stored)
{
	char *path = kho_path_join(plan->work, rel);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	struct stat st;
	int rc = KHO_OK;
	if (stat(path, &st) != 0) {
		if (plan->until && time(NULL) >= plan->until)
			rc = window_ended(plan);
		if (!rc)
			rc = sync_make_dirs(plan->work, rel);
		if (!rc)
			rc = sync_fetch_file(plan->source, rel, path, SYNC_MAX_OBJECT, plan->max_rate);
		if (!rc)
			count_fetched(plan, stored);
	}
	free(path);
	return rc;
}

static void unlink_in(const char *dir, const char *rel)
{
	char *path = kho_path_join(dir, rel);
	if (path)
		unlink(path);
	free(path);
}

/* Writes `len` bytes to the new file `dest`. */
static int write_new(const char *dest, const unsigned char *data, size_t len)
{
	FILE *out = create_new(dest);
	int rc = out && fwrite(data, 1, len, out) == len ? KHO_OK : KHO_EIO;
	if (out && fclose(out))
		rc = KHO_EIO;
	if (rc) {
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
		if (out)
			unlink(dest);
	}
	return rc;
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
	if (!base_hex || !sync_have_blob(store, base_hex))
		return KHO_ENOTFOUND;
	char new_hex[KHO_HASH_HEX_SIZE];
	kho_hash_to_hex(new_hex, want);
	char *rel = sync_patch_rel(new_hex, base_hex);
	int rc = rel ? fetch_object(plan, rel, (uint64_t)json_integer_value(json_array_get(patch, 1))) :
		KHO_ENOMEM;
	if (rc == KHO_ELIMIT && plan->stopped) {
		free(rel);
		return rc;
	}
	unsigned char *base = rc ? NULL : read_blob(store, base_hex, &base_len);
	unsigned char *data = NULL;
	if (!rc && !base)
		rc = KHO_ENOTFOUND;
	if (!rc && (rc = sync_patch_read(&data, plan->work, rel, want, size, base, base_len)))
		unlink_in(plan->work, rel); /* a damaged patch: fetched again next time */
	if (!rc)
		rc = write_new(dest, data, size);
	free(data);
	free(base);
	free(rel);
	kho_error_clear();
	return rc;
}

/* The bytes of chunk `c` ([hash, size, stored]), from its object, fetched
 * when the work folder lacks it. An object that fails its check is removed
 * and fetched whole once more: a transfer resumed over another run may have
 * joined bytes that do not belong together. */
static int chunk_data(unsigned char **out, kho_sync_plan *plan, json_t *c)
{
	const char *hex = json_string_value(json_array_get(c, 0));
	size_t size = (size_t)json_integer_value(json_array_get(c, 1));
	uint64_t stored = (uint64_t)json_integer_value(json_array_get(c, 2));
	kho_hash h;
	char rel[KHO_HASH_HEX_SIZE + 32];
	snprintf(rel, sizeof rel, "objects/%.2s/%s.zst", hex, hex);
	if (kho_hash_from_hex(&h, hex))
		return kho_error_set(KHO_ECORRUPT, "a malformed chunk hash in the index");
	int rc;
	for (int attempt = 0;; attempt++) {
		if ((rc = fetch_object(plan, rel, stored)))
			return rc;
		if (!(rc = sync_object_read(out, plan->work, &h, size)))
			return KHO_OK;
		unlink_in(plan->work, rel); /* fetched again, now or by the next sync */
		if (rc != KHO_ECORRUPT || attempt)
			break;
		kho_log_info("sync: %s: %s; fetching it again", rel, kho_error_last());
	}
	return kho_error_set(rc, "%s (fetched from %s)", kho_error_last(), plan->source);
}

/* Writes `dest` (new) from the chunks of `f`, checked against `want`. */
static int build_from_chunks(const char *dest, json_t *f, const kho_hash *want,
	kho_sync_plan *plan)
{
	FILE *out = create_new(dest);
	if (!out)
		return kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	kho_hasher whole;
	kho_hasher_init(&whole);
	int rc = KHO_OK;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(f, "chunks"), i, c) {
		unsigned char *data = NULL;
		size_t size = (size_t)json_integer_value(json_array_get(c, 1));
		if ((rc = chunk_data(&data, plan, c)))
			break;
		if (fwrite(data, 1, size, out) != size)
			rc = kho_error_set(KHO_EIO, "cannot write %s", dest);
		kho_hasher_update(&whole, data, size);
		free(data);
		if (rc)
			break;
	}
	if (fclose(out) && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s", dest);
	kho_hash got;
	kho_hasher_final(&whole, &got);
	if (!rc && memcmp(got.bytes, want->bytes, KHO_HASH_SIZE))
		rc = kho_error_set(KHO_ECORRUPT, "%s: its chunks do not make the file the index names",
			json_string_value(json_object_get(f, "path")));
	return rc;
}

/* Writes file `f` of the index into `dir`: linked from the blob store when
 * the box has it, else from a patch or its chunks' objects, checked against
 * its hash. */
static int build_file(const char *dir, json_t *f, kho_sync_plan *plan, kho_store *store)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	const char *hex = json_string_value(json_object_get(f, "hash"));
	kho_hash want;
	/* the index was checked when loaded; these guard the file system */
	if (!path || !kho_path_is_safe(path))
		return kho_error_set(KHO_EUNSAFE, "the index names an unsafe path '%s'", path);
	if (!hex || kho_hash_from_hex(&want, hex))
		return kho_error_set(KHO_ECORRUPT, "a malformed file hash in the index");
	int rc = sync_make_dirs(dir, path);
	char *dest = rc ? NULL : kho_path_join(dir, path);
	if (!rc && !dest)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc && sync_have_blob(store, hex)) {
		char *blob = kho_blobs_path(kho_store_blobs(store), &want);
		bool linked = blob && link(blob, dest) == 0;
		free(blob);
		if (linked) {
			free(dest);
			return KHO_OK;
		}
		/* another file system: build it from objects */
	}
	int patched = rc ? rc : try_patch(dest, f, &want, plan, store);
	if (!rc && patched != KHO_OK && !plan->stopped)
		rc = build_from_chunks(dest, f, &want, plan);
	else if (!rc)
		rc = patched;
	free(dest);
	return rc;
}

/* --------------------------------------------------------- work folders */

int sync_remove_tree(const char *path)
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
			char *child = kho_path_join(path, e->d_name);
			if (child)
				sync_remove_tree(child);
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
 * time first, each object once; building the files then finds everything
 * in place, and fetches one by one what this could not get. */
#define FETCHERS 4

typedef struct job {
	char *rel;             /* what to fetch, relative to the repository */
	uint64_t size;         /* as stored, for the progress */
	json_t *file;          /* a patch's file entry (borrowed): its chunks are
	                          fetched instead when the source lacks the patch */
} job;

typedef struct prefetch {
	kho_sync_plan *plan;
	kho_store *store;
	job *jobs;
	size_t n, cap, next;
	json_t *queued;        /* rels already queued, as a set */
	pthread_mutex_t lock;  /* over jobs, n, cap, next, queued, rc, plan->fetched */
	int rc;                /* the first failure that stops the others */
	char message[1024];
} prefetch;

/* Queues `rel` (`size` bytes as stored) unless queued or fetched already. */
static int add_job(prefetch *p, const char *rel, uint64_t size, json_t *file)
{
	char *path = kho_path_join(p->plan->work, rel);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	struct stat st;
	bool skip = json_object_get(p->queued, rel) || stat(path, &st) == 0;
	free(path);
	if (skip)
		return KHO_OK;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		job *grown = realloc(p->jobs, cap * sizeof *grown);
		if (!grown)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		p->jobs = grown;
		p->cap = cap;
	}
	char *copy = strdup(rel);
	if (!copy || json_object_set_new(p->queued, rel, json_true())) {
		free(copy);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	p->jobs[p->n++] = (job){ copy, size, file };
	return KHO_OK;
}

/* Queues the objects of the chunks of file `f`. */
static int add_chunk_jobs(prefetch *p, json_t *f)
{
	size_t j;
	json_t *c;
	int rc = KHO_OK;
	json_array_foreach(json_object_get(f, "chunks"), j, c) {
		const char *ch = json_string_value(json_array_get(c, 0));
		char rel[KHO_HASH_HEX_SIZE + 32];
		snprintf(rel, sizeof rel, "objects/%.2s/%s.zst", ch, ch);
		if ((rc = add_job(p, rel, (uint64_t)json_integer_value(json_array_get(c, 2)), NULL)))
			break;
	}
	return rc;
}

/* Queues what file `f` needs: its patch when the box holds the base, else
 * its chunks' objects. */
static int add_file_jobs(prefetch *p, json_t *f)
{
	const char *hex = json_string_value(json_object_get(f, "hash"));
	json_t *patch = json_object_get(f, "patch");
	const char *base = json_string_value(json_array_get(patch, 0));
	if (sync_have_blob(p->store, hex))
		return KHO_OK;
	if (!base || !sync_have_blob(p->store, base))
		return add_chunk_jobs(p, f);
	char *rel = sync_patch_rel(hex, base);
	int rc = rel ? add_job(p, rel, (uint64_t)json_integer_value(json_array_get(patch, 1)), f) :
		kho_error_set(KHO_ENOMEM, "out of memory");
	free(rel);
	return rc;
}

/* The next job, or false when there is none or the fetchers stop (a
 * failure, or the end of the window). Called under p->lock. */
static bool next_job(job *out, prefetch *p)
{
	if (p->rc || p->next == p->n)
		return false;
	if (p->plan->until && time(NULL) >= p->plan->until) {
		p->plan->stopped = true;
		p->rc = KHO_ELIMIT;
		snprintf(p->message, sizeof p->message, "the sync window ended; the next sync "
			"continues from here");
		return false;
	}
	*out = p->jobs[p->next++];
	return true;
}

/* Notes how job `j` went. Called under p->lock. */
static void job_done(prefetch *p, const job *j, int rc)
{
	if (!rc) {
		count_fetched(p->plan, j->size);
	} else if (rc == KHO_ENOTFOUND) {
		/* the source lacks it (a neighbour box keeps no patch objects): a
		 * patch's file is fetched whole; a missing object is named when the
		 * file is built */
		if (j->file && add_chunk_jobs(p, j->file) && !p->rc) {
			p->rc = kho_error_last_code();
			snprintf(p->message, sizeof p->message, "%s", kho_error_last());
		}
	} else if (!p->rc) {
		p->rc = rc;
		snprintf(p->message, sizeof p->message, "%s", kho_error_last());
	}
}

static void *fetcher(void *arg)
{
	prefetch *p = arg;
	for (;;) {
		job j;
		pthread_mutex_lock(&p->lock);
		bool more = next_job(&j, p);
		pthread_mutex_unlock(&p->lock);
		if (!more)
			return NULL;
		char *dest = kho_path_join(p->plan->work, j.rel);
		int rc = dest ? sync_make_dirs(p->plan->work, j.rel) : KHO_ENOMEM;
		if (!rc)
			rc = sync_fetch_file(p->plan->source, j.rel, dest, SYNC_MAX_OBJECT,
				p->plan->max_rate ? (p->plan->max_rate + FETCHERS - 1) / FETCHERS : 0);
		free(dest);
		pthread_mutex_lock(&p->lock);
		job_done(p, &j, rc);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Runs the queued jobs on FETCHERS threads (or this one). */
static int run_jobs(prefetch *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_t threads[FETCHERS];
	size_t started = 0;
	for (size_t t = 0; t < FETCHERS; t++) {
		if (pthread_create(&threads[t], NULL, fetcher, p))
			break;
		started++;
	}
	if (!started)
		fetcher(p);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&p->lock);
	return p->rc ? kho_error_set(p->rc, "%s", p->message) : KHO_OK;
}

static int prefetch_version(kho_sync_plan *plan, json_t *index, kho_store *store)
{
	prefetch p = { .plan = plan, .store = store, .queued = json_object() };
	int rc = p.queued ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(index, "files"), i, f) {
		if (rc)
			break;
		rc = add_file_jobs(&p, f);
	}
	if (!rc && p.n)
		rc = run_jobs(&p);
	for (size_t k = 0; k < p.n; k++)
		free(p.jobs[k].rel);
	free(p.jobs);
	json_decref(p.queued);
	return rc;
}

/* -------------------------------------------------------------- version */

/* Records the catalog's serial as seen, once per plan, before anything is
 * installed from it. */
static int record_serial(kho_sync_plan *plan, kho_store *store)
{
	if (plan->recorded)
		return KHO_OK;
	int rc = kho_store_catalog_record(store, plan->key_id, plan->serial, plan->created, NULL);
	plan->recorded = rc == KHO_OK;
	return rc;
}

int kho_sync_fetch(char **pack_dir, kho_sync_plan *plan, size_t i, kho_store *store)
{
	*pack_dir = NULL;
	kho_sync_item *item = &plan->items[i];
	json_t *index = NULL;
	int rc = record_serial(plan, store);
	if (!rc)
		rc = sync_load_index(&index, plan, item, store);
	/* named by the index's hash (checked hex), never by anything a catalog
	 * could make a path of */
	char name[KHO_HASH_HEX_SIZE + 16];
	snprintf(name, sizeof name, "build/%.64s", item->index_hash);
	char *dir = rc ? NULL : kho_path_join(plan->work, name);
	if (!rc && !dir)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) {
		sync_remove_tree(dir); /* what an interrupted sync left */
		char rel[KHO_HASH_HEX_SIZE + 24];
		snprintf(rel, sizeof rel, "%s/x", name);
		rc = sync_make_dirs(plan->work, rel);
	}
	/* a failure here is not final: building the files fetches one by one,
	 * and names what cannot be had */
	if (!rc && prefetch_version(plan, index, store) && plan->stopped)
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

int kho_sync_check_pack(const kho_sync_plan *plan, size_t i, const kho_pack *pack)
{
	const kho_sync_item *item = &plan->items[i];
	const kho_manifest *m = kho_pack_manifest(pack);
	if (strcmp(m->id, item->pack) || m->version != item->version)
		return kho_error_set(KHO_ECORRUPT, "the catalog names %s version %lld, but its files "
			"hold %s version %lld; not installed", item->pack, (long long)item->version, m->id,
			(long long)m->version);
	return KHO_OK;
}
