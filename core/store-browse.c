/*
 * store-browse.c — reading what is installed the way the web app shows it:
 * one lesson with its neighbours in its unit, the file behind a pack path,
 * and browsing by subject → grade → unit → lesson. Only visible pack
 * versions are browsed; files are served for every installed version, so
 * that a page opened before an update keeps its images.
 */
#include "core-private.h"

#include <stdlib.h>
#include <string.h>

/* The lessons of visible pack versions, as `l`, with their pack version `v`. */
#define VISIBLE \
	" FROM lessons l JOIN pack_versions v ON v.id = l.pv" \
	" JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version"

static char *dup_or_null(sqlite3_stmt *st, int i, bool *failed)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	char *s = store_column_dup(st, i);
	if (!s)
		*failed = true;
	return s;
}

/* --------------------------------------------------------------- a lesson */

static void ref_free(kho_lesson_ref *r)
{
	free(r->lesson);
	free(r->title);
}

void kho_lesson_info_free(kho_lesson_info *info)
{
	if (!info)
		return;
	free(info->pack);
	free(info->pack_title);
	free(info->lesson);
	free(info->title);
	free(info->summary);
	free(info->keywords);
	free(info->href);
	free(info->unit_id);
	free(info->unit_title);
	free(info->subjects);
	free(info->grades);
	free(info->signed_by);
	ref_free(&info->prev);
	ref_free(&info->next);
	free(info);
}

/* The lesson of unit `unit` of `pv` just before (`before`) or after `ord`. */
static int neighbour(kho_lesson_ref *out, kho_store *store, int64_t pv, const char *unit,
	int64_t ord, bool before)
{
	sqlite3_stmt *st = store_prepare(store, before ?
		"SELECT lesson_id, title FROM lessons WHERE pv = ?1 AND unit_id = ?2 AND ord < ?3"
		" ORDER BY ord DESC LIMIT 1" :
		"SELECT lesson_id, title FROM lessons WHERE pv = ?1 AND unit_id = ?2 AND ord > ?3"
		" ORDER BY ord LIMIT 1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, pv);
	sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ord);
	int rc = KHO_OK, src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->lesson = store_column_dup(st, 0);
		out->title = store_column_dup(st, 1);
		if (!out->lesson || !out->title)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	} else if (src != SQLITE_DONE) {
		rc = kho_store_error(store, src, "reading a lesson");
	}
	sqlite3_finalize(st);
	return rc;
}

int kho_store_lesson(kho_lesson_info **out, kho_store *store, const char *pack_id,
	const char *lesson_id)
{
	*out = NULL;
	sqlite3_stmt *st = store_prepare(store,
		"SELECT p.id, v.title, v.version, l.lesson_id, l.title, l.summary, l.keywords, l.href,"
		"  l.unit_id, u.title, l.subjects, l.grades, l.pv, l.ord, v.signed_by"
		VISIBLE
		" LEFT JOIN units u ON u.pv = l.pv AND u.unit_id = l.unit_id"
		" WHERE p.id = ?1 AND l.lesson_id = ?2");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, pack_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lesson_id, -1, SQLITE_STATIC);
	int src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		sqlite3_finalize(st);
		return src == SQLITE_DONE ?
			kho_error_set(KHO_ENOTFOUND, "no lesson '%s' in pack '%s'", lesson_id, pack_id) :
			kho_store_error(store, src, "reading a lesson");
	}
	kho_lesson_info *info = calloc(1, sizeof *info);
	bool failed = !info;
	if (info) {
		info->pack = dup_or_null(st, 0, &failed);
		info->pack_title = dup_or_null(st, 1, &failed);
		info->version = sqlite3_column_int64(st, 2);
		info->lesson = dup_or_null(st, 3, &failed);
		info->title = dup_or_null(st, 4, &failed);
		info->summary = store_column_dup(st, 5);
		info->keywords = store_column_dup(st, 6);
		info->href = dup_or_null(st, 7, &failed);
		info->unit_id = dup_or_null(st, 8, &failed);
		info->unit_title = info->unit_id ? store_column_dup(st, 9) : NULL;
		info->subjects = store_column_dup(st, 10);
		info->grades = store_column_dup(st, 11);
		info->signed_by = dup_or_null(st, 14, &failed);
		failed = failed || !info->summary || !info->keywords || !info->subjects ||
			!info->grades || (info->unit_id && !info->unit_title);
	}
	int64_t pv = sqlite3_column_int64(st, 12), ord = sqlite3_column_int64(st, 13);
	sqlite3_finalize(st);
	int rc = failed ? kho_error_set(KHO_ENOMEM, "out of memory") : KHO_OK;
	if (!rc && info->unit_id &&
	    !(rc = neighbour(&info->prev, store, pv, info->unit_id, ord, true)))
		rc = neighbour(&info->next, store, pv, info->unit_id, ord, false);
	if (rc) {
		kho_lesson_info_free(info);
		return rc;
	}
	*out = info;
	return KHO_OK;
}

/* ----------------------------------------------------------------- files */

