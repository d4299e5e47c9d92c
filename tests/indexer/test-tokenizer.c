/*
 * test-tokenizer.c — the kho tokenizer's folding rules, token boundaries and
 * offsets, its behaviour on hostile input, and its use inside FTS5.
 */
#include "kho-test.h"
#include "indexer-private.h"

#include <utf8proc.h>

/* Collects tokens as "fold/exact fold fold/exact …" plus their offsets. */
typedef struct collected {
	char text[8192];
	size_t len;
	int starts[512], ends[512];
	char tokens[512][300];
	int n;     /* tokens (not counting colocated ones) */
	int n_all; /* including colocated ones */
	int bad_colocated; /* colocated token with different offsets, or first */
} collected;

static int collect(void *payload, int flags, const char *tok, int len, int start, int end)
{
	collected *c = payload;
	c->n_all++;
	if (flags & KHO_TOKEN_COLOCATED) {
		if (c->n == 0 || c->starts[(c->n - 1) % 512] != start || c->ends[(c->n - 1) % 512] != end)
			c->bad_colocated++;
		if (c->len + (size_t)len + 2 < sizeof c->text) {
			c->text[c->len++] = '/';
			memcpy(c->text + c->len, tok, (size_t)len);
			c->len += (size_t)len;
		}
	} else {
		if (c->len > 0 && c->len + 1 < sizeof c->text)
			c->text[c->len++] = ' ';
		if (c->len + (size_t)len + 1 < sizeof c->text) {
			memcpy(c->text + c->len, tok, (size_t)len);
			c->len += (size_t)len;
		}
		int i = c->n % 512;
		c->starts[i] = start;
		c->ends[i] = end;
		size_t n = (size_t)len < sizeof c->tokens[i] - 1 ? (size_t)len : sizeof c->tokens[i] - 1;
		memcpy(c->tokens[i], tok, n);
		c->tokens[i][n] = '\0';
		c->n++;
	}
	c->text[c->len] = '\0';
	return 0;
}

static collected *run_mode(const char *text, size_t len, kho_tokenize_mode mode)
{
	collected *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	CHECK(kho_index_tokenize(text, len, mode, collect, c) == 0);
	CHECK(c->bad_colocated == 0);
	return c;
}

/* Checks the tokens of `text` in document mode. */
static void check_doc(const char *text, const char *expect, int line)
{
	collected *c = run_mode(text, strlen(text), KHO_TOKENIZE_DOCUMENT);
	if (strcmp(c->text, expect) != 0) {
		fprintf(stderr, "%s:%d: tokens of \"%s\": \"%s\", expected \"%s\"\n",
			__FILE__, line, text, c->text, expect);
		kho_test_failures++;
	}
	free(c);
}

#define CHECK_DOC(text, expect) check_doc(text, expect, __LINE__)

/* NFD of a string (malloc'd). */
static char *nfd(const char *s)
{
	char *d = (char *)utf8proc_NFD((const utf8proc_uint8_t *)s);
	if (!d)
		abort();
	return d;
}

static void test_folding(void)
{
	CHECK_DOC("đường", "duong/đường");
	CHECK_DOC("Đường", "duong/đường");
	CHECK_DOC("ĐƯỜNG", "duong/đường");
	CHECK_DOC("duong", "duong");
	CHECK_DOC("DUONG", "duong");
	CHECK_DOC("Học sinh", "hoc/học sinh");
	CHECK_DOC("phân số", "phan/phân so/số");
	CHECK_DOC("Tiếng Việt", "tieng/tiếng viet/việt");
	CHECK_DOC("ắ ằ ẳ ẵ ặ ơ ư ữ ỵ", "a/ắ a/ằ a/ẳ a/ẵ a/ặ o/ơ u/ư u/ữ y/ỵ");
	CHECK_DOC("Ða", "da/ða"); /* U+00D0 is not Đ but looks like it */
	CHECK_DOC("Straße", "strasse");
	CHECK_DOC("Привет мир", "привет мир");
	CHECK_DOC("Ελληνικά", "ελληνικα/ελληνικά");
	CHECK_DOC("café naïve", "cafe/café naive/naïve");
}

static void test_tone_placement(void)
{
	/* Old and new placement give the same exact form. */
	CHECK_DOC("hoà", "hoa/hòa");
	CHECK_DOC("hòa", "hoa/hòa");
	CHECK_DOC("HOÀ", "hoa/hòa");
	CHECK_DOC("khoẻ", "khoe/khỏe");
	CHECK_DOC("khỏe", "khoe/khỏe");
	CHECK_DOC("thuý", "thuy/thúy");
	CHECK_DOC("thúy", "thuy/thúy");
	CHECK_DOC("thuỷ", "thuy/thủy");
	/* Not open oa/oe/uy syllables: left as written. */
	CHECK_DOC("quý", "quy/quý");
	CHECK_DOC("hoàng", "hoang/hoàng");
	CHECK_DOC("khuyên", "khuyen/khuyên");
	CHECK_DOC("toán", "toan/toán");
	CHECK_DOC("hoặc", "hoac/hoặc");
}

