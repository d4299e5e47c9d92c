/*
 * tokenizer.c — the "kho" FTS5 tokenizer: splits text into runs of letters,
 * digits and combining marks and folds each run so that Vietnamese typed
 * with or without accents finds the same words. The folded form (case-folded,
 * every mark removed, đ → d) is the token that queries match; the exact form
 * (lower case, NFC, tone placement of oa/oe/uy made uniform) is added as a
 * colocated token when it differs, for ranking exact spellings first.
 * INDEX.md has the rules with examples.
 *
 * Speed matters because every lesson of every pack goes through here: ASCII
 * is handled byte by byte without utf8proc, and the Latin letters Vietnamese
 * uses come from tables computed once; only other scripts and decomposed
 * (NFD) input take the general utf8proc path. Tokens are built in stack
 * buffers; nothing is allocated per token unless a token needs more room than
 * those buffers, which the length cap makes rare.
 */
#include "indexer-private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------------- character tables */

enum cp_kind {
	CP_SEP = 0,    /* ends a token */
	CP_WORD = 1,   /* letter or digit with a table entry (fast path) */
	CP_SLOW = 2,   /* letter, digit or mark that needs the utf8proc path */
	CP_IGNORE = 3, /* soft hyphen: inside a word, neither splits nor shows */
};

/* The Vietnamese tones as combining marks; index = tone number - 1. */
static const int32_t tone_marks[5] = { 0x0300, 0x0301, 0x0309, 0x0303, 0x0323 };

typedef struct cp_info {
	uint8_t kind;  /* enum cp_kind */
	uint8_t flen;  /* bytes of fold */
	uint8_t elen;  /* bytes of exact */
	uint8_t tone;  /* 1..5 when the letter is `base` plus that tone alone */
	char base;     /* the plain ASCII letter under it (with at most a tone), or 0 */
	char fold[5];  /* folded form, UTF-8 */
	char exact[5]; /* lower-case NFC form, UTF-8 */
	char pad;
} cp_info;

/* Latin-1 Supplement to Latin Extended-B, and Latin Extended Additional
 * (where most Vietnamese letters with tones live). */
#define LOW_FIRST 0x80
#define LOW_END 0x250
#define HIGH_FIRST 0x1E00
#define HIGH_END 0x1F00

static cp_info low_table[LOW_END - LOW_FIRST];
static cp_info high_table[HIGH_END - HIGH_FIRST];

/* o and u carrying each tone, NFC UTF-8, for moving a tone in the fast path. */
static char toned_o[5][4], toned_u[5][4];
static uint8_t toned_o_len[5], toned_u_len[5];

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static bool is_tone_mark(int32_t cp)
{
	for (int i = 0; i < 5; i++)
		if (tone_marks[i] == cp)
			return true;
	return false;
}

static int tone_of(int32_t cp)
{
	for (int i = 0; i < 5; i++)
		if (tone_marks[i] == cp)
			return i + 1;
	return 0;
}

static bool is_word_category(utf8proc_category_t c)
{
	switch (c) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

static bool is_mark_category(utf8proc_category_t c)
{
	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

/* Letters without a decomposition that still fold to an ASCII letter: đ, and
 * ð, whose capital Ð looks exactly like Đ and turns up in converted
 * Vietnamese text. (Capitals are case-folded before this.) */
static inline int32_t fold_letter(int32_t cp)
{
	return cp == 0x111 || cp == 0xF0 ? 'd' : cp;
}

/* Encodes a code point; returns its length (1..4). */
static size_t put_utf8(char *dst, int32_t cp)
{
	return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)dst);
}

static void fill_info(cp_info *info, int32_t cp)
{
	memset(info, 0, sizeof *info);
	utf8proc_category_t cat = utf8proc_category(cp);
	if (cp == 0xAD) {
		info->kind = CP_IGNORE;
		return;
	}
	if (!is_word_category(cat)) {
		info->kind = CP_SEP;
		return;
	}
	info->kind = CP_SLOW;
	if (is_mark_category(cat))
		return;

	int32_t d[8];
	int last = 0;
	utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 8,
		UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE, &last);
	if (n <= 0 || n > 8)
		return;

	char fold[16], exact[16];
	size_t flen = 0, elen = 0;
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		if (is_mark_category(utf8proc_category(d[i])))
			continue;
		flen += put_utf8(fold + flen, fold_letter(d[i]));
	}
	int32_t c[8];
	memcpy(c, d, sizeof c);
	utf8proc_ssize_t m = utf8proc_normalize_utf32(c, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
	if (m <= 0)
		return;
	for (utf8proc_ssize_t i = 0; i < m; i++)
		elen += put_utf8(exact + elen, c[i]);
	if (flen == 0 || flen > sizeof info->fold || elen > sizeof info->exact)
		return;

	info->kind = CP_WORD;
	info->flen = (uint8_t)flen;
	info->elen = (uint8_t)elen;
	memcpy(info->fold, fold, flen);
	memcpy(info->exact, exact, elen);
	if (d[0] >= 'a' && d[0] <= 'z') {
		if (n == 1) {
			info->base = (char)d[0];
		} else if (n == 2 && is_tone_mark(d[1])) {
			info->base = (char)d[0];
			info->tone = (uint8_t)tone_of(d[1]);
		}
	}
}

