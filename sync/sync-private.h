/*
 * sync-private.h — what the sync module's files share (REPOSITORY.md):
 *
 *   chunker.c        content-defined chunks of large files
 *   objects.c        the objects/ folder: write a chunk as a zstd object, read
 *                    one back and check it against its name
 *   repo-bundle.c    the catalog's bundles (packs a school follows by name)
 *   repo-catalog.c   catalog.json and the indexes: read, check, write, sign
 *   repo-publish.c   kho publish
 *   repo-check.c     kho repo verify, list and gc
 *   transport.c      fetching a repository's file: a folder, or HTTP(S)
 *   sync-box.c       the box's side: subscriptions, the catalog, the plan,
 *                    and the mirror kept when a sync finishes
 *   sync-fetch.c     the box's side: fetch a planned version's objects and
 *                    build its pack folder
 *   export.c         sneakernet: a box's state, and a stick made for it
 *   outbox.c         what goes back to the centre: queue and push
 */
#ifndef KHO_SYNC_PRIVATE_H
#define KHO_SYNC_PRIVATE_H

#include "kho_sync.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SYNC_SMALL_FILE (1u << 20)  /* files up to this size are one object */
#define SYNC_MIN_CHUNK (16u << 10)
#define SYNC_MAX_CHUNK (256u << 10)
#define SYNC_ZSTD_LEVEL 19
#define SYNC_MAX_INDEX (64u << 20)   /* bytes of an index or catalog read */
#define SYNC_MAX_OBJECT (2u << 20)   /* bytes of an object or patch object, as stored */

/* Where the next chunk of `len` bytes at `data` ends (0: more bytes are
 * needed, unless `last`, when it is the end of the file). */
size_t sync_chunk_cut(const unsigned char *data, size_t len, bool last);

/* Whether `s` is 64 lower-case hex digits (a hash as the formats write it). */
bool sync_is_hex64(const char *s);
/* Whether `id` is a pack id as FORMAT.md allows it (3–128 of a-z 0-9 . -,
 * no "..", not starting with '.' or '-', not ending with '.'): safe as a
 * folder name. */
bool sync_pack_id_ok(const char *id);

/* Takes an exclusive lock on DIR/`name` (created if missing) without
 * waiting: *fd holds it until closed. KHO_EBUSY, naming `who`, when another
 * process holds it. */
int sync_lock(int *fd, const char *dir, const char *name, const char *who);
void sync_unlock(int fd);
/* The lock of a repository folder that publish, bundle, gc and export take
 * while they write it. */
#define SYNC_REPO_LOCK ".kho-lock"

/* Whether `source` is an http(s):// URL (else a folder). */
bool sync_is_url(const char *source);
/* Fetches `rel` of the repository at `source` (folder or URL) into `dest`,
 * whole or not at all, at most `rate` bytes per second (0: no cap);
 * KHO_ENOTFOUND when absent, KHO_ELIMIT past `max`. */
int sync_fetch_file(const char *source, const char *rel, const char *dest, uint64_t max,
	uint64_t rate);

/* REPO/objects/ab/HASH.zst (malloc'd). */
char *sync_object_path(const char *repo, const kho_hash *hash);
/* Stores `len` bytes as the object named by their hash (*hash), unless it is
 * there already (*added false); *stored gets the object's size either way. */
int sync_object_put(kho_hash *hash, bool *added, uint64_t *stored, const char *repo,
	const void *data, size_t len);
/* Reads an object back: KHO_ENOTFOUND when absent, KHO_ECORRUPT when it does
 * not decompress to `size` bytes whose hash is its name. *out is malloc'd. */
int sync_object_read(unsigned char **out, const char *repo, const kho_hash *hash, size_t size);

/* Patch objects (REPOSITORY.md): a changed file compressed with the previous
 * version's file as zstd's prefix, objects/ab/NEW.patch-BASE.zst. */
char *sync_patch_rel(const char *new_hex, const char *base_hex);
int sync_patch_put(uint64_t *stored, const char *repo, const char *new_hex, const char *base_hex,
	const void *data, size_t len, const void *base, size_t base_len);
/* Reads DIR/`rel` and patches `base` with it into `size` bytes hashing to
 * `hash` (KHO_ECORRUPT otherwise); *out malloc'd. */
int sync_patch_read(unsigned char **out, const char *dir, const char *rel, const kho_hash *hash,
	size_t size, const void *base, size_t base_len);

