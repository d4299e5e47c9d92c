/*
 * tier.c — the index's lists for common words, so that a search can rank a
 * word found in most lessons without scoring every one of them ("champion
 * lists"). For each word, folded or exact form, in at least `min_df` of the
 * indexed lessons, the table index_tier holds
 *
 *   df    in how many indexed lessons it is (kept exact by every change);
 *   top   the INDEX_TIER_K lessons where it weighs most, best first: by
 *         index_rank_term() of its column-weighted count and the lesson's
 *         length — the same formula as the ranking's, without the idf.
 *
 * How the lists are kept (INDEX.md has the whole story): a full build reads
 * the folded words with df ≥ min_df from FTS5's vocabulary, then tokenizes
 * every indexed lesson once (tier-words.c), keeping for each such word, and
 * for every exact form of one (FTS5 holds folded words only), a list of its
 * best lessons; exact forms below min_df are dropped at the end. An install
 * tokenizes only its new lessons and merges them into the existing lists; a
 * removal takes its lessons off the counts and out of the lists (SQLite gives
 * their ids again). A word that becomes common through small installs gets a
 * list at the next full build — until then it is searched like a rare one:
 * correctly, only more slowly. A full build happens once the lessons added
 * or removed since the last one reach the number indexed then (so builds
 * cost at most about twice the tokenizing of every lesson, however the packs
 * come); it also merges FTS5's segments into one ('optimize') when there are
 * more than MERGE_SEGMENTS.
 *
 * `top` is INDEX_TIER_K entries at most of INDEX_TIER_ENTRY_SIZE (6) bytes
 * each: the lesson id (uint32, little-endian) and its weight in units of
 * 1/WEIGHT_SCALE (uint16, little-endian). A weight is below k1 + 1 = 2.2, so
 * this keeps it to 0.00006, plenty to choose candidates (the ranking scores
 * them again from their text); at 6 bytes, a list and its row fit in one
 * page of the table, where 8 bytes took a page and a half.
 */
#include "tier-private.h"

#include <stdlib.h>
#include <string.h>

/* min_df is at least this, and at least the lessons / TIER_MIN_SHARE. */
#define TIER_MIN_DF 500
#define TIER_MIN_SHARE 200

/* A stored weight is round(weight × WEIGHT_SCALE). */
#define WEIGHT_SCALE 16384.0f

/* A full build merges FTS5's segments into one past this many. */
#define MERGE_SEGMENTS 8

/* In no particular order: ordering a pack's lessons by id would sort their
 * texts in a temporary file (tier_read_lessons() sorts the ids it returns). */
static const char version_lessons_sql[] =
	"SELECT l.id, " INDEX_L_COLUMNS
	" FROM lessons l JOIN index_docs d ON d.lesson = l.id WHERE l.pv = ?1";

/* The lessons the last switch indexed (index.c's temp.index_new): an update
 * keeps unchanged lessons indexed, and they are counted already. */
static const char added_lessons_sql[] =
	"SELECT l.id, " INDEX_L_COLUMNS
	" FROM temp.index_new n CROSS JOIN lessons l ON l.id = n.lesson WHERE l.pv = ?1";

/* ------------------------------------------------------ the stored lists */

void index_tier_decode(index_tier_entry *out, const unsigned char *blob, size_t n)
{
	for (size_t i = 0; i < n; i++, blob += INDEX_TIER_ENTRY_SIZE) {
		uint32_t id = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 |
			(uint32_t)blob[3] << 24;
		unsigned weight = (unsigned)blob[4] | (unsigned)blob[5] << 8;
		out[i] = (index_tier_entry){ (float)weight / WEIGHT_SCALE, id };
	}
}

static void encode(unsigned char *blob, const index_tier_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++, blob += INDEX_TIER_ENTRY_SIZE) {
		float scaled = e[i].weight * WEIGHT_SCALE + 0.5f;
		unsigned weight = scaled <= 0.0f ? 0 : scaled >= 65535.0f ? 65535 : (unsigned)scaled;
		for (int b = 0; b < 4; b++)
			blob[b] = (unsigned char)(e[i].lesson >> (8 * b));
		blob[4] = (unsigned char)weight;
		blob[5] = (unsigned char)(weight >> 8);
	}
}

/* Writes one word's row: its df and its best lessons merged with the stored list
 * (`merge`), best first, INDEX_TIER_K at most. */
