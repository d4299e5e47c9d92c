/*
 * store-schema.c — the box store's schema as an ordered list of migrations.
 *
 * Migration N takes a store from schema version N-1 to N; the version is kept
 * in SQLite's user_version. A store is never changed in place any other way:
 * a later issue that needs a table adds a migration at the end of this list
 * and raises KHO_STORE_SCHEMA_VERSION. Tables are documented in
 * docs/store.md. Tables owned by other modules (the indexer's) are created by
 * those modules, not here.
 */
#include "core-private.h"

static const char *const migrations[] = {
	/* 1: packs, their versions, lessons and files. */
	"CREATE TABLE packs ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  current_version INTEGER NOT NULL"
	");"
	"CREATE TABLE pack_versions ("
	"  id INTEGER PRIMARY KEY,"
	"  pack_id TEXT NOT NULL REFERENCES packs(id) ON DELETE CASCADE,"
	"  version INTEGER NOT NULL CHECK (version > 0),"
	"  title TEXT NOT NULL,"
	"  summary TEXT,"
	"  publisher TEXT,"
	"  license TEXT,"
	"  lang TEXT NOT NULL,"
	"  subjects TEXT NOT NULL DEFAULT '',"
	"  grades TEXT NOT NULL DEFAULT '',"
	"  manifest TEXT NOT NULL,"
	"  source TEXT,"
	"  installed_at INTEGER NOT NULL,"
	"  UNIQUE (pack_id, version)"
	");"
	"CREATE TABLE lessons ("
	"  id INTEGER PRIMARY KEY,"
	"  pv INTEGER NOT NULL REFERENCES pack_versions(id) ON DELETE CASCADE,"
	"  ord INTEGER NOT NULL,"
	"  lesson_id TEXT NOT NULL,"
	"  href TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  keywords TEXT NOT NULL DEFAULT '',"
	"  summary TEXT NOT NULL DEFAULT '',"
	"  unit_id TEXT,"
	"  unit_title TEXT NOT NULL DEFAULT '',"
	"  subjects TEXT NOT NULL DEFAULT '',"
	"  grades TEXT NOT NULL DEFAULT '',"
	"  body TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (pv, lesson_id)"
	");"
	"CREATE TABLE files ("
	"  pv INTEGER NOT NULL REFERENCES pack_versions(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  PRIMARY KEY (pv, path)"
	") WITHOUT ROWID;",

	/* 2: units as rows of their own, and one row per lesson grade and
	 * subject so that filters and facets use an index. Existing lessons
	 * are carried over. */
	"CREATE TABLE units ("
	"  pv INTEGER NOT NULL REFERENCES pack_versions(id) ON DELETE CASCADE,"
	"  unit_id TEXT NOT NULL,"
	"  ord INTEGER NOT NULL,"
	"  title TEXT NOT NULL,"
	"  summary TEXT,"
	"  PRIMARY KEY (pv, unit_id)"
	") WITHOUT ROWID;"
	"INSERT INTO units (pv, unit_id, ord, title)"
	"  SELECT pv, unit_id, MIN(ord), unit_title FROM lessons"
	"  WHERE unit_id IS NOT NULL GROUP BY pv, unit_id;"
	"CREATE TABLE lesson_tags ("
	"  kind TEXT NOT NULL CHECK (kind IN ('grade', 'subject')),"
	"  value TEXT NOT NULL,"
	"  lesson INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (kind, value, lesson)"
	") WITHOUT ROWID;"
	"CREATE INDEX lesson_tags_lesson ON lesson_tags (lesson);"
	"WITH RECURSIVE split(lesson, kind, rest, value) AS ("
	"  SELECT id, 'subject', subjects || ' ', NULL FROM lessons"
	"  UNION ALL SELECT id, 'grade', grades || ' ', NULL FROM lessons"
	"  UNION ALL SELECT lesson, kind, substr(rest, instr(rest, ' ') + 1),"
	"    substr(rest, 1, instr(rest, ' ') - 1) FROM split WHERE rest <> ''"
	") INSERT OR IGNORE INTO lesson_tags (kind, value, lesson)"
	"  SELECT kind, value, lesson FROM split WHERE value <> '';"
	"CREATE INDEX lessons_pv ON lessons (pv, ord);"
	"CREATE INDEX files_hash ON files (hash);",

	/* 3: the keys this box trusts, and who signed each pack version (NULL:
	 * a local pack, imported without a signature). */
	"CREATE TABLE trusted_keys ("
	"  key_id TEXT PRIMARY KEY NOT NULL,"
	"  public_key TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  added_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"ALTER TABLE pack_versions ADD COLUMN signed_by TEXT;",

	/* 4: what the box pulls from repositories (kho subscribe), and the
	 * newest catalog seen from each publisher key (a lower serial later is
	 * a rollback, refused). */
	"CREATE TABLE subscriptions ("
	"  pattern TEXT NOT NULL,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  grade TEXT NOT NULL DEFAULT '',"
	"  lang TEXT NOT NULL DEFAULT '',"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY (pattern, subject, grade, lang)"
	") WITHOUT ROWID;"
	"CREATE TABLE catalogs_seen ("
	"  key_id TEXT PRIMARY KEY NOT NULL,"
	"  serial INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  source TEXT NOT NULL DEFAULT '',"
	"  synced_at INTEGER NOT NULL"
	") WITHOUT ROWID;",

	/* 5: teachers' accounts on the box, their sessions and favourites. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  password_hash TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('teacher', 'admin')),"
	"  grades TEXT NOT NULL DEFAULT '',"
	"  subjects TEXT NOT NULL DEFAULT '',"
	"  lang TEXT NOT NULL DEFAULT 'vi',"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE sessions ("
	"  token_hash TEXT PRIMARY KEY NOT NULL,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE favourites ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  pack_id TEXT NOT NULL,"
	"  lesson_id TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, pack_id, lesson_id)"
	") WITHOUT ROWID;"
	"CREATE TABLE history ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  pack_id TEXT NOT NULL,"
	"  lesson_id TEXT NOT NULL,"
	"  opened_at INTEGER NOT NULL," /* milliseconds */
	"  PRIMARY KEY (user_id, pack_id, lesson_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX history_recent ON history (user_id, opened_at);",

	/* 6: teachers' collections: named, ordered lists of lessons, private
	 * or shared with the school; history by time, for what the school
	 * opened this week. */
	"CREATE INDEX history_opened ON history (opened_at);"
	"CREATE TABLE collections ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),"
	"  pack_id TEXT NOT NULL UNIQUE,"      /* of its export: random, names nobody */
	"  queued TEXT,"                        /* its pack in the outbox, if any */
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX collections_user ON collections (user_id);"
	"CREATE TABLE collection_items ("
	"  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  pack_id TEXT NOT NULL,"
	"  lesson_id TEXT NOT NULL,"
	"  PRIMARY KEY (collection_id, position)"
	") WITHOUT ROWID;",

	/* 7: the box's settings, and what teachers used and searched for, per
	 * day, until the day is reported to the centre (store-usage.c,
	 * docs/privacy.md). Askers are keyed hashes; the key of a day is
	 * dropped once the day is over. */
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE usage_key ("
	"  day TEXT PRIMARY KEY NOT NULL,"
	"  key BLOB NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE usage_lessons ("
	"  day TEXT NOT NULL,"
	"  pack_id TEXT NOT NULL,"
	"  lesson_id TEXT NOT NULL,"
	"  opens INTEGER NOT NULL DEFAULT 0,"
	"  favourites INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (day, pack_id, lesson_id)"
	") WITHOUT ROWID;"
	"CREATE TABLE usage_queries ("
	"  day TEXT NOT NULL,"
	"  query TEXT NOT NULL,"
	"  searches INTEGER NOT NULL DEFAULT 0,"
	"  found_nothing INTEGER NOT NULL DEFAULT 0,"
	"  no_open INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (day, query)"
	") WITHOUT ROWID;"
	"CREATE TABLE usage_askers ("
	"  day TEXT NOT NULL,"
	"  query TEXT NOT NULL,"
	"  asker BLOB NOT NULL,"
	"  n INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (day, query, asker)"
	") WITHOUT ROWID;"
	"CREATE TABLE usage_last ("
	"  asker BLOB PRIMARY KEY NOT NULL,"
	"  day TEXT NOT NULL,"
	"  query TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  typing INTEGER NOT NULL,"
	"  outcome INTEGER NOT NULL"
	") WITHOUT ROWID;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == KHO_STORE_SCHEMA_VERSION,
	"one migration per schema version");

static int exec_error(sqlite3 *db, int src, char *err, int version)
{
	int code = (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED ? KHO_EBUSY
		: (src & 0xff) == SQLITE_FULL ? KHO_ENOSPACE
		: (src & 0xff) == SQLITE_IOERR ? KHO_EIO : KHO_ECORRUPT;
	int rc = kho_error_set(code, "migrating the store to schema %d: %s", version,
		err ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
	return rc;
}

int kho_store_migrate_to(sqlite3 *db, int target)
{
	if (target > KHO_STORE_SCHEMA_VERSION)
		return kho_error_set(KHO_EINVALID, "no store schema %d", target);
	/* One migration per transaction. The version is read again under the
	 * write lock, so two processes opening a new store at once do not both
	 * apply the same migration. */
	for (;;) {
		char *err = NULL;
		int current = 0, rc;
		int src = sqlite3_exec(db, "BEGIN IMMEDIATE;", NULL, NULL, &err);
		if (src != SQLITE_OK)
			return exec_error(db, src, err, target);
		if ((rc = store_user_version(db, &current))) {
			sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
			return rc;
		}
		if (current > KHO_STORE_SCHEMA_VERSION) {
			sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
			return kho_error_set(KHO_EVERSION, "the store has schema version %d, newer "
				"than this kho (%d): use a newer kho", current, KHO_STORE_SCHEMA_VERSION);
		}
		if (current >= target) {
			sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
			return KHO_OK;
		}
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;", current + 1);
		src = sqlite3_exec(db, migrations[current], NULL, NULL, &err);
		if (src == SQLITE_OK)
			src = sqlite3_exec(db, pragma, NULL, NULL, &err);
		if (src == SQLITE_OK)
			src = sqlite3_exec(db, "COMMIT;", NULL, NULL, &err);
		if (src != SQLITE_OK)
			return exec_error(db, src, err, current + 1);
		kho_log_info("store migrated to schema %d", current + 1);
	}
}
