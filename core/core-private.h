/*
 * core-private.h — what core's own files share and nobody outside core/
 * (except tests) may use: SQLite helpers of the store, the container
 * interface behind kho_pack, and small growable buffers.
 */
#ifndef KHO_CORE_PRIVATE_H
#define KHO_CORE_PRIVATE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kho_core.h"

/* ------------------------------------------------------------- buffers */

/* A growable byte buffer; `data` is always NUL-terminated when non-NULL. */
typedef struct kho_buf {
	char *data;
	size_t len;
	size_t cap;
} kho_buf;

int kho_buf_append(kho_buf *buf, const void *data, size_t len);
void kho_buf_free(kho_buf *buf);

/* Copies a hostile name for a message: control characters, and every byte
 * past ASCII when the name is not valid UTF-8, become \xNN; the copy is cut
 * to fit `size` (possibly inside a UTF-8 character). */
void kho_printable(char *out, size_t size, const char *name);

/* strdup that sets KHO_ENOMEM's message on failure; NULL in gives NULL. */
char *kho_strdup(const char *s);

/* --------------------------------------------------------------- blobs */

/* Removes every file in blobs/tmp/: what an install killed half-way left.
 * Call only while holding the store's write lock. */
void blobs_clean_tmp(kho_blobs *blobs);

/* ------------------------------------------------------- install text */

/* One lesson file whose text is wanted (install-text.c). */
typedef struct text_job {
	size_t entry;          /* pack entry index */
	kho_buf html;          /* the file; freed once extracted */
	char *text;            /* the result, malloc'd */
	int rc;                /* the extractor's result */
	char error[512];       /* its message when rc != 0 */
	struct text_job *next;
} text_job;

typedef struct text_pipe text_pipe;

/* Starts the extraction thread (or, if none can start, runs jobs inline). */
int text_pipe_start(text_pipe **out, const kho_install_hooks *hooks);
/* Hands a job over (the pipe owns it until popped); waits while too many
 * bytes are queued. */
void text_pipe_push(text_pipe *p, text_job *job);
/* A finished job (the caller owns it), or NULL: none is ready, or, with
 * `wait`, none is left. */
text_job *text_pipe_pop(text_pipe *p, bool wait);
/* Stops the thread and frees every job still held. */
void text_pipe_free(text_pipe *p);
void text_job_free(text_job *job);

/* --------------------------------------------------------------- store */

int store_user_version(sqlite3 *db, int *out);

/* Applies migrations until the store has schema `target`
 * (<= KHO_STORE_SCHEMA_VERSION). Each migration is its own transaction. */
int kho_store_migrate_to(sqlite3 *db, int target);

/* Opens the store like kho_store_open() but migrates only up to `schema`
 * (tests use it to make stores of older schemas). */
int kho_store_open_schema(kho_store **out, const char *home, int schema);

/* A prepared statement, or NULL with the error set. */
sqlite3_stmt *store_prepare(kho_store *store, const char *sql);

/* A malloc'd copy of column `i` ("" for NULL), or NULL when out of memory. */
char *store_column_dup(sqlite3_stmt *st, int i);

/* --------------------------------------------------------- containers */

/* One file of a pack, as the container reports it. */
typedef struct pack_entry {
	char *name;      /* checked safe relative path */
	uint64_t size;   /* declared uncompressed size */
	uint64_t index;  /* container's own index (zip) */
	uint64_t comp_size; /* zip: declared compressed size */
	uint32_t crc;    /* zip: declared CRC-32 */
	bool deflated;   /* zip: deflate, with its sizes and CRC known */
} pack_entry;

/* What a container (zip file or folder) provides to kho_pack. */
typedef struct pack_ops {
	int (*read)(void *impl, const pack_entry *entry,
		int (*sink)(void *payload, const void *data, size_t len), void *payload);
	void (*close)(void *impl);
} pack_ops;

/* Fills `entries` (sorted by name later by the caller) from the zip file
 * `path`, or from the buffer `data` when it is not NULL (then `path` only
 * names it); every name checked. */
int pack_zip_open(void **out_impl, const pack_ops **out_ops, pack_entry **out_entries,
	size_t *out_count, const char *path, const void *data, size_t len);

/* As pack_zip_open(); without `strict`, libzip's consistency check of each
 * local header against the central directory is skipped (kho_archive:
 * foreign packages made by careless tools fail it; the names, caps, sizes
 * and CRCs are still checked). */
int pack_zip_open_checked(void **out_impl, const pack_ops **out_ops, pack_entry **out_entries,
	size_t *out_count, const char *path, const void *data, size_t len, bool strict);

/* Fills `entries` from a folder; links and special files are refused. */
int pack_dir_open(void **out_impl, const pack_ops **out_ops, pack_entry **out_entries,
	size_t *out_count, const char *path);

void pack_entries_free(pack_entry *entries, size_t count);

#endif
