/*
 * index.c — the full-text index of the visible lessons, kept in the box
 * store's database next to core's tables. lesson_fts is an FTS5 table with
 * external content: the text lives once, in core's `lessons` table, and the
 * FTS table holds only the inverted index of the lessons whose pack version
 * is the visible one. index_docs lists exactly those lessons, so that a
 * lesson is never removed from FTS5 unless it was added (which would corrupt
 * an external-content index), and so that an index that fell out of step with
 * the store (a pack installed without the hooks) is noticed and rebuilt.
 *
 * The index follows the store through the install hooks, inside the store's
 * own transaction: either the old version or the new one is searchable, never
 * both and never a mix. The tables and the format rule are in INDEX.md.
 */
#include "indexer-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lessons of visible pack versions, with the columns lesson_fts indexes. */
#define VISIBLE_LESSONS \
	" FROM lessons l" \
	" JOIN pack_versions v ON l.pv = v.id" \
	" JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT);"
	"DROP TABLE IF EXISTS lesson_fts;"
	"DROP TABLE IF EXISTS index_docs;"
	"CREATE VIRTUAL TABLE lesson_fts USING fts5(" INDEX_COLUMNS ","
	"  content='lessons', content_rowid='id', tokenize='" KHO_TOKENIZER_NAME "');"
	/* FTS5 writes a new segment each time this many bytes of terms are
	 * pending; 4 MiB instead of 1 MiB makes fewer segments to merge when a
	 * large pack installs. Its leaves of about 16 KB fill the store's 16 KiB
	 * pages (4 KB by default: four rows a page), for fewer rows to write
	 * and read (docs/benchmarks.md). */
	"INSERT INTO lesson_fts (lesson_fts, rank) VALUES ('hashsize', 4194304);"
	"INSERT INTO lesson_fts (lesson_fts, rank) VALUES ('pgsz', 16000);"
	"CREATE TABLE index_docs (lesson INTEGER PRIMARY KEY);"
	"DROP TABLE IF EXISTS index_tier;"
	/* a rowid table: a row of INDEX_TIER_K entries fits in one of its pages */
	"CREATE TABLE index_tier (term TEXT PRIMARY KEY, df INTEGER NOT NULL, top BLOB NOT NULL);"
	"DELETE FROM index_meta WHERE key LIKE 'tier_%';";

/* Empties the index and fills it with every visible lesson. */
static const char fill_sql[] =
	"INSERT INTO lesson_fts (lesson_fts) VALUES ('delete-all');"
	"DELETE FROM index_docs;"
	"INSERT INTO lesson_fts (rowid, " INDEX_COLUMNS ")"
	"  SELECT l.id, " INDEX_L_COLUMNS VISIBLE_LESSONS " ORDER BY l.id;"
	"INSERT INTO index_docs (lesson) SELECT l.id" VISIBLE_LESSONS ";";

/* ----------------------------------------------------------- SQL helpers */

/* Runs one statement with ?1 bound to `pv`. */
static int run_pv(kho_index *index, const char *sql, int64_t pv, const char *what)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db, sql, -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, pv);
		src = sqlite3_step(st);
	}
	int rc = src == SQLITE_DONE || src == SQLITE_ROW ? KHO_OK :
		kho_store_error(index->store, src, what);
	sqlite3_finalize(st);
	return rc;
}

/* The integer that one query returns, or `fallback` when it has no row. */
static int query_int(int64_t *out, kho_index *index, const char *sql, int64_t fallback,
	const char *what)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db, sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	int rc = KHO_OK;
	if (src == SQLITE_ROW)
		*out = sqlite3_column_type(st, 0) == SQLITE_NULL ? fallback : sqlite3_column_int64(st, 0);
	else if (src == SQLITE_DONE)
		*out = fallback;
	else
		rc = kho_store_error(index->store, src, what);
	sqlite3_finalize(st);
	return rc;
}

int index_query_int(int64_t *out, kho_index *index, const char *sql)
{
	return query_int(out, index, sql, 0, "reading the index");
}