static bool has_id(const tier_ids *removed, uint32_t id)
{
	size_t lo = 0, hi = removed ? removed->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (removed->ids[mid] == id)
			return true;
		if (removed->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int write_word(kho_index *index, sqlite3_stmt *read, sqlite3_stmt *write,
	sqlite3_stmt *count, const tier_word *w, bool merge, const tier_ids *removed)
{
	int64_t df = w->df;
	size_t n_old = 0;
	index_tier_entry *all = NULL;
	int rc = KHO_OK;
	if (merge && w->n == 0 && !removed) {
		/* no lesson enters the list: only its count changes */
		sqlite3_bind_int64(count, 1, df);
		sqlite3_bind_text(count, 2, w->term, (int)w->len, SQLITE_STATIC);
		int src = sqlite3_step(count);
		sqlite3_reset(count);
		return src == SQLITE_DONE ? KHO_OK :
			kho_store_error(index->store, src, "writing the word lists");
	}
	if (merge) {
		sqlite3_bind_text(read, 1, w->term, (int)w->len, SQLITE_STATIC);
		if (sqlite3_step(read) == SQLITE_ROW) {
			df += sqlite3_column_int64(read, 0);
			n_old = (size_t)sqlite3_column_bytes(read, 1) / INDEX_TIER_ENTRY_SIZE;
		}
	}
	all = malloc((n_old + w->n + 1) * sizeof *all);
	if (!all) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory writing the word lists");
		goto done;
	}
	if (n_old)
		index_tier_decode(all, sqlite3_column_blob(read, 1), n_old);
	if (removed) { /* their ids may come back for other lessons */
		size_t kept = 0;
		for (size_t i = 0; i < n_old; i++)
			if (!has_id(removed, all[i].lesson))
				all[kept++] = all[i];
		n_old = kept;
	}
	if (w->n)
		memcpy(all + n_old, w->best, w->n * sizeof *all);
	size_t n = n_old + w->n;
	qsort(all, n, sizeof *all, tier_entry_order);
	if (n > INDEX_TIER_K)
		n = INDEX_TIER_K;
	unsigned char blob[INDEX_TIER_ENTRY_SIZE * INDEX_TIER_K];
	encode(blob, all, n);
	sqlite3_bind_text(write, 1, w->term, (int)w->len, SQLITE_STATIC);
	sqlite3_bind_int64(write, 2, df > 0 ? df : 0);
	sqlite3_bind_blob(write, 3, blob, (int)(n * INDEX_TIER_ENTRY_SIZE), SQLITE_STATIC);
	int src = sqlite3_step(write);
	if (src != SQLITE_DONE)
		rc = kho_store_error(index->store, src, "writing the word lists");
	sqlite3_reset(write);
done:
	if (merge)
		sqlite3_reset(read);
	free(all);
	return rc;
}

/* ------------------------------------------------------------- building */

static int load_words(tier_map *map, kho_index *index, const char *sql, int64_t min_df)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return kho_store_error(index->store, src, "reading the word lists");
	sqlite3_bind_int64(st, 1, min_df);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int(st, 2, INDEX_TIER_ENTRY_SIZE);
	int rc = KHO_OK;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *term = (const char *)sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		if (term && (rc = tier_map_add(map, term, len)))
			rc = kho_error_set(rc, "out of memory reading the word lists");
		/* a full stored list: its last weight, which a new lesson must pass */
		const unsigned char *last = sqlite3_column_count(st) > 1 ?
			sqlite3_column_blob(st, 1) : NULL;
		tier_word *w = term && !rc ? tier_map_find(map, term, len) : NULL;
		if (w && last && sqlite3_column_bytes(st, 1) == INDEX_TIER_ENTRY_SIZE) {
			index_tier_entry e;
			index_tier_decode(&e, last, 1);
			w->full = true;
			w->floor = e.weight;
		}
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(index->store, src, "reading the word lists");
	sqlite3_finalize(st);
	return rc;
}

static int mean_length(double *out, kho_index *index)
{
	sqlite3_stmt *st = NULL;
	*out = 1.0;
	int src = sqlite3_prepare_v2(index->db, "SELECT kho_avgdl(lesson_fts) FROM lesson_fts LIMIT 1",
		-1, &st, NULL);
	if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? KHO_OK :
		kho_store_error(index->store, src, "reading the mean lesson length");
}

/* Writes every word of the map: merged into the stored lists, or replacing
 * them (after a full build: only the words in `min_df` lessons or more). */