/* Writes `text` to REPO/`rel` through a temporary file, synced, renamed. */
int sync_write_file(const char *repo, const char *rel, const char *text);
/* Opens `path` for reading if it is a regular file (errno EINVAL if not;
 * with `nofollow`, ELOOP if it is a symbolic link), without blocking on a
 * FIFO or device. */
FILE *sync_open_regular(const char *path, bool nofollow);
/* Reads REPO/`rel` whole (at most SYNC_MAX_INDEX bytes). */
int sync_read_file(char **out, size_t *out_len, const char *repo, const char *rel);
/* Makes the folders of REPO/`rel`. */
int sync_make_dirs(const char *repo, const char *rel);

/* The catalog, parsed and checked for its shape (KHO_ECORRUPT naming what
 * is wrong); NULL *out when the repository has none yet. With keys, its
 * signature must verify with one of them (KHO_ESIGNATURE otherwise). */
int sync_catalog_load(json_t **out, const char *repo, const kho_public_key *keys, size_t n_keys);
/* The catalog's `len` bytes at `text` parsed and checked as
 * sync_catalog_load does once the signature verified (KHO_ECORRUPT or
 * KHO_EUNSAFE naming what is wrong); *out set only on success. */
int sync_catalog_parse(json_t **out, const char *text, size_t len);
/* Writes and signs the catalog (REPOSITORY.md: signature, then catalog). */
int sync_catalog_save(const char *repo, json_t *catalog, const kho_secret_key *sec);
/* Takes the repository's lock (*lock, for sync_unlock()) and loads its
 * catalog, checked against the key's public half; KHO_ENOTFOUND without one
 * (the lock is not held after an error). */
int sync_catalog_lock(json_t **catalog, int *lock, const char *repo, const kho_secret_key *sec);
/* Under the repository's lock: loads the catalog (checked against the
 * key's public half), lets `edit` change it, then saves it re-signed with
 * the next serial (*serial). An error of `edit` leaves the catalog as it was. */
int sync_catalog_edit(int64_t *serial, const char *repo, const kho_secret_key *sec,
	int (*edit)(json_t *catalog, void *payload), void *payload);

/* A catalog's "popular" (absent is fine): KHO_ECORRUPT naming `where` when
 * it is not a list of at most SYNC_POPULAR_MAX {pack, lesson, opens,
 * schools} (repo-popular.c). */
#define SYNC_POPULAR_MAX 200
int sync_check_popular(json_t *popular, const char *where);
/* Whether a catalog's pack matches one of the subscriptions (a pattern
 * "@NAME" follows the catalog's bundle NAME). */
bool sync_subscribed(json_t *pack, json_t *catalog, const kho_subscription *subs, size_t n);
/* Index deltas (index-delta.c): an index's text as published; the delta of
 * `index` from `base` (whose text hashes to base_hash); a delta applied to
 * its base, as the full index's text (NULL when it does not fit). */
char *sync_index_text(json_t *index);
json_t *sync_index_delta(json_t *base, const char *base_hash, json_t *index);
char *sync_index_apply(json_t *base, json_t *delta);

/* Packs by id, each one's versions oldest first. */
void sync_catalog_sort(json_t *catalog);
/* A version's index, checked against the hash the catalog gives for it. */
int sync_index_load(json_t **out, const char *repo, const char *rel, const char *hash_hex);

/* An index's `len` bytes at `text` parsed and checked as sync_index_load
 * does once the hash matched (KHO_ECORRUPT naming `rel`); *out set only on
 * success. */
int sync_index_parse(json_t **out, const char *text, size_t len, const char *rel);

/* The box's side, shared by sync-box.c (plan, finish) and sync-fetch.c. */
/* Whether the box's blob store holds content `hex` (64 hex digits). */
bool sync_have_blob(kho_store *store, const char *hex);
/* Item's index in the plan's work folder, fetched (or rebuilt from its
 * delta) when not there yet, and checked: its hash, its shape, and that it
 * describes the pack and version the catalog names. */
int sync_load_index(json_t **out, kho_sync_plan *plan, const kho_sync_item *item,
	kho_store *store);
/* Removes `path` and everything under it (a build folder, the work
 * folder); KHO_OK when it is absent, KHO_EIO when it stays. */
int sync_remove_tree(const char *path);

#endif
