/*
 * store.c — opening the box store ($KHO_HOME/kho.db and blobs/) and reading
 * what is installed. SQLite runs in WAL mode, so that teachers keep searching
 * while a pack installs, with foreign keys on and synchronous=FULL, so that a
 * committed install survives a power cut. The schema and its migrations are
 * in store-schema.c; installing and removing packs in store-install.c.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "core-private.h"

struct kho_store {
	char *home;
	sqlite3 *db;
	kho_blobs *blobs;
};

int store_user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(db, "PRAGMA user_version;", -1, &st, NULL);
	if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		return KHO_OK;
	}
	sqlite3_finalize(st);
	src = sqlite3_errcode(db) & 0xff;
	return kho_error_set(src == SQLITE_NOTADB || src == SQLITE_CORRUPT ? KHO_ECORRUPT : KHO_EIO,
		"cannot read the store's schema version: %s", sqlite3_errmsg(db));
}

int kho_store_error(kho_store *store, int src, const char *what)
{
	int code;
	switch (src & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: code = KHO_EBUSY; break;
	case SQLITE_FULL: code = KHO_ENOSPACE; break;
	case SQLITE_NOMEM: code = KHO_ENOMEM; break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: code = KHO_ECORRUPT; break;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY: code = KHO_EIO; break;
	case SQLITE_CONSTRAINT: code = KHO_EINVALID; break;
	default: code = KHO_ERROR; break;
	}
	return kho_error_set(code, "%s: %s", what, store && store->db ? sqlite3_errmsg(store->db)
		: sqlite3_errstr(src));
}

sqlite3_stmt *store_prepare(kho_store *store, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK) {
		kho_store_error(store, src, "preparing a store query");
		return NULL;
	}
	return st;
}

int kho_store_exec(kho_store *store, const char *sql)
{
	char *err = NULL;
	int src = sqlite3_exec(store->db, sql, NULL, NULL, &err);
	if (src == SQLITE_OK)
		return KHO_OK;
	int rc = kho_store_error(store, src, "store");
	if (err)
		kho_error_set(rc, "store: %s", err);
	sqlite3_free(err);
	return rc;
}

int kho_store_open_schema(kho_store **out, const char *home, int schema)
{
	int rc;
	kho_store *s = calloc(1, sizeof *s);
	char *dbpath = NULL, *blobdir = NULL;
	if (!s || !(s->home = strdup(home)) || !(dbpath = kho_path_join(home, "kho.db"))
		|| !(blobdir = kho_path_join(home, "blobs"))) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = kho_mkdir_p(home, 0755)) || (rc = kho_blobs_open(&s->blobs, blobdir)))
		goto fail;
	/* One thread at a time uses a store's connection (kho_core.h): no
	 * mutex on every SQLite call. */
	int src = sqlite3_open_v2(dbpath, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
		| SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = kho_error_set(KHO_EIO, "cannot open %s: %s", dbpath,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	int version = 0;
	if ((rc = store_user_version(s->db, &version))) {
		kho_error_set(rc, "%s is not a kho store (%s)", dbpath, kho_error_last());
		goto fail;
	}
	if (version > KHO_STORE_SCHEMA_VERSION) {
		rc = kho_error_set(KHO_EVERSION, "%s has schema version %d, newer than this kho "
			"understands (%d): use a newer kho", dbpath, version, KHO_STORE_SCHEMA_VERSION);
		goto fail;
	}
	/* Switching a new store to WAL needs a moment alone with it, which the
	 * busy handler does not wait for: retry while another kho opens it too.
	 * A new store gets 16 KiB pages (an existing one keeps its own): a
	 * lesson's text fits in one page instead of a chain of four, and
	 * imports write and read a quarter as many pages and WAL frames
	 * (docs/benchmarks.md: one-core import 5.9 → 5.6 s, searches as fast). */
	for (int tries = 0;; tries++) {
		rc = kho_store_exec(s, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;");
		if (rc != KHO_EBUSY || tries == 100)
			break;
		usleep(50000);
	}
	if (rc || (rc = kho_store_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
			"PRAGMA cache_size = -8192;")))
		goto fail;
	if ((rc = kho_store_migrate_to(s->db, schema)))
		goto fail;
	free(dbpath);
	free(blobdir);
	*out = s;
	return KHO_OK;
fail:
	free(dbpath);
	free(blobdir);
	kho_store_free(s);
	return rc;
}

int kho_store_open(kho_store **out, const char *home)
{
	return kho_store_open_schema(out, home, KHO_STORE_SCHEMA_VERSION);
}

void kho_store_free(kho_store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db);
	kho_blobs_free(s->blobs);
	free(s->home);
	free(s);
}

sqlite3 *kho_store_db(kho_store *s)
{
	return s->db;
}

kho_blobs *kho_store_blobs(kho_store *s)
{
	return s->blobs;
}

const char *kho_store_home(const kho_store *s)
{
	return s->home;
}

int kho_store_schema_version(kho_store *s)
{
	int v = -1;
	store_user_version(s->db, &v);
	return v;
}

int kho_store_current_version(int64_t *out, kho_store *s, const char *pack_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT current_version FROM packs WHERE id = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, pack_id, -1, SQLITE_STATIC);
	int rc, src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = KHO_OK;
	} else if (src == SQLITE_DONE) {
		rc = kho_error_set(KHO_ENOTFOUND, "no pack '%s' is installed", pack_id);
	} else {
		rc = kho_store_error(s, src, "reading installed packs");
	}
	sqlite3_finalize(st);
	return rc;
}

char *store_column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return strdup(t ? (const char *)t : "");
}

int kho_store_list_packs(kho_pack_info **out, size_t *out_count, kho_store *s)
{
	sqlite3_stmt *st = store_prepare(s,
		"SELECT p.id, v.version, v.title, v.lang, v.installed_at, v.signed_by,"
		"  (SELECT COUNT(*) FROM lessons l WHERE l.pv = v.id),"
		"  (SELECT COUNT(*) FROM pack_versions o WHERE o.pack_id = p.id AND o.id <> v.id)"
		" FROM packs p JOIN pack_versions v ON v.pack_id = p.id AND v.version = p.current_version"
		" ORDER BY p.id");
	if (!st)
		return kho_error_last_code();
	kho_pack_info *infos = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_pack_info *p = realloc(infos, (n + 1) * sizeof *p);
		if (!p) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		infos = p;
		kho_pack_info *info = &infos[n++];
		info->id = store_column_dup(st, 0);
		info->version = sqlite3_column_int64(st, 1);
		info->title = store_column_dup(st, 2);
		info->lang = store_column_dup(st, 3);
		info->installed_at = sqlite3_column_int64(st, 4);
		info->signed_by = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL :
			store_column_dup(st, 5);
		info->lessons = sqlite3_column_int64(st, 6);
		info->older_versions = sqlite3_column_int64(st, 7);
		if (!info->id || !info->title || !info->lang ||
		    (sqlite3_column_type(st, 5) != SQLITE_NULL && !info->signed_by)) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(s, src, "listing packs");
	sqlite3_finalize(st);
	if (rc) {
		kho_pack_info_free(infos, n);
		return rc;
	}
	*out = infos;
	*out_count = n;
	return KHO_OK;
}

void kho_pack_info_free(kho_pack_info *infos, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(infos[i].id);
		free(infos[i].title);
		free(infos[i].lang);
		free(infos[i].signed_by);
	}
	free(infos);
}
