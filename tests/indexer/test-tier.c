/*
 * test-tier.c — the word lists (tier.c) and the ranking through them
 * (search-rank.c), against ranking without them. Two homes hold the bundled
 * packs: in `listed` every word in 3 lessons or more has a list, so that
 * candidates come from the lists for almost every query; in `plain` no word
 * has one (the bundled packs are far below the default threshold), so that
 * candidates come from bm25. The same queries must give the same totals, facets, lessons, order
 * and scores; the lists must agree with FTS5 after installs and removals.
 * The two homes also count facets in their two ways (bitsets, lesson walk).
 */
#include "kho-test.h"
#include "indexer-private.h"
#include "tier-private.h"

#include <dirent.h>
#include <math.h>

typedef struct home {
	kho_store *store;
	kho_index *index;
	char *dir;
} home;

static home listed, plain;

static const char *bundled[] = {
	"en.kho.science-basics", "vn.kho.dao-duc-3", "vn.kho.khoa-hoc-5", "vn.kho.khtn-7",
	"vn.kho.lich-su-dia-li-6", "vn.kho.ngu-van-10", "vn.kho.tieng-anh-6", "vn.kho.tieng-viet-4",
	"vn.kho.tin-hoc-10", "vn.kho.toan-5", "vn.kho.toan-8",
};
#define N_BUNDLED (sizeof bundled / sizeof bundled[0])

static void install(home *h, const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "content-packs/packs/%s", name);
	char *path = kho_test_source(rel);
	kho_pack *pack = NULL;
	kho_install_info info;
	CHECK_OK(kho_pack_open(&pack, path));
	if (pack)
		CHECK_OK(kho_index_install(&info, h->index, pack));
	kho_pack_free(pack);
	free(path);
}

static void open_home(home *h, const char *name, int64_t min_df)
{
	h->dir = kho_test_tmpdir(name);
	CHECK_OK(kho_store_open(&h->store, h->dir));
	CHECK_OK(kho_index_open(&h->index, h->store));
	if (h->index && min_df) {
		h->index->tier_min_df = min_df;
		CHECK_OK(kho_index_rebuild(h->index)); /* so that installs keep it */
	}
	for (size_t i = 0; h->index && i < N_BUNDLED; i++)
		install(h, bundled[i]);
}

static kho_search_result *run(home *h, const char *text, const char *grade, const char *subject,
	int offset, bool hits_only)
{
	kho_search_query q = { .text = text, .grade = grade, .subject = subject, .limit = 10,
		.offset = offset, .hits_only = hits_only };
	kho_search_result *r = NULL;
	CHECK_OK(kho_index_search(&r, h->index, &q));
	return r;
}

static int compared, differing;

/* The same query on both homes gives the same result. */
static void same(const char *text, const char *grade, const char *subject, int offset,
	bool hits_only)
{
	kho_search_result *a = run(&listed, text, grade, subject, offset, hits_only);
	kho_search_result *b = run(&plain, text, grade, subject, offset, hits_only);
	if (!a || !b)
		goto done;
	compared++;
	bool ok = a->total == b->total && a->n_facets == b->n_facets && a->n_hits == b->n_hits;
	for (size_t i = 0; ok && i < a->n_facets; i++)
		ok = !strcmp(a->facets[i].kind, b->facets[i].kind) &&
			!strcmp(a->facets[i].value, b->facets[i].value) &&
			a->facets[i].count == b->facets[i].count;
	for (size_t i = 0; ok && i < a->n_hits; i++)
		ok = !strcmp(a->hits[i].pack, b->hits[i].pack) &&
			!strcmp(a->hits[i].lesson, b->hits[i].lesson) &&
			fabs(a->hits[i].score - b->hits[i].score) <= 1e-4 * fabs(b->hits[i].score) + 1e-6 &&
			!strcmp(a->hits[i].snippet, b->hits[i].snippet);
	if (!ok) {
		differing++;
		fprintf(stderr, "differs: '%s' (grade %s, subject %s, offset %d): total %lld/%lld,"
			" hits %zu/%zu\n", text, grade ? grade : "-", subject ? subject : "-", offset,
			(long long)a->total, (long long)b->total, a->n_hits, b->n_hits);
		for (size_t i = 0; i < a->n_hits || i < b->n_hits; i++)
			fprintf(stderr, "  %-40s %.9g | %-40s %.9g\n",
				i < a->n_hits ? a->hits[i].lesson : "", i < a->n_hits ? a->hits[i].score : 0,
				i < b->n_hits ? b->hits[i].lesson : "", i < b->n_hits ? b->hits[i].score : 0);
	}
done:
	kho_search_result_free(a);
	kho_search_result_free(b);
}

