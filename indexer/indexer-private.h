/*
 * indexer-private.h — what the indexer's own files share and what its tests
 * may call: the Vietnamese tokenizer as a plain function and as an FTS5
 * tokenizer, the query parser, and the index's internal handle. Nothing
 * outside indexer/ and tests/indexer/ includes this header.
 */
#ifndef KHO_INDEXER_PRIVATE_H
#define KHO_INDEXER_PRIVATE_H

#include "kho_index.h"

#include <sqlite3.h>
#include <stdint.h>

/* Bumped whenever the tokenizer's output or the index tables change; an index
 * of another format is dropped and rebuilt on open (see INDEX.md). */
#define KHO_INDEX_FORMAT 4

/* The lesson columns lesson_fts indexes, in its order, as `lessons` names
 * them (INDEX_L_COLUMNS: with the alias `l`). The body comes first: FTS5
 * writes a column marker before a word's positions in any other column, and
 * most words of a lesson occur only in its body (INDEX.md). */
#define INDEX_COLUMNS "body, title, keywords, unit_title, summary"
#define INDEX_L_COLUMNS "l.body, l.title, l.keywords, l.unit_title, l.summary"

/* ----------------------------------------------------------------- UTF-8 */

/* Decodes one character at s (s < end). Returns its length; *cp is -1 for an
 * invalid sequence, whose length is then 1. */
