/*
 * test-search.c — the index following the store (install, upgrade, remove,
 * rebuild, format change, drift) and search over it: accent-insensitive
 * matching, snippets with <mark>, filters, totals and paging, argument
 * checks. Uses the small Vietnamese packs in tests/data/packs/mini and
 * mini-v2 (version 2 of the same pack) in a temporary home.
 */
#include "kho-test.h"
#include "indexer-private.h"

static kho_store *store;
static kho_index *idx;

static kho_search_result *search_full(const char *text, const char *grade, const char *subject,
	const char *pack, int limit, int offset)
{
	kho_search_query q = { .text = text, .grade = grade, .subject = subject, .pack = pack,
		.limit = limit, .offset = offset };
	kho_search_result *r = NULL;
	CHECK_OK(kho_index_search(&r, idx, &q));
	return r;
}

static kho_search_result *search(const char *text)
{
	return search_full(text, NULL, NULL, NULL, 0, 0);
}

/* Total number of matches of `text`, or -1 on error. */
static int64_t total_of(const char *text)
{
	kho_search_result *r = search(text);
	int64_t n = r ? r->total : -1;
	kho_search_result_free(r);
	return n;
}

static bool has_lesson(const kho_search_result *r, const char *lesson)
{
	for (size_t i = 0; r && i < r->n_hits; i++)
		if (strcmp(r->hits[i].lesson, lesson) == 0)
			return true;
	return false;
}

static int64_t sql_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(kho_store_db(store), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void install(const char *relative, kho_install_outcome outcome, bool with_hooks)
{
	char *path = kho_test_source(relative);
	kho_pack *pack = NULL;
	kho_install_info info;
	memset(&info, 0, sizeof info);
	CHECK_OK(kho_pack_open(&pack, path));
	if (pack) {
		if (with_hooks)
			CHECK_OK(kho_index_install(&info, idx, pack));
		else
			CHECK_OK(kho_store_install(&info, store, pack, NULL));
		CHECK(info.outcome == outcome);
	}
	kho_pack_free(pack);
	free(path);
}

static void reopen(void)
{
	kho_index_free(idx);
	idx = NULL;
	CHECK_OK(kho_index_open(&idx, store));
}

static void test_basic(void)
{
	kho_search_result *r = search("duong");
	CHECK(r && r->total == 1 && r->n_hits == 1);
	if (r && r->n_hits == 1) {
		kho_search_hit *h = &r->hits[0];
		CHECK_STR(h->pack, "test.mini");
		CHECK(h->version == 1);
		CHECK_STR(h->lesson, "duong-tron");
		CHECK_STR(h->title, "Đường tròn và đường kính");
		CHECK_STR(h->unit, "Chương 1. Hình học");
		CHECK_STR(h->url, "/lesson/test.mini/duong-tron");
		CHECK(strstr(h->snippet, "<mark>Đường</mark>") != NULL);
		CHECK(strstr(h->snippet, "<mark>đường</mark>") != NULL);
		CHECK(strstr(h->snippet, "dontIndexMe") == NULL);
		CHECK(h->score > 0);
	}
	kho_search_result_free(r);

	/* Accents typed or not, any case. */
	CHECK(total_of("đường") == 1);
	CHECK(total_of("ĐƯỜNG TRÒN") == 1);
	CHECK(total_of("Duong Tron") == 1);
	/* Text of the dropped elements is not indexed. */
	CHECK(total_of("dontIndexMe") == 0);
	CHECK(total_of("Trang chủ") == 0);
	/* bạn, bán, bàn all fold to ban. */
	r = search("ban");
	CHECK(r && r->total == 3 && r->n_hits == 3);
	CHECK(has_lesson(r, "ban-be") && has_lesson(r, "ban-hang") && has_lesson(r, "duong-tron"));
	/* Lessons with the word in the title come first. */
	if (r && r->n_hits == 3) {
		CHECK(strcmp(r->hits[2].lesson, "duong-tron") == 0);
		CHECK(r->hits[0].score >= r->hits[1].score && r->hits[1].score >= r->hits[2].score);
	}
	kho_search_result_free(r);
	/* A lesson whose body does not match shows its summary... */
	r = search("nhận biết");
	CHECK(r && r->n_hits == 1);
	if (r && r->n_hits == 1)
		CHECK_STR(r->hits[0].snippet, "<mark>Nhận biết</mark> đường tròn, tâm, bán kính và đường kính.");
	kho_search_result_free(r);
	/* ...and one without a summary the beginning of its body. */
	r = search("cùng");
	CHECK(r && r->n_hits == 1);
	if (r && r->n_hits == 1)
		CHECK(strstr(r->hits[0].snippet, "<mark>cùng</mark>") != NULL);
	kho_search_result_free(r);
	/* Snippets are HTML-escaped. */
	r = search("giải");
	CHECK(r && r->n_hits == 1);
	if (r && r->n_hits == 1)
		CHECK(strstr(r->hits[0].snippet, "<mark>Giải</mark>") != NULL);
	kho_search_result_free(r);
}

/* Snippet text to HTML: escaped, whitespace folded, words marked one after
 * the other joined into one mark. */
static void test_snippet_html(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "\x02" "a\x03 \x02" "b\x03 c", "<mark>a b</mark> c" },
		{ "\x02" "a\x03, \x02" "b\x03", "<mark>a</mark>, <mark>b</mark>" },
		{ "x  \n\x02<b>\x03\t\ty", "x <mark>&lt;b&gt;</mark> y" },
		{ "\x02" "open", "<mark>open</mark>" },
		{ "close\x03 \x02", "close <mark></mark>" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *html = kho_index_snippet_html(cases[i].in);
		CHECK_STR(html, cases[i].out);
		free(html);
	}
}

