/* test-store.c — opening the box store: WAL and foreign keys, the schema
 * version, migration from an older schema with its data carried over, and
 * refusal of stores that are newer or not stores at all. */
#include "../../core/core-private.h"
#include "kho-test.h"

static int64_t scalar(kho_store *s, const char *sql)
{
	return kho_test_scalar(kho_store_db(s), sql);
}

static const char *text(kho_store *s, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	if (sqlite3_prepare_v2(kho_store_db(s), sql, -1, &st, NULL) == SQLITE_OK
		&& sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

int main(void)
{
	char buf[256];
	CHECK_OK(kho_crypto_init());

	/* a new store */
	char *home = kho_test_tmpdir("new");
	kho_store *s = NULL;
	CHECK_OK(kho_store_open(&s, home));
	CHECK(kho_store_schema_version(s) == KHO_STORE_SCHEMA_VERSION);
	CHECK_STR(text(s, "PRAGMA journal_mode", buf, sizeof buf), "wal");
	CHECK(scalar(s, "PRAGMA foreign_keys") == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM packs") == 0);
	/* foreign keys are enforced */
	CHECK(kho_store_exec(s, "INSERT INTO pack_versions (pack_id, version, title, lang, manifest,"
		" installed_at) VALUES ('nope', 1, 't', 'vi', '', 0)") == KHO_EINVALID);
	/* a teacher's history keeps the order lessons were opened in, also
	 * within one millisecond, and a lesson opened again comes first */
	CHECK_OK(kho_store_exec(s, "INSERT INTO users (id, name, password_hash, role, created_at)"
		" VALUES (7, 'co.lan', 'x', 'teacher', 0)"));
	static const char *const opened[] = { "bai-01", "bai-02", "bai-03", "bai-04", "bai-02" };
	for (size_t i = 0; i < 5; i++)
		CHECK_OK(kho_store_history_add(s, 7, "vn.kho.toan-5", opened[i]));
	kho_favourite *hist = NULL;
	size_t n_hist = 0;
	CHECK_OK(kho_store_history(&hist, &n_hist, s, 7, 10));
	CHECK(n_hist == 4);
	static const char *const last_first[] = { "bai-02", "bai-04", "bai-03", "bai-01" };
	for (size_t i = 0; i < n_hist && i < 4; i++)
		CHECK_STR(hist[i].lesson, last_first[i]);
	kho_favourites_free(hist, n_hist);
	kho_store_free(s);
	/* opening again changes nothing */
	CHECK_OK(kho_store_open(&s, home));
	CHECK(kho_store_schema_version(s) == KHO_STORE_SCHEMA_VERSION);
	kho_store_free(s);
	free(home);

	/* a store of schema 1 with data migrates to the current schema */
	home = kho_test_tmpdir("old");
	CHECK_OK(kho_store_open_schema(&s, home, 1));
	CHECK(kho_store_schema_version(s) == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'units'") == 0);
	CHECK_OK(kho_store_exec(s,
		"INSERT INTO packs VALUES ('vn.old', 1);"
		"INSERT INTO pack_versions (id, pack_id, version, title, lang, subjects, grades,"
		"  manifest, installed_at) VALUES (1, 'vn.old', 1, 'Cũ', 'vi', 'toan', '5', '', 0);"
		"INSERT INTO lessons (pv, ord, lesson_id, href, title, unit_id, unit_title,"
		"  subjects, grades, body) VALUES"
		"  (1, 0, 'a', 'a.html', 'A', 'c1', 'Chương 1', 'toan tin-hoc', '5 6', 'x'),"
		"  (1, 1, 'b', 'b.html', 'B', 'c1', 'Chương 1', 'toan', '5', 'y'),"
		"  (1, 2, 'c', 'c.html', 'C', NULL, '', '', '', 'z');"));
	kho_store_free(s);
	CHECK_OK(kho_store_open(&s, home));
	CHECK(kho_store_schema_version(s) == KHO_STORE_SCHEMA_VERSION);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lessons") == 3);
	/* 3: versions from before signatures are unverified; no key is trusted */
	CHECK(scalar(s, "SELECT COUNT(*) FROM pack_versions WHERE signed_by IS NULL") == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM trusted_keys") == 0);
	CHECK(scalar(s, "SELECT COUNT(*) FROM units") == 1);
	CHECK_STR(text(s, "SELECT title FROM units WHERE unit_id = 'c1'", buf, sizeof buf),
		"Chương 1");
	CHECK(scalar(s, "SELECT COUNT(*) FROM lesson_tags") == 6);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lesson_tags WHERE kind = 'grade' AND value = '6'") == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lesson_tags t JOIN lessons l ON l.id = t.lesson"
		" WHERE l.lesson_id = 'a'") == 4);
	kho_store_free(s);
	free(home);

	/* a store from a newer kho is refused, untouched */
	home = kho_test_tmpdir("newer");
	CHECK_OK(kho_store_open(&s, home));
	CHECK_OK(kho_store_exec(s, "PRAGMA user_version = 99"));
	kho_store_free(s);
	s = NULL;
	CHECK_RC(kho_store_open(&s, home), KHO_EVERSION);
	CHECK(s == NULL);
	CHECK(strstr(kho_error_last(), "newer") != NULL);
	free(home);

	/* a file that is not a store */
	home = kho_test_tmpdir("garbage");
	char *db = kho_path_join(home, "kho.db");
	FILE *f = fopen(db, "w");
	fputs("this is not an SQLite database, not at all, not even close......", f);
	fclose(f);
	CHECK_RC(kho_store_open(&s, home), KHO_ECORRUPT);
	CHECK(strstr(kho_error_last(), "not a kho store") != NULL);
	free(db);
	free(home);
	return kho_test_done();
}
