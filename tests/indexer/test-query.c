/*
 * test-query.c — the query parser: the syntax tree and FTS5 expression of
 * ordinary queries, and hostile query strings, each of which must give an
 * expression that FTS5 (with the kho tokenizer) runs without an error.
 */
#include "kho-test.h"
#include "indexer-private.h"

#include <stdint.h>

static sqlite3 *db;
static sqlite3_stmt *match_stmt;

static void open_db(void)
{
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(kho_index_register_tokenizer(db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
		"CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='kho');"
		"INSERT INTO t VALUES ('Học sinh giỏi', 'Phân số và hỗn số');"
		"INSERT INTO t VALUES ('Sinh học', 'Tế bào, học tập');"
		"INSERT INTO t VALUES ('Toán 5', 'Phân số thập phân; đường tròn');",
		NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1,
		&match_stmt, NULL) == SQLITE_OK);
}

/* Runs `expr` through FTS5; returns the number of matching rows, or -1 and
 * reports the error. An empty expression is not run: it means no results. */
static int run_expr(const char *expr, const char *input)
{
	if (expr[0] == '\0')
		return 0;
	sqlite3_bind_text(match_stmt, 1, expr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(match_stmt);
	int n = -1;
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int(match_stmt, 0);
	} else {
		fprintf(stderr, "query %.60s… gave expression %.200s… which fails: %s\n",
			input, expr, sqlite3_errmsg(db));
		kho_test_failures++;
	}
	sqlite3_reset(match_stmt);
	return n;
}

static void check_expr(const char *input, const char *expect, int rows, int line)
{
	char *expr = NULL;
	CHECK_OK(kho_index_query_build(&expr, input, false));
	if (!expr)
		return;
	if (expect && strcmp(expr, expect) != 0) {
		fprintf(stderr, "%s:%d: query \"%s\" gave \"%s\", expected \"%s\"\n", __FILE__, line,
			input, expr, expect);
		kho_test_failures++;
	}
	int n = run_expr(expr, input);
	if (rows >= 0 && n != rows) {
		fprintf(stderr, "%s:%d: query \"%s\" matched %d rows, expected %d\n", __FILE__, line,
			input, n, rows);
		kho_test_failures++;
	}
	free(expr);
}

#define CHECK_EXPR(input, expect, rows) check_expr(input, expect, rows, __LINE__)

static void test_tree(void)
{
	kho_query *q = NULL;
	CHECK_OK(kho_index_query_parse(&q, "Học sinh \"phân số\" -toán e-mail", false));
	/* An accented word or phrase is also looked for in its exact form,
	 * right after its folded one; an exclusion is not. */
	CHECK(q && q->n_nodes == 8);
	if (q && q->n_nodes == 8) {
		CHECK(q->nodes[0].kind == KHO_QUERY_TERM && q->nodes[0].n_tokens == 1);
		CHECK_STR(q->nodes[0].tokens[0], "hoc");
		CHECK(q->nodes[1].kind == KHO_QUERY_EXACT);
		CHECK_STR(q->nodes[1].tokens[0], "học");
		CHECK(q->nodes[2].kind == KHO_QUERY_TERM);
		CHECK_STR(q->nodes[2].tokens[0], "sinh");
		CHECK(q->nodes[3].kind == KHO_QUERY_BIGRAM && q->nodes[3].n_tokens == 2);
		CHECK(q->nodes[4].kind == KHO_QUERY_PHRASE && q->nodes[4].n_tokens == 2);
		CHECK_STR(q->nodes[4].tokens[1], "so");
		CHECK(q->nodes[5].kind == KHO_QUERY_EXACT && q->nodes[5].n_tokens == 2);
		CHECK_STR(q->nodes[5].tokens[1], "số");
		CHECK(q->nodes[6].kind == KHO_QUERY_TERM && q->nodes[6].negated);
		CHECK_STR(q->nodes[6].tokens[0], "toan");
		CHECK(q->nodes[7].kind == KHO_QUERY_TERM && q->nodes[7].n_tokens == 2);
		CHECK(!q->truncated);
	}
	kho_index_query_free(q);
	/* "e-mail" is one term of two tokens, searched as a phrase. */
	CHECK_EXPR("e-mail", "(\"e mail\")", 0);
}

static void test_expressions(void)
{
	CHECK_EXPR("học sinh", "(\"hoc\" OR \"sinh\" OR \"hoc sinh\")", 2);
	CHECK_EXPR("HỌC SINH", "(\"hoc\" OR \"sinh\" OR \"hoc sinh\")", 2);
	CHECK_EXPR("\"học sinh\"", "(\"hoc sinh\")", 1);
	CHECK_EXPR("phân số -toán",
		"(\"phan\" OR \"so\" OR \"phan so\") NOT (\"toan\")", 1);
	CHECK_EXPR("“học sinh” -“sinh học”", "(\"hoc sinh\") NOT (\"sinh hoc\")", 1);
	CHECK_EXPR("“học sinh", "(\"hoc sinh\")", 1);
	CHECK_EXPR("-toán", "", 0);
	CHECK_EXPR("duong", "(\"duong\")", 1);
	CHECK_EXPR("đường", "(\"duong\")", 1);
	CHECK_EXPR("", "", 0);
	CHECK_EXPR("   ", "", 0);
	CHECK_EXPR("!!! ??? ... ***", "", 0);
	CHECK_EXPR("toán toán toán", "(\"toan\" OR \"toan toan\")", 1);
	/* A long question still finds the best matches (OR, not AND). */
	CHECK_EXPR("các em học sinh hãy tìm hiểu về phân số thập phân nhé", NULL, 3);
}