/* Snippets from the stored text: the window with the most words of the
 * query, cut with "…", words marked as written. */
static void check_snippet(const char *text, const char *typed, bool typing, size_t width,
	const char *expected)
{
	kho_query *q = NULL;
	char *out = NULL;
	CHECK_OK(kho_index_query_parse(&q, typed, typing));
	CHECK_OK(index_snippet(&out, text, q, width));
	CHECK_STR(out, expected);
	free(out);
	kho_index_query_free(q);
}

static void test_snippets(void)
{
	check_snippet("Đường tròn tâm O.", "duong", false, 16, "\x02Đường\x03 tròn tâm O.");
	check_snippet("một hai ba bốn năm sáu bảy tám chín mười", "tam", false, 4,
		"…năm sáu bảy \x02tám\x03…");
	/* the window with both words wins over the first match */
	check_snippet("toán a b c d e f g h toán hình", "toan hinh", false, 3,
		"…h \x02toán\x03 \x02hình\x03");
	check_snippet("không có gì", "xyz", false, 2, "không có…");
	check_snippet("«Phân số» là gì?", "phan s", true, 8, "«\x02Phân\x03 \x02số\x03» là gì?");
	check_snippet("", "a", false, 16, "");
	check_snippet("a\xff\xfe" "b c", "b", false, 16, "a\xff\xfe\x02" "b\x03 c");
}

static void test_filters_and_paging(void)
{
	kho_search_result *r = search_full("ban", "4", NULL, NULL, 0, 0);
	CHECK(r && r->total == 1 && has_lesson(r, "ban-hang"));
	kho_search_result_free(r);
	r = search_full("ban", "5", NULL, NULL, 0, 0);
	CHECK(r && r->total == 3);
	kho_search_result_free(r);
	r = search_full("ban", NULL, "dao-duc", NULL, 0, 0);
	CHECK(r && r->total == 1 && has_lesson(r, "ban-be"));
	kho_search_result_free(r);
	r = search_full("ban", NULL, "toan", NULL, 0, 0);
	CHECK(r && r->total == 2 && !has_lesson(r, "ban-be"));
	kho_search_result_free(r);
	r = search_full("ban", "4", "dao-duc", NULL, 0, 0);
	CHECK(r && r->total == 0 && r->n_hits == 0);
	kho_search_result_free(r);
	r = search_full("ban", NULL, NULL, "test.mini", 0, 0);
	CHECK(r && r->total == 3);
	kho_search_result_free(r);
	r = search_full("ban", NULL, NULL, "no.such.pack", 0, 0);
	CHECK(r && r->total == 0);
	kho_search_result_free(r);
	r = search_full("ban", "", "", "", 0, 0); /* empty filters are no filters */
	CHECK(r && r->total == 3);
	kho_search_result_free(r);

	/* Pages: the same order every time, total over all pages. */
	kho_search_result *all = search_full("ban", NULL, NULL, NULL, 100, 0);
	CHECK(all && all->n_hits == 3);
	for (int i = 0; all && all->n_hits == 3 && i < 3; i++) {
		r = search_full("ban", NULL, NULL, NULL, 1, i);
		CHECK(r && r->total == 3 && r->n_hits == 1);
		if (r && r->n_hits == 1)
			CHECK_STR(r->hits[0].lesson, all->hits[i].lesson);
		kho_search_result_free(r);
	}
	kho_search_result_free(all);
	r = search_full("ban", NULL, NULL, NULL, 10, 10);
	CHECK(r && r->total == 3 && r->n_hits == 0);
	kho_search_result_free(r);

	/* Arguments out of range. */
	kho_search_query q = { .text = "ban", .limit = -1 };
	r = NULL;
	CHECK_RC(kho_index_search(&r, idx, &q), KHO_EINVALID);
	CHECK(r == NULL && strstr(kho_error_last(), "limit") != NULL);
	q.limit = 101;
	CHECK_RC(kho_index_search(&r, idx, &q), KHO_EINVALID);
	q.limit = 100;
	q.offset = -1;
	CHECK_RC(kho_index_search(&r, idx, &q), KHO_EINVALID);
	CHECK(r == NULL && strstr(kho_error_last(), "offset") != NULL);
}

