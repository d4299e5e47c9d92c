/* test-spell.c — reading Telex and VNI keystrokes typed without an input
 * method, and adding the readings the index knows to a query. */
#include "kho-test.h"
#include "indexer-private.h"

static void check_fold(bool (*fold)(char *, size_t, const char *), const char *in,
	const char *want, int line)
{
	char out[64];
	bool changed = fold(out, sizeof out, in);
	if (want ? !changed || strcmp(out, want) : changed) {
		fprintf(stderr, "%s:%d: %s read as %s, expected %s\n", __FILE__, line, in,
			changed ? out : "(unchanged)", want ? want : "(unchanged)");
		kho_test_failures++;
	}
}
#define TELEX(in, want) check_fold(kho_index_telex_fold, in, want, __LINE__)
#define VNI(in, want) check_fold(kho_index_vni_fold, in, want, __LINE__)

/* The vocabulary of a pretend index. */
static bool known(void *payload, const char *token)
{
	(void)payload;
	static const char *const words[] = { "tieng", "viet", "duong", "hoc", "sinh", "co2" };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(words[i], token))
			return true;
	return false;
}

/* A pretend spelling corrector: the known word at distance 1. */
static bool closest(void *payload, const char *token, const char *before, const char *after,
	char *out, size_t size)
{
	(void)payload;
	(void)before;
	(void)after;
	static const char *const words[] = { "tieng", "viet", "duong", "hoc", "sinh" };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (kho_index_edit_distance(token, words[i], 1) == 1 && strlen(words[i]) < size) {
			strcpy(out, words[i]);
			return true;
		}
	return false;
}

static void check_expand(const char *typed, const char *want, int line)
{
	kho_query *q = NULL;
	char *expr = NULL;
	kho_vocabulary vocab = { NULL, known, NULL };
	char *reading = NULL;
	CHECK_OK(kho_index_query_parse(&q, typed, false));
	if (q) {
		CHECK_OK(kho_index_query_expand(q, &vocab, &reading));
		CHECK_OK(kho_index_query_expression(&expr, q));
	}
	free(reading);
	if (!expr || strcmp(expr, want)) {
		fprintf(stderr, "%s:%d: %s gave %s\n  expected %s\n", __FILE__, line, typed,
			expr ? expr : "(null)", want);
		kho_test_failures++;
	}
	free(expr);
	kho_index_query_free(q);
}
#define EXPAND(typed, want) check_expand(typed, want, __LINE__)

int main(void)
{
	TELEX("tieengs", "tieng");
	TELEX("vieejt", "viet");
	TELEX("ddaats", "dat");
	TELEX("nguwowif", "nguoi");
	TELEX("truwowngf", "truong");
	TELEX("hocj", "hoc");
	TELEX("phaan", "phan");
	TELEX("w", "u");
	TELEX("sinh", NULL);      /* s before the vowel is a letter */
	TELEX("xanh", NULL);
	TELEX("co2", NULL);       /* digits: not Telex */
	TELEX("", NULL);
	TELEX("Đường", NULL);     /* not ASCII */

	VNI("tie61ng", "tieng");
	VNI("vie65t", "viet");
	VNI("d9u7o7ng2", "duong");
	VNI("co2", "co");         /* a reading; the index decides whether it is used */
	VNI("2024", NULL);        /* a number */
	VNI("hoc", NULL);

	/* unknown words get their known readings, with their bigram */
	EXPAND("tieengs vieejt",
		"(\"tieengs\" OR \"vieejt\" OR \"tieengs vieejt\" OR \"tieng\" OR \"viet\" OR \"tieng viet\")");
	EXPAND("tie61ng vie65t",
		"(\"tie61ng\" OR \"vie65t\" OR \"tie61ng vie65t\" OR \"tieng\" OR \"viet\" OR \"tieng viet\")");
	/* a known word, or a reading the index does not know, adds nothing */
	EXPAND("hoc sinh", "(\"hoc\" OR \"sinh\" OR \"hoc sinh\")");
	EXPAND("co2", "(\"co2\")");
	EXPAND("xyzzyss", "(\"xyzzyss\")");
	/* mixed: only the unknown word is read */
	EXPAND("hocj sinh", "(\"hocj\" OR \"sinh\" OR \"hocj sinh\" OR \"hoc\" OR \"hoc sinh\")");
	/* a misspelt word is only suggested; a Telex one is searched and said */
	{
		kho_vocabulary vocab = { NULL, known, closest };
		kho_query *q = NULL;
		char *expr = NULL, *suggestion = NULL;
		CHECK_OK(kho_index_query_parse(&q, "tieengs duogn", false));
		if (q) {
			CHECK_OK(kho_index_query_expand(q, &vocab, &suggestion));
			CHECK_OK(kho_index_query_expression(&expr, q));
		}
		CHECK_STR(suggestion, "tieng duong");
		CHECK_STR(expr, "(\"tieengs\" OR \"duogn\" OR \"tieengs duogn\" OR \"tieng\" OR \"tieng duogn\")");
		free(expr);
		free(suggestion);
		kho_index_query_free(q);
	}

	/* edit distance, with swaps */
	CHECK(kho_index_edit_distance("duong", "duong", 2) == 0);
	CHECK(kho_index_edit_distance("duogn", "duong", 2) == 1);
	CHECK(kho_index_edit_distance("dung", "duong", 2) == 1);
	CHECK(kho_index_edit_distance("dxxng", "duong", 2) == 2);
	CHECK(kho_index_edit_distance("abcdefgh", "duong", 2) == 3);
	CHECK(kho_index_edit_distance("", "ab", 2) == 2);
	return kho_test_done();
}
