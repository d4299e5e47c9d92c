/*
 * intent.c — the subject and grade a query speaks of. Teachers type "toán 8
 * phương trình", "lich su lop 6 bach dang", "đạo đức 3 an toàn giao thông":
 * the subject and the grade are not words to find in a lesson but what the
 * lesson should be for. They are read here from the folded tokens and give
 * lessons with that subject or grade a bonus in ranking (search.c); they
 * never filter, since a guess can be wrong.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

/* Subject names as folded tokens, longest first where one begins another,
 * with the subject codes of content-packs/FORMAT.md they stand for. */
static const struct {
	const char *words[5];
	const char *codes[KHO_INTENT_MAX_SUBJECTS];
} subjects[] = {
	{ { "khoa", "hoc", "tu", "nhien" }, { "khtn" } },
	{ { "lich", "su", "va", "dia", "li" }, { "lich-su-dia-li" } },
	{ { "lich", "su", "dia", "li" }, { "lich-su-dia-li" } },
	{ { "giao", "duc", "cong", "dan" }, { "gdcd" } },
	{ { "tieng", "viet" }, { "tieng-viet" } },
	{ { "tieng", "anh" }, { "tieng-anh", "english" } },
	{ { "ngu", "van" }, { "ngu-van" } },
	{ { "khoa", "hoc" }, { "khoa-hoc", "khtn", "science" } },
	{ { "lich", "su" }, { "lich-su", "lich-su-dia-li" } },
	{ { "dia", "li" }, { "dia-li", "lich-su-dia-li" } },
	{ { "dia", "ly" }, { "dia-li", "lich-su-dia-li" } },
	{ { "tin", "hoc" }, { "tin-hoc" } },
	{ { "dao", "duc" }, { "dao-duc" } },
	{ { "vat", "li" }, { "vat-li", "khtn" } },
	{ { "vat", "ly" }, { "vat-li", "khtn" } },
	{ { "hoa", "hoc" }, { "hoa-hoc", "khtn" } },
	{ { "sinh", "hoc" }, { "sinh-hoc", "khtn" } },
	{ { "cong", "nghe" }, { "cong-nghe" } },
	{ { "toan" }, { "toan", "mathematics" } },
	{ { "khtn" }, { "khtn" } },
	{ { "gdcd" }, { "gdcd" } },
	{ { "science" }, { "science", "khoa-hoc", "khtn" } },
	{ { "maths" }, { "mathematics", "toan" } },
	{ { "mathematics" }, { "mathematics", "toan" } },
};

typedef struct tokens {
	char items[KHO_QUERY_MAX_TERMS * 2][32];
	size_t n;
} tokens;

static int collect(void *payload, int flags, const char *tok, int len, int start, int end)
{
	(void)start;
	(void)end;
	tokens *t = payload;
	if ((flags & KHO_TOKEN_COLOCATED) || len <= 0 || len >= 32)
		return 0;
	if (t->n == sizeof t->items / sizeof t->items[0])
		return 1;
	memcpy(t->items[t->n], tok, (size_t)len);
	t->items[t->n][len] = '\0';
	t->n++;
	return 0;
}

/* The grade that token `i` names (1–12), or 0. */
static int grade_at(const tokens *t, size_t i)
{
	if (i >= t->n)
		return 0;
	char *end = NULL;
	long g = strtol(t->items[i], &end, 10);
	return *end == '\0' && g >= 1 && g <= 12 ? (int)g : 0;
}

void kho_index_query_intent(kho_intent *out, const char *text)
{
	memset(out, 0, sizeof *out);
	tokens t = { .n = 0 };
	if (!text)
		return;
	kho_index_tokenize(text, strnlen(text, KHO_QUERY_MAX_BYTES), KHO_TOKENIZE_QUERY, collect, &t);
	for (size_t i = 0; i < t.n; i++) {
		/* "lớp 5", "lop5" is one token and not read */
		if ((!strcmp(t.items[i], "lop") || !strcmp(t.items[i], "grade")) && grade_at(&t, i + 1)) {
			out->grade = grade_at(&t, i + 1);
			continue;
		}
		if (out->n_subjects)
			continue;
		for (size_t s = 0; s < sizeof subjects / sizeof subjects[0]; s++) {
			size_t n = 0;
			while (n < 5 && subjects[s].words[n] && i + n < t.n
				&& !strcmp(subjects[s].words[n], t.items[i + n]))
				n++;
			if (n == 0 || (n < 5 && subjects[s].words[n]))
				continue;
			for (size_t c = 0; c < KHO_INTENT_MAX_SUBJECTS && subjects[s].codes[c]; c++)
				out->subjects[out->n_subjects++] = subjects[s].codes[c];
			/* "toán 8": a number right after the subject is its grade */
			if (!out->grade && grade_at(&t, i + n))
				out->grade = grade_at(&t, i + n);
			break;
		}
	}
}