static int fold_into(void *payload, int flags, const char *token, int len, int start, int end)
{
	(void)flags;
	(void)start;
	(void)end;
	char *out = payload;
	if (!*out && len < 300) {
		memcpy(out, token, (size_t)len);
		out[len] = '\0';
	}
	return 0;
}

/* Every list: best first, at most INDEX_TIER_K, df as FTS5 counts it, and
 * only lessons in the index. Returns how many words have a list. */
static int64_t check_lists(home *h)
{
	sqlite3 *db = kho_store_db(h->store);
	sqlite3_stmt *st = NULL, *count = NULL, *indexed = NULL;
	int64_t words = 0;
	CHECK(sqlite3_prepare_v2(db, "SELECT term, df, top FROM index_tier", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM lesson_fts WHERE lesson_fts MATCH ?1", -1,
		&count, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT 1 FROM index_docs WHERE lesson = ?1", -1, &indexed,
		NULL) == SQLITE_OK);
	int bad_df = 0, bad_order = 0, stale = 0, exact_forms = 0, duplicates = 0;
	sqlite3_stmt *holds = NULL;
	CHECK(sqlite3_prepare_v2(db, "SELECT 1 FROM lesson_fts WHERE lesson_fts MATCH ?1"
		" AND rowid = ?2", -1, &holds, NULL) == SQLITE_OK);
	while (st && count && indexed && sqlite3_step(st) == SQLITE_ROW) {
		words++;
		const char *term = (const char *)sqlite3_column_text(st, 0);
		int64_t df = sqlite3_column_int64(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 2) / INDEX_TIER_ENTRY_SIZE;
		index_tier_entry *e = calloc(n + 1, sizeof *e);
		index_tier_decode(e, sqlite3_column_blob(st, 2), n);
		/* FTS5 counts folded words; an exact form is in no more lessons
		 * than its folded word */
		char folded[300] = "", expr[310];
		kho_index_tokenize(term, strlen(term), KHO_TOKENIZE_QUERY, fold_into, folded);
		snprintf(expr, sizeof expr, "\"%s\"", folded);
		sqlite3_bind_text(count, 1, expr, -1, SQLITE_TRANSIENT);
		bool exact = strcmp(folded, term) != 0;
		int64_t counted = sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int64(count, 0) : -1;
		sqlite3_reset(count);
		if (exact ? df > counted || df <= 0 : df != counted) {
			fprintf(stderr, "df of '%s': %lld listed, %lld for '%s'\n", term, (long long)df,
				(long long)counted, folded);
			bad_df++;
		}
		exact_forms += exact;
		if (n > INDEX_TIER_K || (int64_t)n > df)
			bad_order++;
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && e[i].weight > e[i - 1].weight)
				bad_order++;
			for (size_t j = 0; j < i; j++)
				duplicates += e[j].lesson == e[i].lesson;
			sqlite3_bind_int64(indexed, 1, e[i].lesson);
			if (sqlite3_step(indexed) != SQLITE_ROW)
				stale++;
			sqlite3_reset(indexed);
			if (i < 3) { /* the lesson has the word */
				sqlite3_bind_text(holds, 1, expr, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(holds, 2, e[i].lesson);
				if (sqlite3_step(holds) != SQLITE_ROW) {
					fprintf(stderr, "'%s' listed for lesson %u, which lacks it\n", term,
						e[i].lesson);
					stale++;
				}
				sqlite3_reset(holds);
			}
		}
		free(e);
	}
	CHECK(bad_df == 0);
	CHECK(exact_forms > 100);
	CHECK(bad_order == 0);
	CHECK(stale == 0);
	CHECK(duplicates == 0);
	sqlite3_finalize(holds);
	sqlite3_finalize(st);
	sqlite3_finalize(count);
	sqlite3_finalize(indexed);
	return words;
}

/* A word offered many lessons keeps exactly the INDEX_TIER_K best, whatever
 * the order they come in, ties in weight going to the older lesson. */
