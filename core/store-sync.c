/*
 * store-sync.c — what the box keeps for `kho sync` (tables subscriptions
 * and catalogs_seen, docs/store.md): the packs it pulls, and the newest
 * catalog serial seen from each publisher key, so that an older catalog
 * replayed later is recognised and refused.
 */
#include "core-private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int kho_store_subscribe(kho_store *store, const kho_subscription *sub)
{
	sqlite3_stmt *st = store_prepare(store, "INSERT INTO subscriptions (pattern, subject, grade,"
		" lang, added_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, sub->pattern, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sub->subject ? sub->subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sub->grade ? sub->grade : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sub->lang ? sub->lang : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	int src = sqlite3_step(st), rc = KHO_OK;
	if ((src & 0xff) == SQLITE_CONSTRAINT)
		rc = kho_error_set(KHO_EEXISTS, "already subscribed to %s", sub->pattern);
	else if (src != SQLITE_DONE)
		rc = kho_store_error(store, src, "subscribing");
	sqlite3_finalize(st);
	return rc;
}

int kho_store_unsubscribe(kho_store *store, const char *pattern)
{
	sqlite3_stmt *st = store_prepare(store, "DELETE FROM subscriptions WHERE pattern = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
	int src = sqlite3_step(st), rc = KHO_OK;
	if (src != SQLITE_DONE)
		rc = kho_store_error(store, src, "unsubscribing");
	else if (!sqlite3_changes(kho_store_db(store)))
		rc = kho_error_set(KHO_ENOTFOUND, "no subscription %s (see kho subscriptions)", pattern);
	sqlite3_finalize(st);
	return rc;
}

void kho_subscriptions_free(kho_subscription *subs, size_t n)
{
	for (size_t i = 0; subs && i < n; i++) {
		free(subs[i].pattern);
		free(subs[i].subject);
		free(subs[i].grade);
		free(subs[i].lang);
	}
	free(subs);
}

int kho_store_subscriptions(kho_subscription **out, size_t *out_count, kho_store *store)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT pattern, subject, grade, lang, added_at"
		" FROM subscriptions ORDER BY pattern, subject, grade, lang");
	if (!st)
		return kho_error_last_code();
	kho_subscription *subs = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_subscription *grown = realloc(subs, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		subs = grown;
		subs[n] = (kho_subscription){ store_column_dup(st, 0), store_column_dup(st, 1),
			store_column_dup(st, 2), store_column_dup(st, 3), sqlite3_column_int64(st, 4) };
		if (!subs[n].pattern || !subs[n].subject || !subs[n].grade || !subs[n].lang)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
		n++;
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading subscriptions");
	sqlite3_finalize(st);
	if (rc) {
		kho_subscriptions_free(subs, n);
		return rc;
	}
	*out = subs;
	*out_count = n;
	return KHO_OK;
}

int kho_store_catalog_seen(int64_t *serial, kho_store *store, const char *key_id)
{
	*serial = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT serial FROM catalogs_seen WHERE key_id = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	int src = sqlite3_step(st), rc = KHO_OK;
	if (src == SQLITE_ROW)
		*serial = sqlite3_column_int64(st, 0);
	else if (src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading the catalogs seen");
	sqlite3_finalize(st);
	return rc;
}

/* With `source` NULL only the serial is raised: a sync records it as soon as
 * it has checked the catalog, so that a sync that fails, is killed or stops
 * at --until still refuses that catalog's predecessors later; when it last
 * synced, and from where, is recorded when a sync completes (synced_at 0:
 * not yet). */
int kho_store_catalog_record(kho_store *store, const char *key_id, int64_t serial,
	int64_t created, const char *source)
{
	sqlite3_stmt *st = store_prepare(store, source ?
		"INSERT INTO catalogs_seen (key_id, serial, created, source, synced_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id) DO UPDATE SET"
		" serial = max(serial, excluded.serial), created = excluded.created,"
		" source = excluded.source, synced_at = excluded.synced_at" :
		"INSERT INTO catalogs_seen (key_id, serial, created, source, synced_at)"
		" VALUES (?1, ?2, ?3, '', 0) ON CONFLICT (key_id) DO UPDATE SET"
		" serial = max(serial, excluded.serial)");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, serial);
	sqlite3_bind_int64(st, 3, created);
	if (source) {
		sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	}
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(store, src, "recording a catalog");
}

int kho_store_file_hashes(char ***out, size_t *out_count, kho_store *store)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT DISTINCT hash FROM files ORDER BY hash");
	if (!st)
		return kho_error_last_code();
	char **list = NULL;
	size_t n = 0, cap = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			char **grown = realloc(list, cap * sizeof *grown);
			if (!grown) {
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
				break;
			}
			list = grown;
		}
		if (!(list[n++] = store_column_dup(st, 0)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading file hashes");
	sqlite3_finalize(st);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(list[i]);
		free(list);
		return rc;
	}
	*out = list;
	*out_count = n;
	return KHO_OK;
}

int kho_store_last_sync(int64_t *synced_at, char **source, int64_t *serial, kho_store *store)
{
	*synced_at = *serial = 0;
	*source = NULL;
	sqlite3_stmt *st = store_prepare(store, "SELECT synced_at, source, serial FROM catalogs_seen"
		" ORDER BY synced_at DESC LIMIT 1");
	if (!st)
		return kho_error_last_code();
	int src = sqlite3_step(st), rc = KHO_OK;
	if (src == SQLITE_ROW) {
		*synced_at = sqlite3_column_int64(st, 0);
		*serial = sqlite3_column_int64(st, 2);
		if (!(*source = store_column_dup(st, 1)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	} else if (src != SQLITE_DONE) {
		rc = kho_store_error(store, src, "reading the last sync");
	}
	sqlite3_finalize(st);
	return rc;
}