static void test_hostile_queries(void)
{
	static const char *const queries[] = {
		"", "   ", "!!!", "\"", "-", "-ban", "OR OR", "NEAR(", "*", "^", ":", "title:ban",
		"'; DROP TABLE lessons; --", "\xFF\xFE\xC3", "\x02\x03", "\"đường tròn\" -bán",
	};
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		kho_search_result *r = search(queries[i]);
		CHECK(r != NULL);
		kho_search_result_free(r);
	}
	CHECK(total_of("") == 0);
	CHECK(total_of("!!!") == 0);
	CHECK(total_of("-ban") == 0);
	CHECK(total_of("\"đường tròn\"") == 1);
	CHECK(total_of("\"tròn đường\"") == 0);
	CHECK(total_of("ban -kinh") == 2);
	CHECK(sql_int("SELECT count(*) FROM lessons") == 3);
}

static void test_upgrade_and_remove(void)
{
	install("tests/data/packs/mini-v2", KHO_INSTALL_UPGRADED, true);
	CHECK(total_of("duong") == 0);
	CHECK(total_of("\"đường kính\"") == 0);
	kho_search_result *r = search("chu vi");
	CHECK(r && r->total == 1 && has_lesson(r, "hinh-tron"));
	if (r && r->n_hits == 1)
		CHECK(r->hits[0].version == 2);
	kho_search_result_free(r);
	r = search("ban");
	CHECK(r && r->total == 3);
	for (size_t i = 0; r && i < r->n_hits; i++)
		CHECK(r->hits[i].version == 2);
	kho_search_result_free(r);
	CHECK(sql_int("SELECT count(*) FROM index_docs") == 3);

	/* The same version again changes nothing. */
	install("tests/data/packs/mini-v2", KHO_INSTALL_SAME, true);
	CHECK(total_of("ban") == 3);

	/* Reopening finds the index in step; a rebuild gives the same. */
	reopen();
	CHECK(total_of("ban") == 3 && total_of("duong") == 0);
	CHECK_OK(kho_index_rebuild(idx));
	CHECK(total_of("ban") == 3 && total_of("duong") == 0 && total_of("chu vi") == 1);

	/* An index of another format is rebuilt on open. */
	CHECK(sqlite3_exec(kho_store_db(store),
		"UPDATE index_meta SET value = '0' WHERE key = 'format';"
		"UPDATE index_meta SET value = value + 1 WHERE key = 'generation';"
		"INSERT INTO lesson_fts (lesson_fts) VALUES ('delete-all');"
		"DELETE FROM index_docs;", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(total_of("ban") == 0);
	reopen();
	CHECK(total_of("ban") == 3 && total_of("chu vi") == 1);
	CHECK(sql_int("SELECT value FROM index_meta WHERE key = 'format'") == KHO_INDEX_FORMAT);

	/* A pack installed without the hooks is noticed and indexed on open. */
	install("content-packs/packs/en.kho.science-basics", KHO_INSTALL_NEW, false);
	CHECK(total_of("photosynthesis") == 0);
	reopen();
	CHECK(total_of("photosynthesis") == 1);
	CHECK(total_of("ban") == 3);

	CHECK_OK(kho_index_remove(idx, "test.mini"));
	CHECK(total_of("ban") == 0 && total_of("chu vi") == 0 && total_of("hình") == 0);
	CHECK(total_of("photosynthesis") == 1);
	CHECK_RC(kho_index_remove(idx, "test.mini"), KHO_ENOTFOUND);
	CHECK_OK(kho_index_remove(idx, "en.kho.science-basics"));
	CHECK(total_of("photosynthesis") == 0);
	CHECK(sql_int("SELECT count(*) FROM index_docs") == 0);
	/* Reopening an empty index is fine too. */
	reopen();
	CHECK(total_of("ban") == 0);
}

int main(void)
{
	CHECK_OK(kho_crypto_init());
	char *home = kho_test_tmpdir("search");
	CHECK_OK(kho_store_open(&store, home));
	if (!store)
		return kho_test_done();
	CHECK_OK(kho_index_open(&idx, store));
	if (!idx)
		return kho_test_done();
	install("tests/data/packs/mini", KHO_INSTALL_NEW, true);

	test_snippet_html();
	test_snippets();
	test_basic();
	test_filters_and_paging();
	test_hostile_queries();
	test_upgrade_and_remove();

	kho_index_free(idx);
	kho_store_free(store);
	free(home);
	return kho_test_done();
}