static void test_nfd_equals_nfc(void)
{
	static const char *const samples[] = {
		"đường", "Đường tròn", "hoà hòa khoẻ khỏe thuỷ thủy quý", "ĐƯỜNG",
		"Bài 1. Ôn tập: Khái niệm về phân số; nghiêng, khuỷu, người, ượng",
		"Năm học 2024 – 2025, lớp 5A: Toán, Tiếng Việt, Khoa học.",
	};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		char *d = nfd(samples[i]);
		CHECK(strcmp(d, samples[i]) != 0 || i == 3);
		collected *a = run_mode(samples[i], strlen(samples[i]), KHO_TOKENIZE_DOCUMENT);
		collected *b = run_mode(d, strlen(d), KHO_TOKENIZE_DOCUMENT);
		if (strcmp(a->text, b->text) != 0) {
			fprintf(stderr, "NFC \"%s\" vs NFD \"%s\"\n", a->text, b->text);
			kho_test_failures++;
		}
		free(a);
		free(b);
		free(d);
	}
	/* A tone mark typed after the vowel's quality mark or before it. */
	CHECK_DOC("e\xCC\x82\xCC\x81", "e/ế");
	CHECK_DOC("e\xCC\x81\xCC\x82", "e/ế");
	CHECK_DOC("a\xCC\xA3\xCC\x86", "a/ặ");
	CHECK_DOC("a\xCC\x86\xCC\xA3", "a/ặ");
}

static void test_latin_and_numbers(void)
{
	CHECK_DOC("CO2 H2O Python3 x86_64 3.14", "co2 h2o python3 x86 64 3 14");
	CHECK_DOC("don't stop-here, a.b!c?(d)[e]{f}<g>", "don t stop here a b c d e f g");
	CHECK_DOC("   ", "");
	CHECK_DOC("", "");
	CHECK_DOC("!!! ... ---", "");
	CHECK_DOC("50% 1,5 ½ x²", "50 1 5 ½ x²");
	CHECK_DOC("ho\xC2\xAD" "c sinh", "hoc sinh"); /* soft hyphen inside a word */
}

static void test_symbols_and_emoji(void)
{
	CHECK_DOC("😀học😀sinh👍🏽", "hoc/học sinh");
	CHECK_DOC("a\xE2\x80\x8D" "b", "a b"); /* zero-width joiner separates */
	CHECK_DOC("中文 漢字", "中文 漢字");
	CHECK_DOC("a\tb\nc\rd", "a b c d");
	/* A lone combining mark folds to nothing and is not a token. */
	CHECK_DOC(" \xCC\x81 x", "x");
}

static void test_invalid_utf8(void)
{
	static const char *const bad[] = {
		"\xFF\xFE" "abc\xC3", "\xC3(", "\xE1\x80", "\xED\xA0\x80" "x", "\xF4\x90\x80\x80",
		"\xC0\xAF" "y", "\xE0\x80\xAF", "\x80\x80\x80", "đư\xE1\xBB", "z\xF0\x9F\x98",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		collected *c = run_mode(bad[i], strlen(bad[i]), KHO_TOKENIZE_DOCUMENT);
		free(c);
	}
	CHECK_DOC("\xFF\xFE" "abc\xC3", "abc");
	CHECK_DOC("\xED\xA0\x80" "x", "x");
	CHECK_DOC("\xC0\xAF" "y", "y");
	CHECK_DOC("đư\xE1\xBB", "du/đư");

	/* Every byte value at every place of a short Vietnamese text. */
	char buf[32];
	const char *base = "Đường tròn";
	size_t n = strlen(base);
	for (size_t at = 0; at < n; at++) {
		for (int v = 0; v < 256; v++) {
			memcpy(buf, base, n);
			buf[at] = (char)v;
			collected *c = run_mode(buf, n, KHO_TOKENIZE_DOCUMENT);
			for (int k = 0; k < c->n && k < 512; k++)
				CHECK(c->starts[k] >= 0 && c->starts[k] < c->ends[k] && c->ends[k] <= (int)n);
			free(c);
		}
	}
}

static int count_only(void *payload, int flags, const char *tok, int len, int start, int end)
{
	(void)tok;
	size_t *counts = payload;
	counts[0]++;
	if (flags & KHO_TOKEN_COLOCATED)
		counts[1]++;
	if (len <= 0 || len > KHO_TOKEN_MAX_INPUT * 4 || end - start > KHO_TOKEN_MAX_INPUT)
		counts[2]++;
	return 0;
}

