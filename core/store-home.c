/*
 * store-home.c — what a signed-in teacher's home page lists from the store:
 * the lessons most teachers of the box opened lately, and the lessons a
 * teacher's classes start with. Only lessons of visible pack versions.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core-private.h"
#include "kho_core.h"

void kho_lesson_briefs_free(kho_lesson_brief *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		free(list[i].pack);
		free(list[i].lesson);
		free(list[i].title);
		free(list[i].unit_title);
		free(list[i].after);
	}
	free(list);
}

/* Rows of (pack, lesson, title, unit title, count[, after]) into a list. */
static int read_briefs(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	sqlite3_stmt *st, const char *what)
{
	kho_lesson_brief *list = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_lesson_brief *grown = realloc(list, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		list = grown;
		kho_lesson_brief *b = &list[n++];
		*b = (kho_lesson_brief){ store_column_dup(st, 0), store_column_dup(st, 1),
			store_column_dup(st, 2), store_column_dup(st, 3), sqlite3_column_int64(st, 4),
			sqlite3_column_count(st) > 5 ? store_column_dup(st, 5) : NULL };
		if (!b->pack || !b->lesson || !b->title || !b->unit_title ||
		    (sqlite3_column_count(st) > 5 && !b->after))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, what);
	sqlite3_finalize(st);
	if (rc) {
		kho_lesson_briefs_free(list, n);
		return rc;
	}
	*out = list;
	*out_count = n;
	return KHO_OK;
}

#define BRIEF_FROM \
	" FROM lessons l JOIN pack_versions v ON v.id = l.pv" \
	" JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version" \
	" LEFT JOIN units u ON u.pv = l.pv AND u.unit_id = l.unit_id"

int kho_store_popular_here(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	int64_t since, size_t limit)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT p.id, l.lesson_id, l.title,"
		" coalesce(u.title, ''), count(*)" BRIEF_FROM
		" JOIN history h ON h.pack_id = p.id AND h.lesson_id = l.lesson_id"
		" WHERE h.opened_at >= ?1 * 1000"
		" GROUP BY p.id, l.lesson_id HAVING count(*) >= 2"
		" ORDER BY count(*) DESC, max(h.opened_at) DESC LIMIT ?2");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return read_briefs(out, out_count, store, st, "reading what teachers opened");
}

/* Whether the space-separated `have` shares a word with `want` ("" wants
 * anything). */
static bool shares_word(const char *have, const char *want)
{
	if (!want || !*want)
		return true;
	char a[64], b[64];
	for (const char *p = want; kho_next_word(&p, a, sizeof a);)
		for (const char *q = have; kho_next_word(&q, b, sizeof b);)
			if (!strcmp(a, b))
				return true;
	return false;
}

typedef struct unit_seen {
	int64_t pv;
	char *unit;      /* NULL: the pack's lessons without a unit */
} unit_seen;

/* Appends the lesson of the row (pack, lesson, title, unit title, pv,
 * unit id, …) unless its unit is listed already. */
static int add_start(kho_lesson_brief **list, size_t *n, unit_seen *seen, sqlite3_stmt *st)
{
	int64_t pv = sqlite3_column_int64(st, 4);
	const char *unit = (const char *)sqlite3_column_text(st, 5);
	for (size_t i = 0; i < *n; i++)
		if (seen[i].pv == pv && ((!unit && !seen[i].unit) ||
		    (unit && seen[i].unit && !strcmp(unit, seen[i].unit))))
			return KHO_OK;
	kho_lesson_brief *grown = realloc(*list, (*n + 1) * sizeof *grown);
	if (!grown)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	*list = grown;
	seen[*n] = (unit_seen){ pv, unit ? strdup(unit) : NULL };
	kho_lesson_brief *b = &(*list)[(*n)++];
	*b = (kho_lesson_brief){ store_column_dup(st, 0), store_column_dup(st, 1),
		store_column_dup(st, 2), store_column_dup(st, 3), 0, NULL };
	return b->pack && b->lesson && b->title && b->unit_title && (!unit || seen[*n - 1].unit) ?
		KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
}

/* Lessons read at most: a profile whose grades and subjects never meet in
 * one lesson would read every lesson of its grades otherwise. */
#define START_READ_MAX 5000

#define START_COLUMNS "p.id, l.lesson_id, l.title, coalesce(u.title, ''), l.pv, l.unit_id," \
	" l.subjects"

