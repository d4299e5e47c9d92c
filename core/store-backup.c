/*
 * store-backup.c — `kho backup DIR` / `kho restore DIR`: the data a box cannot
 * fetch again — teachers' accounts, favourites, history, collections, and the box's
 * subscriptions, trusted keys, catalogs seen and settings — in a file of their own
 * (kho-backup.db, SQLite). Lessons are not in it: after a restore onto a new
 * box, a sync brings them back. The copy is made inside one read
 * transaction, so it is one consistent snapshot while the box serves.
 */
#include "core-private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The tables copied, parents first (foreign keys). */
static const char *const tables[] = {
	"users", "favourites", "history", "collections", "collection_items", "subscriptions",
	"trusted_keys", "catalogs_seen", "settings",
};
#define N_TABLES (sizeof tables / sizeof tables[0])

static int run(kho_store *store, const char *sql, const char *what)
{
	char *err = NULL;
	int src = sqlite3_exec(kho_store_db(store), sql, NULL, NULL, &err);
	int rc = src == SQLITE_OK ? KHO_OK : kho_error_set(KHO_EIO, "%s: %s", what,
		err ? err : sqlite3_errstr(src));
	sqlite3_free(err);
	return rc;
}

static int attach(kho_store *store, const char *path)
{
	sqlite3_stmt *st = store_prepare(store, "ATTACH DATABASE ?1 AS backup");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(store, src, "opening the backup");
}

int kho_store_backup(kho_store *store, const char *path)
{
	if (access(path, F_OK) == 0)
		return kho_error_set(KHO_EEXISTS, "%s exists already", path);
	int rc = attach(store, path);
	if (rc)
		return rc;
	/* one snapshot: the copy is one transaction over both files */
	rc = run(store, "BEGIN;", "backing up");
	char sql[256];
	for (size_t i = 0; !rc && i < N_TABLES; i++) {
		snprintf(sql, sizeof sql, "CREATE TABLE backup.%s AS SELECT * FROM main.%s;", tables[i],
			tables[i]);
		rc = run(store, sql, "backing up");
	}
	if (!rc)
		rc = run(store, "CREATE TABLE backup.kho_backup AS SELECT 1 AS format,"
			" strftime('%s','now') AS created;", "backing up");
	rc = rc ? (run(store, "ROLLBACK;", ""), rc) : run(store, "COMMIT;", "backing up");
	run(store, "DETACH DATABASE backup;", "");
	if (rc)
		unlink(path);
	return rc;
}

/* The single number `sql` gives (0 when it fails). */
static int64_t count(kho_store *store, const char *sql)
{
	sqlite3_stmt *st = store_prepare(store, sql);
	int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return n;
}

static bool in_backup(kho_store *store, const char *table)
{
	sqlite3_stmt *st = store_prepare(store, "SELECT 1 FROM backup.sqlite_master"
		" WHERE type = 'table' AND name = ?1");
	if (!st) {
		kho_error_clear();
		return false;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	bool there = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return there;
}

int kho_store_restore(kho_store *store, const char *path)
{
	if (access(path, R_OK) != 0)
		return kho_error_set(KHO_ENOTFOUND, "cannot read %s", path);
	int rc = attach(store, path);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prepare(store, "SELECT format FROM backup.kho_backup");
	int src = st ? sqlite3_step(st) : SQLITE_ERROR;
	bool ok = src == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	if (!ok) {
		run(store, "DETACH DATABASE backup;", "");
		kho_error_clear();
		return kho_error_set(KHO_EINVALID, "%s is not a kho backup", path);
	}
	rc = run(store, "BEGIN IMMEDIATE;", "restoring");
	/* onto a new box only: rows of the same key would replace, and cascade
	 * away, the data of its own teachers */
	if (!rc && count(store, "SELECT count(*) FROM main.users"))
		rc = kho_error_set(KHO_EEXISTS, "this box has teachers' accounts already: restore onto "
			"a new box (or remove them with kho user remove)");
	if (!rc && count(store, "SELECT count(*) FROM backup.users WHERE id <= 0"))
		rc = kho_error_set(KHO_ECORRUPT, "%s: an account has an id below 1", path);
	char sql[256];
	for (size_t i = 0; !rc && i < N_TABLES; i++) {
		if (!in_backup(store, tables[i]))
			continue; /* a backup made before the table existed */
		snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO main.%s SELECT * FROM backup.%s;",
			tables[i], tables[i]);
		rc = run(store, sql, "restoring");
	}
	rc = rc ? (run(store, "ROLLBACK;", ""), rc) : run(store, "COMMIT;", "restoring");
	run(store, "DETACH DATABASE backup;", "");
	return rc;
}