static inline size_t index_utf8_decode(const unsigned char *s, const unsigned char *end, int32_t *cp)
{
	unsigned c = s[0];
	size_t avail = (size_t)(end - s);
	if (c < 0xC2 || c > 0xF4)
		goto bad;
	if (c < 0xE0) {
		if (avail < 2 || (s[1] & 0xC0) != 0x80)
			goto bad;
		*cp = (int32_t)(((c & 0x1F) << 6) | (s[1] & 0x3F));
		return 2;
	}
	if (c < 0xF0) {
		if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			goto bad;
		int32_t v = (int32_t)(((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			goto bad;
		*cp = v;
		return 3;
	}
	if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
		goto bad;
	int32_t v = (int32_t)(((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) |
		((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu));
	if (v < 0x10000 || v > 0x10FFFF)
		goto bad;
	*cp = v;
	return 4;
bad:
	*cp = -1;
	return 1;
}

/* ------------------------------------------------------------ tokenizer.c */

/* The tokenizer's name, as written in tokenize='…'. */
#define KHO_TOKENIZER_NAME "kho"

/* Longest token, in bytes of input text; longer runs are cut into pieces. */
#define KHO_TOKEN_MAX_INPUT 256

/* What the tokens are for; the same values as FTS5_TOKENIZE_*. */
typedef enum kho_tokenize_mode {
	KHO_TOKENIZE_DOCUMENT = 0x0004, /* folded form + colocated exact form (tier.c,
	                                 * rescore.c; FTS5 gets folded forms only) */
	KHO_TOKENIZE_QUERY = 0x0001,    /* folded form only */
	KHO_TOKENIZE_AUX = 0x0008,      /* folded form only (positions for snippets) */
	KHO_TOKENIZE_EXACT = 0x0100,    /* exact form only (the folded one when equal) */
} kho_tokenize_mode;

/* Flag passed to the callback with a colocated token (FTS5_TOKEN_COLOCATED). */
#define KHO_TOKEN_COLOCATED 0x0001

/* Receives one token: `len` bytes at `token` (not NUL-terminated, valid only
 * during the call), taken from bytes [start, end) of the original text.
 * A non-zero return stops tokenizing and is returned by kho_index_tokenize().
 * The signature is FTS5's xToken, so that the FTS5 wrapper passes it on. */
typedef int (*kho_token_cb)(void *payload, int flags, const char *token, int len,
	int start, int end);

/* Splits `len` bytes of text (any bytes; invalid UTF-8 separates tokens)
 * into tokens: maximal runs of letters, digits and combining marks. Each
 * token is reported in its folded form (case-folded, marks removed, đ → d);
 * in KHO_TOKENIZE_DOCUMENT mode, when the exact form (lower case, NFC, tone
 * placement of oa/oe/uy normalised) differs, it follows as a colocated token.
 * `len` must be below INT_MAX. Returns 0, the callback's first non-zero
 * value, or SQLITE_NOMEM. */
int kho_index_tokenize(const char *text, size_t len, kho_tokenize_mode mode,
	kho_token_cb cb, void *payload);

/* Registers the "kho" tokenizer on `db` through its fts5_api. Returns an
 * SQLite result code (SQLITE_ERROR when the library has no FTS5). */
int kho_index_register_tokenizer(sqlite3 *db);

/* ---------------------------------------------------------------- query.c */

/* One node of a parsed query. The grammar so far: a query is a list of
 * items; an item is a word or a "quoted phrase", either of which a leading
 * '-' turns into an exclusion. While the user is typing, a last word not
 * followed by a space is also read as the start of a word. */
typedef enum kho_query_kind {
	KHO_QUERY_TERM = 1,    /* one word of the query (may fold to several tokens) */
	KHO_QUERY_PHRASE = 2,  /* "…": its tokens must be adjacent and in order */
	KHO_QUERY_BIGRAM = 3,  /* two adjacent words, added so that they score as a phrase */
	KHO_QUERY_PREFIX = 4,  /* the last token is the start of a word (one or two tokens) */
	KHO_QUERY_EXACT = 5,   /* a word or phrase typed with accents, in its exact form */
} kho_query_kind;

typedef struct kho_query_node {
	kho_query_kind kind;
	bool negated;    /* -word or -"phrase": documents matching it are excluded */
	char **tokens;   /* folded tokens, in order */
	size_t n_tokens;
} kho_query_node;

typedef struct kho_query {
	kho_query_node *nodes; /* in the order typed, each bigram after its second word */
	size_t n_nodes;
	bool truncated;        /* terms past KHO_QUERY_MAX_TERMS were dropped */
} kho_query;

/* Most words and phrases taken from one query; the rest is ignored. */
#define KHO_QUERY_MAX_TERMS 32
/* Most tokens kept in one phrase. */
#define KHO_QUERY_MAX_PHRASE 16
/* Shortest last word matched as a prefix on its own (after another word it
 * is matched as a phrase prefix at any length). */
#define KHO_QUERY_MIN_PREFIX 2
/* Bytes of a query looked at; the rest is ignored. */
#define KHO_QUERY_MAX_BYTES 4096

/* Parses what a user typed (any NUL-terminated bytes). Never fails on
 * input: invalid UTF-8, stray quotes and operators are taken as separators.
 * With `typing`, a last word with no space after it is also matched as the
 * start of a word. KHO_ENOMEM only. */
int kho_index_query_parse(kho_query **out, const char *text, bool typing);
void kho_index_query_free(kho_query *query);

/* True when two nodes are the same kind, negation and tokens. */
bool kho_index_query_same_node(const kho_query_node *a, const kho_query_node *b);

/* The FTS5 MATCH expression of a parsed query, malloc'd: every term is a
 * double-quoted string of folded tokens, so that FTS5 cannot fail to parse
 * it; exact-form nodes are left out (FTS5 holds folded forms only; they are
 * scored from the text). "" when the query has nothing to look for (it
 * matches nothing). KHO_ENOMEM only. */
int kho_index_query_expression(char **out, const kho_query *query);

/* One node alone as an FTS5 expression (a phrase, or a prefix). */
int kho_index_query_node_expression(char **out, const kho_query_node *node);

/* Both steps at once. */
int kho_index_query_build(char **out, const char *text, bool typing);

/* ---------------------------------------------------------------- index.c */

typedef struct index_facets index_facets;
typedef struct index_match_cache index_match_cache;

struct kho_index {
	kho_store *store;        /* borrowed; outlives the index */
	sqlite3 *db;             /* the store's connection */
	kho_install_hooks hooks; /* payload = this index */
	sqlite3_stmt *vocab;     /* "is this token in the index?", prepared on first use */
	sqlite3_stmt *generation; /* reads index_meta's generation, prepared on first use */
	index_facets *facets;    /* facets.c's lesson values, owned; NULL until needed */
	index_match_cache *match_cache; /* matches.c's sets of common words, owned */
	sqlite3_stmt *tier;      /* reads one word's row of index_tier, prepared on first use */
	sqlite3_stmt *tier_df;   /* reads one word's df only */
	int64_t tier_min_df;     /* tests: the next full build's min_df instead of the rule */
	size_t facet_bits_max;   /* tests: facets.c's BITS_BYTES instead of the default */
};

/* One integer from `sql` (0 when no row); index_meta's integer values. */
int index_query_int(int64_t *out, kho_index *index, const char *sql);
int index_meta_get(int64_t *out, kho_index *index, const char *key);
int index_meta_set(kho_index *index, const char *key, int64_t value);

/* A number that changes whenever the indexed lessons change (any install,
 * removal or rebuild), so that what is kept in memory about them can tell
 * when to read them again. */
int index_generation(int64_t *out, kho_index *index);

/* ---------------------------------------------------------------- rank.c */

#define INDEX_RANK_COLUMNS 5          /* those of INDEX_COLUMNS */
#define INDEX_RANK_MAX_PHRASES 128    /* phrases of one expression kho_rank() scores */
#define INDEX_RANK_POINTER "kho_rank_params"
#define INDEX_RANK_K1 1.2             /* BM25's k1 and b, as FTS5's bm25() */
#define INDEX_RANK_B 0.75

/* The column weights in INDEX_COLUMNS order, as search-rank.c's bm25() call. */
extern const double index_rank_weights[INDEX_RANK_COLUMNS];

/* What kho_rank() and rescore.c are given (sqlite3_bind_pointer, type
 * INDEX_RANK_POINTER, for kho_rank()): the inverse document frequency of each
 * node of the query, positive nodes first, then negated ones, each group in
 * query order. Exact-form nodes count: that is the FTS5 expression's order
 * only for queries without them, which is how kho_rank() is used (a single
 * word or phrase at a time). */
typedef struct index_rank_params {
	int n_phrases;
	double idf[INDEX_RANK_MAX_PHRASES];
	bool mean_length;  /* kho_rank(): every lesson taken as of the mean length,
	                    * so no lesson's length is read (a B-tree lookup each):
	                    * phase 1 of completions, whose candidates phase 2
	                    * scores exactly anyway */
} index_rank_params;

/* BM25's weight of a word counted `freq` times (column-weighted) in a lesson
 * of `length` tokens, when lessons have `avgdl` tokens on average. */
static inline double index_rank_term(double freq, double length, double avgdl)
{
	return freq * (INDEX_RANK_K1 + 1.0) /
		(freq + INDEX_RANK_K1 * (1.0 - INDEX_RANK_B + INDEX_RANK_B * length / avgdl));
}

/* BM25's inverse document frequency, as FTS5's bm25() (never below 1e-6). */
double index_rank_idf(int64_t rows, int64_t hits);

/* Registers kho_rank() and kho_avgdl() on the connection; SQLite result code. */
int index_register_rank(sqlite3 *db);

/* The connection's fts5_api, or NULL without FTS5. */
fts5_api *index_fts5_api(sqlite3 *db);

/* ---------------------------------------------------------------- tier.c */

#define INDEX_TIER_K 512 /* lessons listed for each common word */
#define INDEX_TIER_ENTRY_SIZE 6 /* bytes of one stored entry (tier.c) */

typedef struct index_tier_entry {
	float weight;    /* index_rank_term() in that lesson */
	uint32_t lesson; /* lessons.id */
} index_tier_entry;

/* Reads `n` stored entries (INDEX_TIER_ENTRY_SIZE bytes each) into `out`. */
void index_tier_decode(index_tier_entry *out, const unsigned char *blob, size_t n);

/* Builds index_tier afresh from the indexed lessons. */
int index_tier_build(kho_index *index);

/* Around a switch of pack versions (0: none) in the index: before it, says
 * whether the lists will be built afresh (*rebuild: the lessons changed since
 * the last build reach the number indexed then) and, if not, counts the old
 * version's lessons out; after it, builds or counts the new lessons in. */
int index_tier_before(bool *rebuild, kho_index *index, int64_t old_pv, int64_t new_pv);
int index_tier_after(kho_index *index, int64_t new_pv, bool rebuild);

/* --------------------------------------------------------------- facets.c */

/* Sets result->total and result->facets: every lesson that `query` matches
 * within the grade, subject and pack filters of `q`, and how many of them
 * have each pack, grade and subject; `f` is index_facets_current()'s. */
int index_facets_count(kho_search_result *result, kho_index *index, index_facets *f,
	const kho_query *query, const kho_search_query *q);
void index_facets_free(index_facets *facets);

/* The lesson values of the index as it is now (read again when it changed);
 * owned by the index, valid until its next change. */
int index_facets_current(index_facets **out, kho_index *index);

/* How many lessons are indexed; the largest lesson id; the index generation
 * the values were read at. */
int64_t index_facets_lessons(const index_facets *f);
int64_t index_facets_max_id(const index_facets *f);
int64_t index_facets_generation(const index_facets *f);

/* The number of a (kind, value) pair: -1 when `value` is NULL or empty (no
 * condition), -2 when no indexed lesson has it. */
int index_facets_value(const index_facets *f, const char *kind, const char *value);

/* Whether lesson `id` has value number `v` (always, for -1). */
bool index_facets_has(const index_facets *f, int64_t id, int v);

/* A query's grade, subject and pack filters as value numbers. */
typedef struct index_filter {
	int grade, subject, pack;
	bool none; /* a filter no lesson passes */
} index_filter;

void index_facets_filter(index_filter *out, const index_facets *f, const kho_search_query *q);

/* Whether lesson `id` is indexed and passes the filters. */
bool index_facets_pass(const index_facets *f, const index_filter *filter, int64_t id);

/* --------------------------------------------------------------- intent.c */

#define KHO_INTENT_MAX_SUBJECTS 3

/* The subject and grade a query names ("toán 8", "lịch sử lớp 6"). */
typedef struct kho_intent {
	int grade;                                         /* 1–12, or 0 */
	const char *subjects[KHO_INTENT_MAX_SUBJECTS];      /* subject codes (static) */
	size_t n_subjects;
} kho_intent;

/* Reads the intent of what was typed; never fails. */
void kho_index_query_intent(kho_intent *out, const char *text);

/* What a lesson of the subject or grade that the query names gains, in bm25
 * units (a strong title match is worth about 10). */
#define INDEX_INTENT_BONUS 5.0
/* added for a lesson of a teacher's own grades, and again for their subjects */
#define INDEX_PROFILE_BONUS 1.5
#define INDEX_PROFILE_MAX 8     /* grades, and subjects, of a profile looked at */

/* --------------------------------------------------------------- matches.c */

/* The lessons `query` matches, as a bitset of lesson ids 0..max_id (*out,
 * malloc'd, *n_words 64-bit words); sets of common words are kept in the
 * index's cache, for the index of `generation`. */
int index_matches(uint64_t **out, size_t *n_words, kho_index *index, const kho_query *query,
	int64_t generation, int64_t max_id);
void index_match_cache_free(index_match_cache *cache);

/* The lessons of one node as a bitset: the cached one, or `scratch`
 * (max_id / 64 + 1 words) filled. *out is valid until the next call. */
int index_node_set(const uint64_t **out, uint64_t *scratch, kho_index *index,
	const kho_query_node *node, int64_t generation, int64_t max_id);

/* --------------------------------------------------------------- snippet.c */

/* The `width` tokens of `text` around the best matches of `query`'s words
 * and phrases (the beginning without any), as written, matches between
 * U+0002 and U+0003, "…" where the text is cut; malloc'd. */
int index_snippet(char **out, const char *text, const kho_query *query, size_t width);

/* Whether a snippet marks a match. */
bool index_snippet_has_match(const char *snippet);

/* --------------------------------------------------------------- rescore.c */

typedef struct index_rescorer index_rescorer;

/* Scores lessons for `query` from their stored text with the idf of each of
 * its nodes in `params` (numbered as index_rank_params says), BM25 as
 * kho_rank() computes it; both must outlive the rescorer. */
int index_rescorer_new(index_rescorer **out, kho_index *index, const kho_query *query,
	const index_rank_params *params);
void index_rescorer_free(index_rescorer *r);

/* *matches: whether the query matches lesson `lesson` (false too when the
 * lesson is not in the store); *score: its kho_rank() score. */
int index_rescore(bool *matches, double *score, index_rescorer *r, int64_t lesson);

/* ---------------------------------------------------------- search-rank.c */

/* One page of ranked lessons. */
typedef struct index_page {
	int64_t rowids[100];
	double scores[100]; /* higher is better */
	size_t n;
	char *expr;         /* the FTS5 expression searched (owned) */
	kho_query *expanded; /* the query as searched when prefixes were expanded,
	                      * else NULL (owned) */
} index_page;

/* Ranks a parsed query in two phases (candidates from the word lists or
 * bm25, then scored from their text) and sets the result's total and facets
 * (unless q->hits_only). `limit` is at most 100. */
int index_rank_page(index_page *page, kho_search_result *result, kho_index *index,
	const kho_query *parsed, const kho_search_query *q, int limit);

/* --------------------------------------------------------- search-lists.c */

/* One word's list as a search reads it: df is 0 when the word has none. */
typedef struct index_list {
	int64_t df;
	index_tier_entry *entries; /* malloc'd, best first */
	size_t n;
} index_list;

int index_read_list(index_list *list, kho_index *index, const char *token);

/* The df of `token`'s list, 0 when it has none (the list itself unread). */
int index_read_df(int64_t *df, kho_index *index, const char *token);

/* Whether `token` has a word list. */
bool index_tier_has(kho_index *index, const char *token);

/* Appends a copy of a node to `q` (*cap: its nodes' capacity). */
int index_query_push_node(kho_query *q, size_t *cap, kho_query_kind kind, bool negated,
	char *const *tokens, size_t n);

/* The query with each prefix that begins listed words replaced by the
 * commonest of them (or phrases ending with them); *out is NULL when nothing
 * changed. */
int index_expand_prefixes(kho_query **out, kho_index *index, const kho_query *in);

/* ---------------------------------------------------------------- spell.c */

/* The folded form of `word` read as Telex ("tieengs" → "tieng") or VNI
 * ("tie61ng" → "tieng") keystrokes, in `out`; false when the reading is the
 * word itself or `word` cannot be one (not lower-case ASCII). */
bool kho_index_telex_fold(char *out, size_t size, const char *word);
bool kho_index_vni_fold(char *out, size_t size, const char *word);

/* Edit distance (with swaps of neighbours) between two byte strings, or
 * max + 1 when it is larger than `max`. */
size_t kho_index_edit_distance(const char *a, const char *b, size_t max);

/* What the index knows of its words, for reading queries. */
typedef struct kho_vocabulary {
	void *payload;
	/* Whether `token` (folded) is in the index. */
	bool (*known)(void *payload, const char *token);
	/* The closest word of the index to `token` into `out`, choosing among
	 * equally close ones by the words typed `before` and `after` it (NULL
	 * when none); false if none is close. Optional. */
	bool (*closest)(void *payload, const char *token, const char *before, const char *after,
		char *out, size_t size);
} kho_vocabulary;

/* Adds to `query`, for each plain word the index does not know, its Telex
 * or VNI reading that the index knows (with the read words' bigrams), and
 * sets *suggestion (malloc'd) to the query with those readings and with
 * misspelt words replaced by the closest known ones, or to NULL when every
 * word was known. KHO_ENOMEM only. */
int kho_index_query_expand(kho_query *query, const kho_vocabulary *vocab, char **suggestion);

/* ---------------------------------------------------------------- snippets */

/* HTML-escapes `text` and turns the \x02 … \x03 markers that snippet() and
 * highlight() put around matches into <mark> … </mark>. Malloc'd, or NULL
 * when out of memory. */
char *kho_index_snippet_html(const char *text);

#endif