int index_meta_get(int64_t *out, kho_index *index, const char *key)
{
	sqlite3_stmt *st = NULL;
	*out = 0;
	int src = sqlite3_prepare_v2(index->db,
		"SELECT CAST(value AS INTEGER) FROM index_meta WHERE key = ?1", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if ((src = sqlite3_step(st)) == SQLITE_ROW)
			*out = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? KHO_OK :
		kho_store_error(index->store, src, "reading the index settings");
}

int index_meta_set(kho_index *index, const char *key, int64_t value)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db,
		"INSERT OR REPLACE INTO index_meta (key, value) VALUES (?1, ?2)", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, value);
		src = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK :
		kho_store_error(index->store, src, "writing the index settings");
}

/* A transaction of its own, or a savepoint when the caller already has one. */
static int tx_begin(kho_index *index, bool *nested)
{
	*nested = !sqlite3_get_autocommit(index->db);
	return kho_store_exec(index->store, *nested ? "SAVEPOINT kho_index;" : "BEGIN IMMEDIATE;");
}

static int tx_end(kho_index *index, bool nested, int rc)
{
	if (rc == KHO_OK)
		rc = kho_store_exec(index->store, nested ? "RELEASE kho_index;" : "COMMIT;");
	if (rc != KHO_OK) {
		/* Keep the message of what failed, not of the rollback. */
		char saved[1024];
		snprintf(saved, sizeof saved, "%s", kho_error_last());
		sqlite3_exec(index->db, nested ? "ROLLBACK TO kho_index; RELEASE kho_index;" :
			"ROLLBACK;", NULL, NULL, NULL);
		kho_error_set(rc, "%s", saved);
	}
	return rc;
}

/* ------------------------------------------------------- keeping in step */

/* Takes the lessons of pack version `pv` out of the index. */
static int unindex_version(kho_index *index, int64_t pv)
{
	int rc = run_pv(index,
		"INSERT INTO lesson_fts (lesson_fts, rowid, " INDEX_COLUMNS ")"
		" SELECT 'delete', l.id, " INDEX_L_COLUMNS
		" FROM lessons l JOIN index_docs d ON d.lesson = l.id WHERE l.pv = ?1",
		pv, "removing lessons from the index");
	if (rc == KHO_OK)
		rc = run_pv(index,
			"DELETE FROM index_docs WHERE lesson IN (SELECT id FROM lessons WHERE pv = ?1)",
			pv, "removing lessons from the index");
	return rc;
}

/* Adds the lessons of pack version `pv` that the index does not hold yet
 * (an update takes over the rows of unchanged lessons, which stay indexed:
 * core/store-install.c), listing them in temp.index_new for the word lists. */
static int index_version(kho_index *index, int64_t pv)
{
	int rc = kho_store_exec(index->store,
		"CREATE TEMP TABLE IF NOT EXISTS index_new (lesson INTEGER PRIMARY KEY);"
		"DELETE FROM temp.index_new;");
	if (rc == KHO_OK)
		rc = run_pv(index, "INSERT INTO temp.index_new (lesson) SELECT id FROM lessons"
			" WHERE pv = ?1 AND id NOT IN (SELECT lesson FROM index_docs)", pv,
			"adding lessons to the index");
	/* In rowid order, as FTS5 wants them, read through temp.index_new:
	 * sorting the lessons themselves would copy every text to a temporary
	 * file first. */
	if (rc == KHO_OK)
		rc = kho_store_exec(index->store,
			"INSERT INTO lesson_fts (rowid, " INDEX_COLUMNS ")"
			" SELECT l.id, " INDEX_L_COLUMNS " FROM temp.index_new n CROSS JOIN lessons l"
			" ON l.id = n.lesson ORDER BY n.lesson;");
	if (rc == KHO_OK)
		rc = run_pv(index,
			"INSERT OR IGNORE INTO index_docs (lesson) SELECT id FROM lessons WHERE pv = ?1",
			pv, "adding lessons to the index");
	return rc;
}

static int hook_extract(void *payload, char **out, const char *html, size_t len)
{
	(void)payload;
	return kho_index_extract_text(out, html, len);
}

/* Says that the indexed lessons changed (index_generation()). */
static int bump_generation(kho_index *index)
{
	return kho_store_exec(index->store,
		"INSERT INTO index_meta (key, value) VALUES ('generation', 1)"
		" ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;");
}