static void test_long_runs(void)
{
	size_t size = 1024 * 1024;
	char *big = malloc(size);
	if (!big)
		abort();
	memset(big, 'a', size);
	size_t counts[3] = { 0, 0, 0 };
	CHECK(kho_index_tokenize(big, size, KHO_TOKENIZE_DOCUMENT, count_only, counts) == 0);
	CHECK(counts[0] == size / KHO_TOKEN_MAX_INPUT);
	CHECK(counts[1] == 0 && counts[2] == 0);

	/* 1 MB of "đ" (two bytes each). */
	for (size_t i = 0; i + 1 < size; i += 2)
		memcpy(big + i, "\xC4\x91", 2);
	memset(counts, 0, sizeof counts);
	CHECK(kho_index_tokenize(big, size, KHO_TOKENIZE_DOCUMENT, count_only, counts) == 0);
	CHECK(counts[0] == 2 * (size / KHO_TOKEN_MAX_INPUT));
	CHECK(counts[2] == 0);

	/* 1 MB of NFD "ệ" (e + dot below + circumflex: 5 bytes), general path. */
	const char *e = "e\xCC\xA3\xCC\x82";
	size_t used = 0;
	while (used + 5 <= size) {
		memcpy(big + used, e, 5);
		used += 5;
	}
	memset(counts, 0, sizeof counts);
	CHECK(kho_index_tokenize(big, used, KHO_TOKENIZE_DOCUMENT, count_only, counts) == 0);
	CHECK(counts[0] > 0 && counts[2] == 0);
	free(big);
}

static void test_offsets(void)
{
	const char *text = "Xin chào Đường tròn, HOÀ bình! CO2";
	collected *c = run_mode(text, strlen(text), KHO_TOKENIZE_DOCUMENT);
	CHECK(c->n == 7);
	CHECK_STR(c->tokens[2], "duong");
	CHECK(c->starts[2] == 10 && c->ends[2] == 19);
	/* Every token's range, tokenized alone, gives the same token. */
	for (int i = 0; i < c->n; i++) {
		collected *one = run_mode(text + c->starts[i], (size_t)(c->ends[i] - c->starts[i]),
			KHO_TOKENIZE_QUERY);
		CHECK(one->n == 1);
		CHECK_STR(one->tokens[0], c->tokens[i]);
		free(one);
	}
	free(c);

	/* Offsets of NFD input cover the decomposed bytes. */
	char *d = nfd("Đường");
	c = run_mode(d, strlen(d), KHO_TOKENIZE_DOCUMENT);
	CHECK(c->n == 1 && c->starts[0] == 0 && c->ends[0] == (int)strlen(d));
	free(c);
	free(d);
}

static void test_query_mode(void)
{
	collected *c = run_mode("Đường tròn", strlen("Đường tròn"), KHO_TOKENIZE_QUERY);
	CHECK_STR(c->text, "duong tron");
	CHECK(c->n_all == 2);
	free(c);
	c = run_mode("Đường tròn", strlen("Đường tròn"), KHO_TOKENIZE_AUX);
	CHECK_STR(c->text, "duong tron");
	free(c);
}

static int stop_after_two(void *payload, int flags, const char *tok, int len, int start, int end)
{
	(void)flags; (void)tok; (void)len; (void)start; (void)end;
	int *n = payload;
	return ++*n == 2 ? 42 : 0;
}

static void test_callback_stops(void)
{
	int n = 0;
	CHECK(kho_index_tokenize("a b c d", 7, KHO_TOKENIZE_QUERY, stop_after_two, &n) == 42);
	CHECK(n == 2);
}

static void test_fts5(void)
{
	sqlite3 *db = NULL;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(kho_index_register_tokenizer(db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
		"CREATE VIRTUAL TABLE t USING fts5(body, tokenize='kho');"
		"INSERT INTO t (rowid, body) VALUES (1, 'Đường tròn và hình tròn');"
		"INSERT INTO t (rowid, body) VALUES (2, 'Con đường đến trường');"
		"INSERT INTO t (rowid, body) VALUES (3, 'Bạn bán bàn');",
		NULL, NULL, NULL) == SQLITE_OK);
	/* A tokenizer with options is refused. */
	CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE u USING fts5(x, tokenize='kho foo')",
		NULL, NULL, NULL) != SQLITE_OK);

	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL) == SQLITE_OK);
	static const struct { const char *q; int n; } cases[] = {
		{ "duong", 2 }, { "\"duong tron\"", 1 }, { "ban", 1 }, { "truong", 1 },
		{ "hinh", 1 }, { "xyz", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sqlite3_bind_text(st, 1, cases[i].q, -1, SQLITE_STATIC);
		CHECK(sqlite3_step(st) == SQLITE_ROW);
		if (sqlite3_column_int(st, 0) != cases[i].n) {
			fprintf(stderr, "MATCH %s: %d rows, expected %d\n", cases[i].q,
				sqlite3_column_int(st, 0), cases[i].n);
			kho_test_failures++;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);

	CHECK(sqlite3_prepare_v2(db,
		"SELECT highlight(t, 0, '[', ']') FROM t WHERE t MATCH 'duong' ORDER BY rowid",
		-1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "[Đường] tròn và hình tròn");
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "Con [đường] đến trường");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int main(void)
{
	test_folding();
	test_tone_placement();
	test_nfd_equals_nfc();
	test_latin_and_numbers();
	test_symbols_and_emoji();
	test_invalid_utf8();
	test_long_runs();
	test_offsets();
	test_query_mode();
	test_callback_stops();
	test_fts5();
	return kho_test_done();
}