static void keeps_the_best(void)
{
	enum { N = 5000 };
	static index_tier_entry all[N];
	uint64_t seed = 7;
	for (uint32_t i = 0; i < N; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		all[i] = (index_tier_entry){ (float)(seed >> 40 & 0xFF) / 16.0f, i + 1 };
	}
	for (int order = 0; order < 3; order++) {
		tier_word w = { 0 };
		for (uint32_t i = 0; i < N; i++)
			CHECK_OK(tier_list_push(&w, all[order == 0 ? i : order == 1 ? N - 1 - i :
				(i * 7919u) % N]));
		CHECK(w.n >= INDEX_TIER_K);
		qsort(w.best, w.n, sizeof *w.best, tier_entry_order);
		static index_tier_entry sorted[N];
		memcpy(sorted, all, sizeof sorted);
		qsort(sorted, N, sizeof *sorted, tier_entry_order);
		CHECK(memcmp(w.best, sorted, INDEX_TIER_K * sizeof *sorted) == 0);
		free(w.best);
	}
}

/* The word map finds every word it holds, short or longer than the bytes a
 * slot keeps, and none that differ past those bytes, across its growth. */
static void map_finds_words(void)
{
	tier_map map = { 0 };
	char word[64];
	enum { N = 3000 };
	for (int i = 0; i < N; i++) {
		/* lengths 1..40, all sharing their first bytes but the last */
		int len = 1 + i % 40;
		memset(word, 'a' + i % 7, (size_t)len);
		snprintf(word + len - 1, sizeof word - (size_t)len + 1, "%d", i);
		CHECK_OK(tier_map_add(&map, word, strlen(word)));
	}
	CHECK(map.n == N);
	for (int i = 0; i < N; i++) {
		int len = 1 + i % 40;
		memset(word, 'a' + i % 7, (size_t)len);
		snprintf(word + len - 1, sizeof word - (size_t)len + 1, "%d", i);
		tier_word *w = tier_map_find(&map, word, strlen(word));
		CHECK(w && w->len == strlen(word) && memcmp(w->term, word, w->len) == 0);
		CHECK_OK(tier_map_add(&map, word, strlen(word))); /* present: nothing added */
		word[strlen(word) - 1] ^= 0x40; /* differs in its last byte only */
		CHECK(tier_map_find(&map, word, strlen(word)) == NULL);
	}
	CHECK(map.n == N);
	tier_map_free(&map);
}

static const char *queries[] = {
	"hoc", "học", "phân số", "phan so", "toan 6 phan so", "tim dien tich hinh chu nhat",
	"diện tích hình tròn", "\"hinh tron\"", "hoc -toan", "lịch sử lớp 6", "tieengs vieejt",
	"cach mang thang tam", "the water cycle", "bai tap van dung", "muc tieu",
	"vì sao lá cây có màu xanh", "ban", "bạn", "bán", "nhan chia so thap phan", "so",
	"phương trình bậc nhất một ẩn", "python", "co2", "đ", "duong", "môi trường và sinh vật",
	"khoa hoc lop 5", "ngữ văn 10 truyện kiều", "\"phân số\" -thập", "the OR va",
};

/* The total of a search against FTS5's own count of `expr`, twice (the
 * second time from the sets kept in memory). */
static void total_is_counted(home *h, const char *text, const char *expr)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM lesson_fts WHERE lesson_fts MATCH '%s'", expr);
	long long expected = kho_test_scalar(kho_store_db(h->store), sql);
	for (int i = 0; i < 2; i++) {
		kho_search_result *r = run(h, text, NULL, NULL, 0, false);
		CHECK(r && expected > 0 && r->total == expected);
		if (r && r->total != expected)
			fprintf(stderr, "%s: %lld, FTS5 %lld\n", text, (long long)r->total, expected);
		kho_search_result_free(r);
	}
}