int index_generation(int64_t *out, kho_index *index)
{
	int src = SQLITE_OK;
	if (!index->generation)
		src = sqlite3_prepare_v2(index->db,
			"SELECT CAST(value AS INTEGER) FROM index_meta WHERE key = 'generation'", -1,
			&index->generation, NULL);
	if (src == SQLITE_OK) {
		src = sqlite3_step(index->generation);
		*out = src == SQLITE_ROW ? sqlite3_column_int64(index->generation, 0) : 0;
		sqlite3_reset(index->generation);
	}
	return src == SQLITE_ROW || src == SQLITE_DONE ? KHO_OK :
		kho_store_error(index->store, src, "reading the index generation");
}

/* The visible pack versions, as index_meta's `versions` records them: a
 * version's lessons never change, so the index is in step with the store
 * while they are the same. */
#define VISIBLE_VERSIONS_BUT(gone) \
	"SELECT coalesce(group_concat(id), '') FROM (SELECT v.id FROM pack_versions v" \
	" JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version" \
	" WHERE v.id <> " gone " ORDER BY v.id)"
#define VISIBLE_VERSIONS VISIBLE_VERSIONS_BUT("0")

/* Notes which pack versions the index now holds: the visible ones but
 * `gone`, a version being removed whose pack row goes after the hooks ran
 * (0: none). */
static int record_versions(kho_index *index, int64_t gone)
{
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db, "INSERT OR REPLACE INTO index_meta (key, value)"
		" SELECT 'versions', (" VISIBLE_VERSIONS_BUT("?1") ")", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, gone);
		src = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK :
		kho_store_error(index->store, src, "recording the indexed versions");
}

static int hook_switched(void *payload, int64_t old_pv, int64_t new_pv)
{
	kho_index *index = payload;
	bool rebuild = false;
	int rc = bump_generation(index);
	if (rc == KHO_OK)
		rc = index_tier_before(&rebuild, index, old_pv, new_pv);
	if (rc == KHO_OK && old_pv > 0)
		rc = unindex_version(index, old_pv);
	if (rc == KHO_OK && new_pv > 0)
		rc = index_version(index, new_pv);
	if (rc == KHO_OK)
		rc = index_tier_after(index, new_pv, rebuild);
	if (rc == KHO_OK)
		rc = record_versions(index, new_pv > 0 ? 0 : old_pv);
	return rc;
}

/* ------------------------------------------------------- open and rebuild */