int kho_store_starting_lessons(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	const char *grades, const char *subjects, size_t limit)
{
	*out = NULL;
	*out_count = 0;
	grades = grades ? grades : "";
	subjects = subjects ? subjects : "";
	/* Driven by the index of lesson_tags (kind, value, lesson), in lesson
	 * order, for each grade (else each subject) of the profile; the other
	 * list is checked on the lesson's row. Only the lessons up to the last
	 * unit listed are read; none when nothing matches. */
	bool by_grade = *grades != '\0', by_tag = by_grade || *subjects;
	sqlite3_stmt *st = store_prepare(store, by_tag ?
		"SELECT " START_COLUMNS " FROM lesson_tags t JOIN lessons l ON l.id = t.lesson"
		" JOIN pack_versions v ON v.id = l.pv"
		" JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version"
		" LEFT JOIN units u ON u.pv = l.pv AND u.unit_id = l.unit_id"
		" WHERE t.kind = ?1 AND t.value = ?2 ORDER BY t.lesson" :
		"SELECT " START_COLUMNS " FROM packs p"
		" JOIN pack_versions v ON v.pack_id = p.id AND v.version = p.current_version"
		" JOIN lessons l ON l.pv = v.id"
		" LEFT JOIN units u ON u.pv = l.pv AND u.unit_id = l.unit_id ORDER BY p.id, l.ord");
	if (!st)
		return kho_error_last_code();
	kho_lesson_brief *list = NULL;
	unit_seen *seen = calloc(limit ? limit : 1, sizeof *seen);
	size_t n = 0;
	int rc = seen ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	char value[64];
	const char *values = by_grade ? grades : subjects;
	size_t read = 0;
	for (const char *p = values; !rc && n < limit;) {
		if (by_tag && !kho_next_word(&p, value, sizeof value))
			break;
		sqlite3_reset(st);
		if (by_tag) {
			sqlite3_bind_text(st, 1, by_grade ? "grade" : "subject", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
		}
		int src;
		while (!rc && n < limit && read < START_READ_MAX &&
		       (src = sqlite3_step(st)) == SQLITE_ROW) {
			read++;
			const char *its = (const char *)sqlite3_column_text(st, 6);
			if (!by_grade || shares_word(its ? its : "", subjects))
				rc = add_start(&list, &n, seen, st);
		}
		if (!rc && n < limit && read < START_READ_MAX && src != SQLITE_DONE)
			rc = kho_store_error(store, src, "reading where units start");
		if (!by_tag)
			break;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; seen && i < n; i++)
		free(seen[i].unit);
	free(seen);
	if (rc) {
		kho_lesson_briefs_free(list, n);
		return rc;
	}
	*out = list;
	*out_count = n;
	return KHO_OK;
}

int kho_store_next_lessons(kho_lesson_brief **out, size_t *out_count, kho_store *store,
	int64_t user_id, size_t units)
{
	*out = NULL;
	*out_count = 0;
	/* the teacher's last lesson in each of their recent units; then the
	 * first lesson after it in its unit (among the next 200, as units are
	 * runs of lessons) that they have not opened */
	sqlite3_stmt *st = store_prepare(store,
		"WITH recent AS ("
		"  SELECT l.pv, l.unit_id, l.ord, l.title AS after, h.opened_at,"
		"   row_number() OVER (PARTITION BY l.pv, l.unit_id ORDER BY h.opened_at DESC) AS k"
		"  FROM history h JOIN packs p ON p.id = h.pack_id"
		"  JOIN pack_versions v ON v.pack_id = p.id AND v.version = p.current_version"
		"  JOIN lessons l ON l.pv = v.id AND l.lesson_id = h.lesson_id"
		"  WHERE h.user_id = ?1),"
		" last AS (SELECT * FROM recent WHERE k = 1 ORDER BY opened_at DESC LIMIT ?2)"
		" SELECT v.pack_id, n.lesson_id, n.title, coalesce(u.title, ''), 0, r.after"
		" FROM last r JOIN pack_versions v ON v.id = r.pv"
		" JOIN lessons n ON n.id = (SELECT m.id FROM lessons m WHERE m.pv = r.pv"
		"   AND m.ord > r.ord AND m.ord <= r.ord + 200 AND m.unit_id IS r.unit_id"
		"   AND NOT EXISTS (SELECT 1 FROM history o WHERE o.user_id = ?1"
		"     AND o.pack_id = v.pack_id AND o.lesson_id = m.lesson_id)"
		"   ORDER BY m.ord LIMIT 1)"
		" LEFT JOIN units u ON u.pv = n.pv AND u.unit_id = n.unit_id"
		" ORDER BY r.opened_at DESC");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)units);
	return read_briefs(out, out_count, store, st, "reading the next lessons");
}
