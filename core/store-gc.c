/*
 * store-gc.c — going back a version, and freeing what no version uses:
 * `kho rollback PACK` makes the newest older version visible again (and
 * forgets the newer one, so that it can be installed again later);
 * `kho gc` keeps, besides each visible version, the newest older one (for a
 * rollback) and deletes the rest, then the blobs no kept version names.
 * Both hold the store's write lock throughout: an install renames its blobs
 * into place inside its own write transaction, so a collection never sees a
 * blob that a transaction about to commit will name.
 */
#include "core-private.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rollback_error(kho_store *store, int rc)
{
	char saved[2048];
	snprintf(saved, sizeof saved, "%s", kho_error_last());
	sqlite3_exec(kho_store_db(store), "ROLLBACK;", NULL, NULL, NULL);
	return kho_error_set(rc, "%s", saved);
}

static int one_int(int64_t *out, kho_store *store, const char *sql, const char *text,
	int64_t num, const char *what)
{
	sqlite3_stmt *st = store_prepare(store, sql);
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, num);
	int src = sqlite3_step(st), rc = KHO_OK;
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(st, 0);
	else if (src == SQLITE_ROW || src == SQLITE_DONE)
		*out = 0;
	else
		rc = kho_store_error(store, src, what);
	sqlite3_finalize(st);
	return rc;
}

static int run_sql(kho_store *store, const char *sql, const char *text, int64_t num,
	const char *what)
{
	sqlite3_stmt *st = store_prepare(store, sql);
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, num);
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(store, src, what);
}

int kho_store_rollback(int64_t *from, int64_t *to, kho_store *store, const char *pack_id,
	const kho_install_hooks *hooks)
{
	*from = *to = 0;
	int rc = kho_store_exec(store, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	int64_t old_pv = 0, new_pv = 0;
	if (!(rc = kho_store_current_version(from, store, pack_id)))
		rc = one_int(to, store, "SELECT max(version) FROM pack_versions WHERE pack_id = ?1"
			" AND version < ?2", pack_id, *from, "reading the pack's versions");
	if (!rc && !*to)
		rc = kho_error_set(KHO_ENOTFOUND, "pack '%s' has no older version kept (version %lld "
			"is the only one)", pack_id, (long long)*from);
	if (!rc)
		rc = one_int(&old_pv, store, "SELECT id FROM pack_versions WHERE pack_id = ?1 AND"
			" version = ?2", pack_id, *from, "reading the pack's versions");
	if (!rc)
		rc = one_int(&new_pv, store, "SELECT id FROM pack_versions WHERE pack_id = ?1 AND"
			" version = ?2", pack_id, *to, "reading the pack's versions");
	/* the switch first, then the hooks, as an install does: the index
	 * records the visible versions it holds, which must be the new ones */
	if (!rc)
		rc = run_sql(store, "UPDATE packs SET current_version = ?2 WHERE id = ?1", pack_id,
			*to, "switching the pack version");
	if (!rc && hooks && hooks->switched)
		rc = hooks->switched(hooks->payload, old_pv, new_pv);
	/* the newer version goes, so that it can be installed again */
	if (!rc)
		rc = run_sql(store, "DELETE FROM pack_versions WHERE pack_id = ?1 AND version > ?2",
			pack_id, *to, "forgetting the newer version");
	if (!rc)
		rc = kho_store_exec(store, "COMMIT;");
	return rc ? rollback_error(store, rc) : KHO_OK;
}

/* Removes the blobs under `dir` that no files row names. */
static int sweep_blobs(kho_gc_info *out, kho_store *store, const char *dir)
{
	sqlite3_stmt *used = store_prepare(store, "SELECT 1 FROM files WHERE hash = ?1 LIMIT 1");
	if (!used)
		return kho_error_last_code();
	size_t n = strlen(dir) + 100;
	char *sub = malloc(n), *path = malloc(n);
	int rc = sub && path ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	for (int b = 0; !rc && b < 256; b++) {
		snprintf(sub, n, "%s/%02x", dir, b);
		DIR *d = opendir(sub);
		struct dirent *e;
		while (d && !rc && (e = readdir(d))) {
			if (strlen(e->d_name) != 64 || strspn(e->d_name, "0123456789abcdef") != 64)
				continue;
			sqlite3_bind_text(used, 1, e->d_name, -1, SQLITE_STATIC);
			int src = sqlite3_step(used);
			sqlite3_reset(used);
			if (src == SQLITE_ROW)
				continue;
			if (src != SQLITE_DONE) {
				rc = kho_store_error(store, src, "collecting blobs");
				break;
			}
			snprintf(path, n, "%s/%s", sub, e->d_name);
			struct stat st;
			if (stat(path, &st) == 0 && unlink(path) == 0) {
				out->blobs_removed++;
				out->bytes_freed += (uint64_t)st.st_size;
			}
		}
		if (d)
			closedir(d);
	}
	sqlite3_finalize(used);
	free(sub);
	free(path);
	return rc;
}

int kho_store_gc(kho_gc_info *out, kho_store *store)
{
	*out = (kho_gc_info){ 0 };
	int rc = kho_store_exec(store, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	/* every version that is neither visible nor the newest older one */
	sqlite3_stmt *st = store_prepare(store,
		"DELETE FROM pack_versions WHERE id IN (SELECT v.id FROM pack_versions v"
		" JOIN packs p ON p.id = v.pack_id WHERE v.version < p.current_version"
		" AND v.version < (SELECT max(o.version) FROM pack_versions o"
		"  WHERE o.pack_id = v.pack_id AND o.version < p.current_version))");
	if (!st)
		rc = kho_error_last_code();
	else {
		int src = sqlite3_step(st);
		if (src != SQLITE_DONE)
			rc = kho_store_error(store, src, "dropping old versions");
		out->versions_removed = (size_t)sqlite3_changes(kho_store_db(store));
		sqlite3_finalize(st);
	}
	if (!rc)
		rc = kho_store_exec(store, "COMMIT;");
	if (rc)
		return rollback_error(store, rc);
	/* then the blobs, once the rows that named them are gone for good; the
	 * write lock keeps installs out while they are swept */
	size_t n = strlen(kho_store_home(store)) + 8;
	char *dir = malloc(n);
	if (!dir)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(dir, n, "%s/blobs", kho_store_home(store));
	if (!(rc = kho_store_exec(store, "BEGIN IMMEDIATE;"))) {
		rc = sweep_blobs(out, store, dir);
		rc = rc ? rollback_error(store, rc) : kho_store_exec(store, "COMMIT;");
	}
	free(dir);
	return rc;
}