static bool table_exists(kho_index *index, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(index->db,
		"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st,
		NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

/* The index's format number, or 0 when there is no (complete) index. */
static int stored_format(int64_t *out, kho_index *index)
{
	*out = 0;
	if (!table_exists(index, "index_meta") || !table_exists(index, "lesson_fts") ||
	    !table_exists(index, "index_docs"))
		return KHO_OK;
	return query_int(out, index,
		"SELECT CAST(value AS INTEGER) FROM index_meta WHERE key = 'format'", 0,
		"reading the index format");
}

/* True when index_docs and the visible lessons differ: the recorded
 * versions against the visible ones (a few rows), or, without a record,
 * every lesson against index_docs. */
static int out_of_step(bool *out, kho_index *index)
{
	int64_t n = 0;
	int rc = query_int(&n, index,
		"SELECT ((SELECT value FROM index_meta WHERE key = 'versions') IS NOT (" VISIBLE_VERSIONS "))"
		" + 2 * ((SELECT value FROM index_meta WHERE key = 'versions') IS NULL)",
		0, "checking the index");
	if (rc || n < 2) {
		*out = n != 0;
		return rc;
	}
	rc = query_int(&n, index,
		"SELECT EXISTS (SELECT l.id" VISIBLE_LESSONS " EXCEPT SELECT lesson FROM index_docs)"
		" OR EXISTS (SELECT lesson FROM index_docs EXCEPT SELECT l.id" VISIBLE_LESSONS ")",
		0, "checking the index");
	*out = n != 0;
	if (!rc && !*out)
		rc = record_versions(index, 0);
	return rc;
}

/* Fills the index with every visible lesson, its word lists too, and notes
 * it; the caller holds a transaction. */
static int fill(kho_index *index)
{
	int rc = kho_store_exec(index->store, fill_sql);
	if (rc == KHO_OK)
		rc = bump_generation(index);
	if (rc == KHO_OK)
		rc = index_tier_build(index);
	if (rc == KHO_OK)
		rc = record_versions(index, 0);
	return rc;
}

/* Creates the tables afresh (dropping an index of another format) and fills
 * them; the caller holds a transaction. */
static int create_index(kho_index *index)
{
	char format[128];
	snprintf(format, sizeof format,
		"INSERT OR REPLACE INTO index_meta (key, value) VALUES ('format', '%d');",
		KHO_INDEX_FORMAT);
	int rc = kho_store_exec(index->store, create_sql);
	if (rc == KHO_OK)
		rc = fill(index);
	if (rc == KHO_OK)
		rc = kho_store_exec(index->store, format);
	return rc;
}

int kho_index_open(kho_index **out, kho_store *store)
{
	if (!out || !store)
		return kho_error_set(KHO_EINVALID, "kho_index_open: no store");
	kho_index *index = calloc(1, sizeof *index);
	if (!index)
		return kho_error_set(KHO_ENOMEM, "out of memory opening the index");
	index->store = store;
	index->db = kho_store_db(store);
	index->hooks.payload = index;
	index->hooks.extract = hook_extract;
	index->hooks.switched = hook_switched;
	/* For tests and measurements: lists for words in this many lessons
	 * (INDEX.md); the rule of tier.c otherwise. */
	const char *min_df = getenv("KHO_TIER_MIN_DF");
	if (min_df && atoll(min_df) > 0)
		index->tier_min_df = atoll(min_df);

	int rc = KHO_OK;
	int src = kho_index_register_tokenizer(index->db);
	if (src == SQLITE_OK)
		src = index_register_rank(index->db);
	if (src != SQLITE_OK) {
		rc = kho_error_set(KHO_ERROR, "cannot register the kho tokenizer: %s "
			"(is SQLite built with FTS5?)", sqlite3_errstr(src));
		goto fail;
	}

	int64_t format = 0;
	if ((rc = stored_format(&format, index)))
		goto fail;
	bool rebuild = format != KHO_INDEX_FORMAT;
	if (!rebuild) {
		bool drift = false;
		if ((rc = out_of_step(&drift, index)))
			goto fail;
		if (drift) {
			kho_log_warn("the search index is out of step with the installed packs; "
				"rebuilding it");
			rc = kho_index_rebuild(index);
			if (rc)
				goto fail;
		}
	} else {
		if (format != 0)
			kho_log_info("the search index has format %lld, this kho writes %d: rebuilding it",
				(long long)format, KHO_INDEX_FORMAT);
		bool nested = false;
		if ((rc = tx_begin(index, &nested)))
			goto fail;
		rc = tx_end(index, nested, create_index(index));
		if (rc)
			goto fail;
	}
	*out = index;
	return KHO_OK;

fail:
	free(index);
	return rc;
}

void kho_index_free(kho_index *index)
{
	if (!index)
		return;
	sqlite3_finalize(index->vocab);
	sqlite3_finalize(index->generation);
	sqlite3_finalize(index->tier);
	sqlite3_finalize(index->tier_df);
	index_facets_free(index->facets);
	index_match_cache_free(index->match_cache);
	free(index);
}

const kho_install_hooks *kho_index_hooks(kho_index *index)
{
	return &index->hooks;
}

int kho_index_install(kho_install_info *out, kho_index *index, kho_pack *pack)
{
	return kho_store_install(out, index->store, pack, &index->hooks);
}

int kho_index_remove(kho_index *index, const char *pack_id)
{
	return kho_store_remove(index->store, pack_id, &index->hooks);
}

int kho_index_rollback(int64_t *from, int64_t *to, kho_index *index, const char *pack_id)
{
	return kho_store_rollback(from, to, index->store, pack_id, &index->hooks);
}

int kho_index_rebuild(kho_index *index)
{
	bool nested = false;
	int rc = tx_begin(index, &nested);
	if (rc)
		return rc;
	return tx_end(index, nested, fill(index));
}