static int write_words(kho_index *index, tier_map *map, bool merge, int64_t min_df,
	const tier_ids *removed, size_t *written)
{
	sqlite3_stmt *read = NULL, *write = NULL, *count = NULL;
	int src = sqlite3_prepare_v2(index->db, "SELECT df, top FROM index_tier WHERE term = ?1", -1,
		&read, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(index->db,
			"INSERT OR REPLACE INTO index_tier (term, df, top) VALUES (?1, ?2, ?3)", -1,
			&write, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(index->db,
			"UPDATE index_tier SET df = max(df + ?1, 0) WHERE term = ?2", -1, &count, NULL);
	int rc = src == SQLITE_OK ? KHO_OK :
		kho_store_error(index->store, src, "writing the word lists");
	for (size_t i = 0; !rc && i < map->cap; i++) {
		tier_word *w = &map->slots[i];
		if (w->term && (merge ? w->df != 0 : w->df >= min_df)) {
			rc = write_word(index, read, write, count, w, merge, removed);
			(*written)++;
		}
	}
	sqlite3_finalize(read);
	sqlite3_finalize(write);
	sqlite3_finalize(count);
	return rc;
}

int index_tier_build(kho_index *index)
{
	double t0 = kho_log_clock(), t1 = t0, t2 = t0, t3 = t0;
	int64_t lessons = 0;
	int rc = index_query_int(&lessons, index, "SELECT count(*) FROM index_docs");
	int64_t min_df = index->tier_min_df ? index->tier_min_df :
		lessons / TIER_MIN_SHARE > TIER_MIN_DF ? lessons / TIER_MIN_SHARE : TIER_MIN_DF;
	double avgdl = 1.0;
	size_t listed = 0;
	tier_map map = { 0 };
	if (!rc)
		rc = kho_store_exec(index->store, "DELETE FROM index_tier;"
			"CREATE VIRTUAL TABLE IF NOT EXISTS temp.lesson_vocab"
			" USING fts5vocab(main, lesson_fts, row);");
	if (!rc)
		rc = load_words(&map, index, "SELECT term FROM temp.lesson_vocab WHERE doc >= ?1",
			min_df);
	t1 = kho_log_clock();
	if (!rc && map.n > 0 && !(rc = mean_length(&avgdl, index))) {
		rc = tier_read_all_lessons(index, &map, avgdl);
		t2 = kho_log_clock();
		if (!rc)
			rc = write_words(index, &map, false, min_df, NULL, &listed);
	}
	tier_map_free(&map); /* before the merge below, which needs memory of its own */
	t3 = kho_log_clock();
	/* Merging FTS5's segments into one costs about a read of the index and
	 * makes every lookup of a word cheaper (snippets, bm25, the rarer words'
	 * lessons): it runs on the same schedule, when they are many. */
	int64_t segments = 0;
	if (!rc)
		rc = index_query_int(&segments, index,
			"SELECT count(DISTINCT segid) FROM lesson_fts_idx");
	if (!rc && segments > MERGE_SEGMENTS)
		rc = kho_store_exec(index->store,
			"INSERT INTO lesson_fts (lesson_fts) VALUES ('optimize');");
	if (!rc)
		rc = index_meta_set(index, "tier_min_df", min_df);
	if (!rc)
		rc = index_meta_set(index, "tier_built", lessons);
	if (!rc)
		rc = index_meta_set(index, "tier_changed", 0);
	if (!rc)
		kho_log_info("word lists: %zu words in at least %lld of %lld lessons (vocabulary"
			" %.2f s, reading %.2f s, writing %.2f s); index segments merged in %.2f s",
			listed, (long long)min_df, (long long)lessons, t1 - t0, t2 > t1 ? t2 - t1 : 0.0,
			t3 - (t2 > t1 ? t2 : t1), kho_log_clock() - t3);
	return rc;
}

/* Counts the lessons of `pv` in or out of the existing lists. */
static int change(kho_index *index, int64_t pv, int sign)
{
	int64_t changed = 0, lessons = 0;
	int rc = index_meta_get(&changed, index, "tier_changed");
	tier_map map = { 0 };
	if (!rc)
		rc = load_words(&map, index, "SELECT term, CASE WHEN length(top) >= ?1"
			" THEN substr(top, ?1 - ?2 + 1, ?2) END FROM index_tier", INDEX_TIER_ENTRY_SIZE * INDEX_TIER_K);
	double avgdl = 1.0;
	if (!rc && sign > 0)
		rc = mean_length(&avgdl, index);
	tier_ids removed = { 0 };
	if (!rc)
		rc = tier_read_lessons(index, &map, sign > 0 ? added_lessons_sql : version_lessons_sql,
			pv, sign, avgdl, false,
			sign < 0 ? &removed : NULL, &lessons);
	if (!rc)
		rc = write_words(index, &map, true, 0, sign < 0 ? &removed : NULL, &(size_t){ 0 });
	free(removed.ids);
	tier_map_free(&map);
	return rc ? rc : index_meta_set(index, "tier_changed", changed + lessons);
}

int index_tier_before(bool *rebuild, kho_index *index, int64_t old_pv, int64_t new_pv)
{
	int64_t built = 0, changed = 0, min_df = 0, moving = 0;
	int rc = index_meta_get(&built, index, "tier_built");
	if (!rc)
		rc = index_meta_get(&changed, index, "tier_changed");
	if (!rc)
		rc = index_meta_get(&min_df, index, "tier_min_df");
	if (min_df <= 0)
		min_df = index->tier_min_df ? index->tier_min_df : TIER_MIN_DF;
	sqlite3_stmt *st = NULL;
	int src = rc ? SQLITE_OK : sqlite3_prepare_v2(index->db,
		"SELECT count(*) FROM lessons WHERE pv IN (?1, ?2)", -1, &st, NULL);
	if (!rc && src == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, old_pv);
		sqlite3_bind_int64(st, 2, new_pv);
		if ((src = sqlite3_step(st)) == SQLITE_ROW)
			moving = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!rc && src != SQLITE_ROW)
		rc = kho_store_error(index->store, src, "planning the word lists");
	*rebuild = changed + moving >= (built > min_df ? built : min_df);
	if (!rc && !*rebuild && old_pv > 0)
		rc = change(index, old_pv, -1);
	return rc;
}

int index_tier_after(kho_index *index, int64_t new_pv, bool rebuild)
{
	if (rebuild)
		return index_tier_build(index);
	return new_pv > 0 ? change(index, new_pv, 1) : KHO_OK;
}