int kho_store_file(kho_hash *hash, uint64_t *size, kho_store *store, const char *pack_id,
	int64_t version, const char *path)
{
	sqlite3_stmt *st = store_prepare(store,
		"SELECT f.hash, f.size FROM files f JOIN pack_versions v ON v.id = f.pv"
		" WHERE v.pack_id = ?1 AND v.version = ?2 AND f.path = ?3");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, pack_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	int rc, src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		rc = hex ? kho_hash_from_hex(hash, hex) : KHO_ECORRUPT;
		if (rc)
			rc = kho_error_set(KHO_ECORRUPT, "a stored file hash is malformed");
		*size = (uint64_t)sqlite3_column_int64(st, 1);
	} else if (src == SQLITE_DONE) {
		rc = kho_error_set(KHO_ENOTFOUND, "no file '%s' in version %lld of pack '%s'", path,
			(long long)version, pack_id);
	} else {
		rc = kho_store_error(store, src, "reading a file");
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---------------------------------------------------------------- browse */

void kho_browse_counts_free(kho_browse_count *counts, size_t count)
{
	for (size_t i = 0; counts && i < count; i++)
		free(counts[i].value);
	free(counts);
}

int kho_store_browse_counts(kho_browse_count **out, size_t *out_count, kho_store *store,
	const char *subject)
{
	*out = NULL;
	*out_count = 0;
	/* grades sort as numbers, subjects as text */
	sqlite3_stmt *st = store_prepare(store, subject ?
		"SELECT g.value, COUNT(*)" VISIBLE
		" JOIN lesson_tags s ON s.lesson = l.id AND s.kind = 'subject' AND s.value = ?1"
		" JOIN lesson_tags g ON g.lesson = l.id AND g.kind = 'grade'"
		" GROUP BY g.value ORDER BY CAST(g.value AS INTEGER), g.value" :
		"SELECT s.value, COUNT(*)" VISIBLE
		" JOIN lesson_tags s ON s.lesson = l.id AND s.kind = 'subject'"
		" GROUP BY s.value ORDER BY s.value");
	if (!st)
		return kho_error_last_code();
	if (subject)
		sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	kho_browse_count *counts = NULL;
	size_t n = 0, cap = 0;
	int rc = KHO_OK, src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t c = cap ? 2 * cap : 16;
			kho_browse_count *grown = realloc(counts, c * sizeof *grown);
			if (!grown) {
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
				break;
			}
			counts = grown;
			cap = c;
		}
		counts[n].value = store_column_dup(st, 0);
		counts[n].count = sqlite3_column_int64(st, 1);
		if (!counts[n++].value) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "browsing lessons");
	sqlite3_finalize(st);
	if (rc) {
		kho_browse_counts_free(counts, n);
		return rc;
	}
	*out = counts;
	*out_count = n;
	return KHO_OK;
}

void kho_browse_units_free(kho_browse_unit *units, size_t count)
{
	for (size_t i = 0; units && i < count; i++) {
		free(units[i].pack);
		free(units[i].unit_id);
		free(units[i].title);
		for (size_t j = 0; j < units[i].n_lessons; j++)
			ref_free(&units[i].lessons[j]);
		free(units[i].lessons);
	}
	free(units);
}

static bool same_unit(const kho_browse_unit *u, const char *pack, const char *unit)
{
	return !strcmp(u->pack, pack) && (u->unit_id && unit ? !strcmp(u->unit_id, unit) :
		!u->unit_id && !unit);
}

int kho_store_browse_units(kho_browse_unit **out, size_t *out_count, kho_store *store,
	const char *subject, const char *grade)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store,
		"SELECT p.id, l.unit_id, u.title, l.lesson_id, l.title" VISIBLE
		" LEFT JOIN units u ON u.pv = l.pv AND u.unit_id = l.unit_id"
		" JOIN lesson_tags s ON s.lesson = l.id AND s.kind = 'subject' AND s.value = ?1"
		" JOIN lesson_tags g ON g.lesson = l.id AND g.kind = 'grade' AND g.value = ?2"
		/* a lesson without a unit stands where it is in the pack */
		" ORDER BY p.id, COALESCE(u.ord, l.ord), l.ord");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, grade, -1, SQLITE_STATIC);
	kho_browse_unit *units = NULL;
	size_t n = 0, cap = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pack = (const char *)sqlite3_column_text(st, 0);
		const char *unit = (const char *)sqlite3_column_text(st, 1);
		if (!pack) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		if (!n || !same_unit(&units[n - 1], pack, unit)) {
			if (n == cap) {
				size_t c = cap ? 2 * cap : 16;
				kho_browse_unit *grown = realloc(units, c * sizeof *grown);
				if (!grown) {
					rc = kho_error_set(KHO_ENOMEM, "out of memory");
					break;
				}
				units = grown;
				cap = c;
			}
			bool failed = false;
			units[n] = (kho_browse_unit){ .pack = strdup(pack) };
			units[n].unit_id = dup_or_null(st, 1, &failed);
			units[n].title = unit ? store_column_dup(st, 2) : NULL;
			if (!units[n++].pack || failed || (unit && !units[n - 1].title)) {
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
				break;
			}
		}
		kho_browse_unit *u = &units[n - 1];
		kho_lesson_ref *grown = realloc(u->lessons, (u->n_lessons + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		u->lessons = grown;
		kho_lesson_ref *r = &u->lessons[u->n_lessons++];
		r->lesson = store_column_dup(st, 3);
		r->title = store_column_dup(st, 4);
		if (!r->lesson || !r->title)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "browsing lessons");
	sqlite3_finalize(st);
	if (rc) {
		kho_browse_units_free(units, n);
		return rc;
	}
	*out = units;
	*out_count = n;
	return KHO_OK;
}