int main(void)
{
	keeps_the_best();
	map_finds_words();
	open_home(&listed, "tier-listed", 3);
	open_home(&plain, "tier-plain", 0);
	if (!listed.index || !plain.index)
		return kho_test_done();
	/* The plain home counts facets lesson by lesson, as a box with very many
	 * packs does; the listed one with a bitset per value. */
	plain.index->facet_bits_max = 1;

	/* The bundled packs are far below the default threshold. */
	CHECK(kho_test_scalar(kho_store_db(plain.store), "SELECT count(*) FROM index_tier") == 0);
	/* With 3, most words have a list; build and installs kept them right. */
	CHECK(check_lists(&listed) > 1000);

	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		same(queries[i], NULL, NULL, 0, false);
		same(queries[i], NULL, NULL, 10, false);
		same(queries[i], NULL, NULL, 0, true);
		same(queries[i], "5", NULL, 0, false);
		same(queries[i], NULL, "toan", 0, false);
		same(queries[i], "8", "toan", 3, false);
	}
	CHECK(compared == 6 * (int)(sizeof queries / sizeof queries[0]));
	CHECK(differing == 0);

	total_is_counted(&listed, "hoc", "hoc");
	total_is_counted(&listed, "hoc -toan", "hoc NOT toan");
	total_is_counted(&listed, "so hoc", "so OR hoc");
	total_is_counted(&plain, "hoc -toan", "hoc NOT toan");

	/* Removing and installing again keeps the counts exact and the lists
	 * free of the removed lessons: toan-8, installed last, has the largest
	 * lesson ids, which SQLite gives again to the lessons installed next. */
	int64_t generation = 0, after = 0;
	CHECK_OK(index_meta_get(&generation, listed.index, "generation"));
	CHECK_OK(kho_index_remove(listed.index, "vn.kho.toan-8"));
	CHECK_OK(kho_index_remove(plain.index, "vn.kho.toan-8"));
	/* an index that followed a removal is in step: opening does not rebuild */
	kho_index_free(listed.index);
	CHECK_OK(kho_index_open(&listed.index, listed.store));
	if (!listed.index)
		return kho_test_done();
	listed.index->tier_min_df = 3;
	CHECK_OK(index_meta_get(&after, listed.index, "generation"));
	CHECK(after == generation + 1);
	same("phan so", NULL, NULL, 0, false);
	same("hoc", "8", NULL, 0, false);
	total_is_counted(&listed, "hoc -toan", "hoc NOT toan");
	install(&listed, "vn.kho.toan-8");
	install(&plain, "vn.kho.toan-8");
	CHECK(check_lists(&listed) > 1000);
	same("phan so", NULL, NULL, 0, false);
	same("so thap phan", NULL, NULL, 0, false);
	CHECK_OK(kho_index_remove(listed.index, "vn.kho.toan-5"));
	CHECK_OK(kho_index_remove(plain.index, "vn.kho.toan-5"));
	same("phan so", NULL, NULL, 0, false);
	same("hoc", "5", NULL, 0, false);
	total_is_counted(&listed, "hoc -toan", "hoc NOT toan");
	install(&listed, "vn.kho.toan-5");
	install(&plain, "vn.kho.toan-5");
	same("phan so", NULL, NULL, 0, false);
	same("so thap phan", NULL, NULL, 0, false);
	CHECK(differing == 0);
	CHECK_OK(kho_index_rebuild(listed.index));
	CHECK(check_lists(&listed) > 1000);
	same("phan so", NULL, NULL, 0, false);
	CHECK(differing == 0);

	/* While typing, a prefix stands for the commonest listed words it
	 * begins: "hin" finds hình. */
	kho_search_query q = { .text = "hin", .limit = 10, .typing = true };
	kho_search_result *r = NULL;
	CHECK_OK(kho_index_search(&r, listed.index, &q));
	CHECK(r && r->total > 0 && r->n_hits == 10);
	kho_search_result_free(r);

	/* A very long query in Telex, being typed, makes more nodes than one
	 * search scores (readings, their bigrams, prefix words): the first ones
	 * are kept, and the search works. */
	char lng[2048] = "";
	for (int i = 0; i < 40; i++)
		strcat(lng, i % 2 ? "bafi taapj " : "hocj sinh ");
	strcat(lng, "ph");
	for (int typing = 0; typing < 2; typing++) {
		kho_search_query lq = { .text = lng, .limit = 10, .typing = typing };
		r = NULL;
		CHECK_OK(kho_index_search(&r, listed.index, &lq));
		CHECK(r && r->total > 0 && r->n_hits > 0);
		kho_search_result_free(r);
	}

	home *homes[] = { &listed, &plain };
	for (size_t i = 0; i < 2; i++) {
		kho_index_free(homes[i]->index);
		kho_store_free(homes[i]->store);
		free(homes[i]->dir);
	}
	return kho_test_done();
}