static void test_caps(void)
{
	char buf[4096];
	size_t len = 0;
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "w%d ", i);
	kho_query *q = NULL;
	CHECK_OK(kho_index_query_parse(&q, buf, false));
	size_t terms = 0, bigrams = 0;
	for (size_t i = 0; q && i < q->n_nodes; i++) {
		if (q->nodes[i].kind == KHO_QUERY_BIGRAM)
			bigrams++;
		else
			terms++;
	}
	CHECK(q && q->truncated);
	CHECK(terms == KHO_QUERY_MAX_TERMS);
	CHECK(bigrams <= KHO_QUERY_MAX_TERMS);
	kho_index_query_free(q);

	/* A phrase keeps at most KHO_QUERY_MAX_PHRASE tokens. */
	len = 0;
	buf[len++] = '"';
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "p%d ", i);
	buf[len] = '\0';
	CHECK_OK(kho_index_query_parse(&q, buf, false));
	CHECK(q && q->n_nodes == 1 && q->nodes[0].n_tokens == KHO_QUERY_MAX_PHRASE);
	kho_index_query_free(q);
}

static void test_hostile(void)
{
	static const char *const inputs[] = {
		"\"", "\"\"", "\"\"\"", "\"unbalanced", "unbalanced\"", "a\"b\"c\"d",
		"-", "--", "- -", "-\"\"", "-\"x", "a -", "OR", "OR OR", "AND", "NOT", "a OR",
		"NOT a", "a NOT", "a AND OR NOT b", "NEAR(", "NEAR(a b", "NEAR(a b, 5)", "NEAR/3",
		"*", "a*", "*a", "^", "^a", ":", "a:", ":b", "title:", "title:x", "body:a OR",
		"(", ")", "()", "(a", "a)", "((((((((", "{a b}", "{", "}", "+", "+a", "a + b",
		"'; DROP TABLE t; --", "\" OR 1=1 --", "x' OR '1'='1", "'); DELETE FROM t;--",
		"\\", "\\\"", "%", "_", "?", "?1", ":name", "@x", "$x", "#", "`", "~", ",", ";",
		"\x01\x02\x03", "\x02mark\x03", "\xFF\xFE", "\xC3", "\xE1\x80", "đư\xE1\xBB",
		"\xED\xA0\x80", "😀", "\"😀\"", "-😀", "ĐƯỜNG -", "\"Đường tròn", "a\tb\nc",
		"“", "”", "“”", "\xE2\x80", "\xE2", "-“", "a“b”c\"d",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
		CHECK_EXPR(inputs[i], NULL, -1);
	CHECK_EXPR("OR OR", "(\"or\" OR \"or or\")", 0);
	CHECK_EXPR("NEAR(", "(\"near\")", 0);
	CHECK_EXPR("'; DROP TABLE t; --", "(\"drop\" OR \"table\" OR \"drop table\" OR \"t\" OR \"table t\")", 0);

	/* 20 KB of words, quotes and operators. */
	static const char *const pieces[] = {
		"\"", "-", "*", "^", ":", "(", ")", "OR ", "AND ", "NOT ", "NEAR(", " ", "học ",
		"\xFF", "\xC3", "đường", "\\", "'", ";", ",", "a", "-\"", "\"-", "  ", "toán",
	};
	size_t n_pieces = sizeof pieces / sizeof pieces[0];
	uint32_t state = 777;
	char *big = malloc(20 * 1024 + 32);
	for (int round = 0; round < 300; round++) {
		size_t len = 0;
		size_t target = round == 0 ? 20 * 1024 : (size_t)(state >> 8) % 2000 + 1;
		while (len < target) {
			state = state * 1664525u + 1013904223u;
			const char *p = pieces[(state >> 8) % n_pieces];
			size_t pl = strlen(p);
			memcpy(big + len, p, pl);
			len += pl;
		}
		big[len] = '\0';
		check_expr(big, NULL, -1, __LINE__);
	}
	/* Random bytes. */
	for (int round = 0; round < 300; round++) {
		size_t len = round == 0 ? 20 * 1024 : (size_t)(state >> 8) % 300;
		for (size_t i = 0; i < len; i++) {
			state = state * 1664525u + 1013904223u;
			big[i] = (char)(1 + (state >> 8) % 255);
		}
		big[len] = '\0';
		check_expr(big, NULL, -1, __LINE__);
	}
	free(big);
	/* NULL text is an empty query. */
	char *expr = NULL;
	CHECK_OK(kho_index_query_build(&expr, NULL, false));
	CHECK_STR(expr, "");
	free(expr);
}

/* While typing, the last word (no space after it) also matches as a prefix,
 * and after another word as the prefix of a two-word phrase. */
static void test_typing(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "duong", "(\"duong\" OR \"duong\"*)" },
		{ "phan s", "(\"phan\" OR \"s\" OR \"phan s\" OR \"phan s\"*)" },
		{ "Phân Số", "(\"phan\" OR \"so\" OR \"phan so\" OR "
			"\"phan so\"* OR \"so\"*)" },
		{ "duong ", "(\"duong\")" },
		{ "a", "(\"a\")" },
		{ "toan -hinh", "(\"toan\") NOT (\"hinh\")" },
		{ "\"duong tron\"", "(\"duong tron\")" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *expr = NULL;
		CHECK_OK(kho_index_query_build(&expr, cases[i].in, true));
		if (expr && strcmp(expr, cases[i].out)) {
			fprintf(stderr, "typing %s gave %s, expected %s\n", cases[i].in, expr, cases[i].out);
			kho_test_failures++;
		}
		free(expr);
	}
}

int main(void)
{
	test_typing();
	open_db();
	test_tree();
	test_expressions();
	test_caps();
	test_hostile();
	sqlite3_finalize(match_stmt);
	sqlite3_close(db);
	return kho_test_done();
}