static void build_tables(void)
{
	for (int32_t cp = LOW_FIRST; cp < LOW_END; cp++)
		fill_info(&low_table[cp - LOW_FIRST], cp);
	for (int32_t cp = HIGH_FIRST; cp < HIGH_END; cp++)
		fill_info(&high_table[cp - HIGH_FIRST], cp);
	for (int t = 0; t < 5; t++) {
		int32_t o[2] = { 'o', tone_marks[t] }, u[2] = { 'u', tone_marks[t] };
		utf8proc_normalize_utf32(o, 2, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
		utf8proc_normalize_utf32(u, 2, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
		toned_o_len[t] = (uint8_t)put_utf8(toned_o[t], o[0]);
		toned_u_len[t] = (uint8_t)put_utf8(toned_u[t], u[0]);
	}
}

/* ---------------------------------------------------------------- scanning */

/* ASCII: 0 separator, 1 lower-case letter or digit, 2 upper-case letter. */
static const uint8_t ascii_class[128] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2, ['G'] = 2,
	['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2, ['M'] = 2, ['N'] = 2,
	['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2, ['U'] = 2,
	['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2,
};

/* The kind of a non-ASCII code point, and its table entry when it has one. */
static inline int classify(int32_t cp, const cp_info **info)
{
	*info = NULL;
	if (cp < LOW_END) {
		*info = &low_table[cp - LOW_FIRST];
		return (*info)->kind;
	}
	if (cp >= HIGH_FIRST && cp < HIGH_END) {
		*info = &high_table[cp - HIGH_FIRST];
		return (*info)->kind;
	}
	return is_word_category(utf8proc_category(cp)) ? CP_SLOW : CP_SEP;
}

/* ------------------------------------------------------ the general path */

/* True for the pairs whose tone sits on either vowel depending on the
 * spelling habit, when they end an open syllable: oa, oe, uy (not after q). */
static bool tone_pair(int32_t prev, int32_t v1, int32_t v2)
{
	if (v1 == 'o')
		return v2 == 'a' || v2 == 'e';
	return v1 == 'u' && v2 == 'y' && prev != 'q';
}

/* In a case-folded NFD token, puts a circumflex or breve before a tone mark
 * of the same combining class (Unicode keeps their typed order, so "e + acute
 * + circumflex" would not compose to ế), and moves a tone from the second
 * vowel of a final oa/oe/uy to the first, the placement the exact form uses. */
static void normalise_tone_nfd(int32_t *cps, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if ((cps[i] == 0x0302 || cps[i] == 0x0306) && cps[i - 1] != 0x0323 &&
		    is_tone_mark(cps[i - 1])) {
			int32_t t = cps[i - 1];
			cps[i - 1] = cps[i];
			cps[i] = t;
		}
	}

	/* The token must end with: [prev] v1 v2 tone, v1 and v2 bare. */
	if (n < 3 || !is_tone_mark(cps[n - 1]))
		return;
	int32_t v2 = cps[n - 2], v1 = cps[n - 3];
	int32_t prev = n >= 4 ? cps[n - 4] : 0;
	if (!tone_pair(prev, v1, v2))
		return;
	cps[n - 2] = cps[n - 1];
	cps[n - 1] = v2;
}

/* Folded and exact forms of a token with characters outside the tables or in
 * decomposed form. `need_exact` false skips the exact form. Returns 0 or
 * SQLITE_NOMEM; *flen 0 when the token folds to nothing. */
static int fold_general(const char *tok, size_t len, bool need_exact,
	char **fold, size_t *flen, char **exact, size_t *elen,
	char *fold_buf, size_t fold_cap, char *exact_buf, size_t exact_cap, char **heap)
{
	int32_t stack_cps[512];
	int32_t *cps = stack_cps;
	int32_t *heap_cps = NULL;
	const utf8proc_option_t opts = UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE |
		UTF8PROC_STABLE | UTF8PROC_IGNORE;
	utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)tok,
		(utf8proc_ssize_t)len, cps, 512, opts);
	if (n > 512) {
		heap_cps = malloc((size_t)n * sizeof *heap_cps);
		if (!heap_cps)
			return SQLITE_NOMEM;
		cps = heap_cps;
		n = utf8proc_decompose((const utf8proc_uint8_t *)tok, (utf8proc_ssize_t)len,
			cps, n, opts);
	}
	*flen = *elen = 0;
	if (n <= 0) {
		free(heap_cps);
		return SQLITE_OK;
	}

	size_t need = (size_t)n * 4;
	*fold = fold_buf;
	*exact = exact_buf;
	if (need > fold_cap || need > exact_cap) {
		*heap = malloc(2 * need);
		if (!*heap) {
			free(heap_cps);
			return SQLITE_NOMEM;
		}
		*fold = *heap;
		*exact = *heap + need;
	}

	size_t f = 0;
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		int32_t cp = cps[i];
		if (cp >= 0x300 && is_mark_category(utf8proc_category(cp)))
			continue;
		f += put_utf8(*fold + f, fold_letter(cp));
	}
	*flen = f;

	if (need_exact && f > 0) {
		normalise_tone_nfd(cps, (size_t)n);
		utf8proc_ssize_t m = utf8proc_normalize_utf32(cps, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
		size_t e = 0;
		for (utf8proc_ssize_t i = 0; i < m; i++)
			e += put_utf8(*exact + e, cps[i]);
		*elen = e;
	}
	free(heap_cps);
	return SQLITE_OK;
}

/* ------------------------------------------------------------ the scanner */

/* One letter of the token being built, remembered for the tone rule. */
typedef struct recent {
	char base;      /* plain ASCII letter under it, or 0 */
	uint8_t tone;   /* its tone, 0 for none */
	uint16_t at;    /* where its exact form starts in the exact buffer */
} recent;

#define TOKEN_BUF (KHO_TOKEN_MAX_INPUT * 5 + 16)

/* In the fast path's exact form, moves a final oa/oe/uy tone to the first
 * vowel. r[2] is the last letter, r[1] the one before, r[0] before that. */
static void normalise_tone_fast(char *exact, size_t *elen, const recent r[3])
{
	if (r[2].tone == 0 || r[1].tone != 0 || !r[1].base)
		return;
	if (!tone_pair(r[0].base, r[1].base, r[2].base))
		return;
	const char *v1 = r[1].base == 'o' ? toned_o[r[2].tone - 1] : toned_u[r[2].tone - 1];
	size_t v1len = r[1].base == 'o' ? toned_o_len[r[2].tone - 1] : toned_u_len[r[2].tone - 1];
	size_t at = r[1].at;
	memcpy(exact + at, v1, v1len);
	exact[at + v1len] = r[2].base;
	*elen = at + v1len + 1;
}

int kho_index_tokenize(const char *text, size_t len, kho_tokenize_mode mode,
	kho_token_cb cb, void *payload)
{
	pthread_once(&tables_once, build_tables);
	if (!text || len == 0)
		return SQLITE_OK;

	const bool need_exact = mode == KHO_TOKENIZE_DOCUMENT || mode == KHO_TOKENIZE_EXACT;
	const bool only_exact = mode == KHO_TOKENIZE_EXACT;
	const unsigned char *const begin = (const unsigned char *)text;
	const unsigned char *const end = begin + len;
	const unsigned char *p = begin;
	char fold[TOKEN_BUF], exact[TOKEN_BUF];

	while (p < end) {
		/* Skip separators. */
		const cp_info *info = NULL;
		int32_t cp = 0;
		size_t clen = 1;
		int kind = CP_SEP;
		while (p < end) {
			if (*p < 0x80) {
				if (ascii_class[*p]) {
					kind = CP_WORD;
					cp = *p;
					break;
				}
				p++;
				continue;
			}
			clen = index_utf8_decode(p, end, &cp);
			if (cp >= 0) {
				kind = classify(cp, &info);
				if (kind == CP_WORD || kind == CP_SLOW)
					break;
			}
			p += clen;
		}
		if (p >= end)
			break;

		/* Build one token from p. */
		const unsigned char *start = p;
		const unsigned char *tok_end = p;
		size_t flen = 0, elen = 0;
		bool ascii_only = true, slow = false;
		recent r[3] = { { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } };
		/* a token reads at most KHO_TOKEN_MAX_INPUT bytes */
		const unsigned char *limit = (size_t)(end - start) > KHO_TOKEN_MAX_INPUT ?
			start + KHO_TOKEN_MAX_INPUT : end;
		while (p < limit) {
			if (*p < 0x80) {
				uint8_t c = ascii_class[*p];
				if (!c)
					break;
				char lower = (char)(c == 2 ? *p + 32 : *p);
				if (!slow) {
					fold[flen++] = lower;
					if (!ascii_only && need_exact) {
						r[0] = r[1]; r[1] = r[2];
						r[2] = (recent){ lower, 0, (uint16_t)elen };
						exact[elen++] = lower;
					}
				}
				p++;
				tok_end = p;
				continue;
			}
			clen = index_utf8_decode(p, end, &cp);
			if (cp < 0)
				break;
			kind = classify(cp, &info);
			if (kind == CP_SEP)
				break;
			if (p + clen > limit)
				break;
			if (kind == CP_SLOW) {
				slow = true;
			} else if (kind == CP_WORD && !slow) {
				if (ascii_only && need_exact) {
					/* Until now exact == fold; catch up, remembering
					 * the last letters for the tone rule. */
					memcpy(exact, fold, flen);
					elen = flen;
					for (size_t k = flen > 3 ? flen - 3 : 0; k < flen; k++) {
						r[0] = r[1]; r[1] = r[2];
						r[2] = (recent){ fold[k], 0, (uint16_t)k };
					}
				}
				ascii_only = false;
				memcpy(fold + flen, info->fold, sizeof info->fold);
				flen += info->flen;
				if (need_exact) {
					r[0] = r[1]; r[1] = r[2];
					r[2] = (recent){ info->base, info->tone, (uint16_t)elen };
					memcpy(exact + elen, info->exact, sizeof info->exact);
					elen += info->elen;
				}
			}
			p += clen;
			if (kind != CP_IGNORE)
				tok_end = p;
		}
		if (tok_end == start) {
			/* Only the cap stopped us before the first character:
			 * impossible for caps above 4 bytes, but never loop. */
			p = start + 1;
			continue;
		}
		p = tok_end > p ? tok_end : p;

		int s = (int)(start - begin), e = (int)(tok_end - begin);
		int rc;
		if (!slow) {
			bool differs = false;
			if (need_exact && !ascii_only) {
				normalise_tone_fast(exact, &elen, r);
				differs = elen != flen || memcmp(exact, fold, flen) != 0;
			}
			if (only_exact) {
				rc = differs ? cb(payload, 0, exact, (int)elen, s, e)
					: cb(payload, 0, fold, (int)flen, s, e);
				if (rc)
					return rc;
				continue;
			}
			rc = cb(payload, 0, fold, (int)flen, s, e);
			if (rc == SQLITE_OK && differs)
				rc = cb(payload, KHO_TOKEN_COLOCATED, exact, (int)elen, s, e);
			if (rc)
				return rc;
			continue;
		}

		char *f = NULL, *x = NULL, *heap = NULL;
		size_t fl = 0, xl = 0;
		rc = fold_general((const char *)start, (size_t)(tok_end - start), need_exact,
			&f, &fl, &x, &xl, fold, sizeof fold, exact, sizeof exact, &heap);
		if (rc == SQLITE_OK && fl > 0) {
			bool differs = need_exact && xl > 0 && (xl != fl || memcmp(x, f, fl) != 0);
			if (only_exact)
				rc = differs ? cb(payload, 0, x, (int)xl, s, e) : cb(payload, 0, f, (int)fl, s, e);
			else
				rc = cb(payload, 0, f, (int)fl, s, e);
			if (rc == SQLITE_OK && differs && !only_exact)
				rc = cb(payload, KHO_TOKEN_COLOCATED, x, (int)xl, s, e);
		}
		free(heap);
		if (rc)
			return rc;
	}
	return SQLITE_OK;
}

/* ------------------------------------------------------ the FTS5 adapter */

/* The tokenizer keeps no state: every instance is this one object. */
static char the_instance;

static int tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)ctx;
	(void)argv;
	if (argc != 0)
		return SQLITE_ERROR; /* the kho tokenizer takes no options */
	*out = (Fts5Tokenizer *)(void *)&the_instance;
	return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *tok)
{
	(void)tok;
}

static int tok_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
	int (*token)(void *ctx, int flags, const char *tok, int len, int start, int end))
{
	(void)tok;
	if (len <= 0)
		return SQLITE_OK;
	/* FTS5 indexes and looks up folded forms only: exact forms are scored
	 * from the stored text (rescore.c) and listed in tier.c. */
	(void)flags;
	return kho_index_tokenize(text, (size_t)len, KHO_TOKENIZE_QUERY, token, ctx);
}

static fts5_tokenizer kho_tokenizer = {
	.xCreate = tok_create,
	.xDelete = tok_delete,
	.xTokenize = tok_tokenize,
};

fts5_api *index_fts5_api(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", NULL);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? api : NULL;
}

int kho_index_register_tokenizer(sqlite3 *db)
{
	pthread_once(&tables_once, build_tables);
	fts5_api *api = index_fts5_api(db);
	if (!api)
		return SQLITE_ERROR;
	return api->xCreateTokenizer(api, KHO_TOKENIZER_NAME, NULL, &kho_tokenizer, NULL);
}
