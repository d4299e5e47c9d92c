/*
 * search-rank.c — ranking a search in two phases, so that no search scores
 * every lesson it matches (FTS5's bm25() does: for a word in most of 100,000
 * lessons that is most of a search's time).
 *
 *   1. Candidates. When a word of the query has a list in index_tier
 *      (tier.c): the listed lessons of each listed word, scored with the
 *      stored weights × the word's idf; every lesson of each rarer word or
 *      phrase, scored by kho_rank() over it alone (few lessons); for a
 *      phrase of common words, its words' lists; bigrams of common words and
 *      exact forms without a list are left to phase 2. Lessons outside the
 *      filters are left out as they come. Without a listed word: the best
 *      RESCORE_EXACT by FTS5's bm25 (RESCORE_ALL when accents are typed,
 *      since FTS5 holds folded words only).
 *   2. Scores. The best candidates (twice the page, RESCORE_MIN at least,
 *      more while the page is not full) scored for the whole query — bigrams,
 *      exact accents, phrases and exclusions included — from their stored
 *      text (rescore.c, the numbers of kho_rank()); a candidate that the
 *      whole query does not match is dropped. When the lists cannot fill the
 *      page and more lessons match (tight filters), phase 1 runs again from
 *      bm25.
 *
 * The idf of a node: a listed word's df; a rarer word, or a phrase with a
 * rare word, counted by FTS5; a phrase of words each in more than
 * PHRASE_COUNT_MAX lessons estimated as if its words were independent; an
 * exact form counts as its folded word. A lesson in none of the lists of the
 * query's common words and without its rarer words is never a candidate: it
 * could only rank first by many common words weighing little in each, which
 * lists of INDEX_TIER_K make unlikely (tests/bench/bench-agreement.py
 * measures it).
 *
 * While typing, a prefix stands for the commonest listed words it begins
 * (search-lists.c; FTS5's prefix query would read every one).
 */
#include "indexer-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESCORE_MIN 30
#define PHRASE_COUNT_MAX 1000
#define RESCORE_EXACT 50
#define RESCORE_ALL 400
#define TOGETHER_MAX 20
#define TOGETHER_BONUS 1e9 /* first in phase 1's order */

/* ----------------------------------------------------------- candidates */

typedef struct candidate {
	uint32_t lesson;  /* 0: empty slot */
	double score;
} candidate;

typedef struct candidates {
	candidate *slots;
	size_t cap, n;    /* cap: a power of two */
} candidates;

static int add_score(candidates *c, uint32_t lesson, double score)
{
	if (2 * (c->n + 1) > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		candidate *slots = calloc(cap, sizeof *slots);
		if (!slots)
			return KHO_ENOMEM;
		for (size_t i = 0; i < c->cap; i++) {
			if (!c->slots[i].lesson)
				continue;
			size_t j = (c->slots[i].lesson * 2654435761u) & (cap - 1);
			while (slots[j].lesson)
				j = (j + 1) & (cap - 1);
			slots[j] = c->slots[i];
		}
		free(c->slots);
		c->slots = slots;
		c->cap = cap;
	}
	size_t i = (lesson * 2654435761u) & (c->cap - 1);
	while (c->slots[i].lesson && c->slots[i].lesson != lesson)
		i = (i + 1) & (c->cap - 1);
	if (!c->slots[i].lesson) {
		c->slots[i].lesson = lesson;
		c->n++;
	}
	c->slots[i].score += score;
	return KHO_OK;
}

static int by_score(const void *pa, const void *pb)
{
	const candidate *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->lesson < b->lesson ? -1 : a->lesson > b->lesson;
}

/* ------------------------------------------------------------- the search */

typedef struct tier_search {
	kho_index *index;
	const kho_query *query;
	index_facets *facets;
	index_filter filter;
	int bonus_grade;                        /* value numbers the intent names, -1 none */
	int bonus_subjects[KHO_INTENT_MAX_SUBJECTS];
	int prefer_grades[INDEX_PROFILE_MAX];   /* the teacher's, -1 none */
	int prefer_subjects[INDEX_PROFILE_MAX];
	index_list *lists;                       /* per node, its single token's list */
	index_rank_params params;               /* idf per scored phrase */
	double node_idf[INDEX_RANK_MAX_PHRASES]; /* the same per node */
	bool counted[INDEX_RANK_MAX_PHRASES];   /* FTS5 counted the node's lessons */
	int64_t lessons;
	bool truncated;                         /* a list holds fewer lessons than its df */
	size_t forced;                          /* candidates phase 2 must score */
	bool hits_only;                         /* a completion: no total counted */
	bool expanded;                          /* prefixes stand for listed words */
} tier_search;

/* What a lesson of the subject or grade that the query names gains. */
static double intent_bonus(const tier_search *s, int64_t lesson)
{
	double b = 0;
	if (s->bonus_grade >= 0 && index_facets_has(s->facets, lesson, s->bonus_grade))
		b += INDEX_INTENT_BONUS;
	for (size_t i = 0; i < KHO_INTENT_MAX_SUBJECTS; i++)
		if (s->bonus_subjects[i] >= 0 && index_facets_has(s->facets, lesson, s->bonus_subjects[i])) {
			b += INDEX_INTENT_BONUS;
			break;
		}
	return b;
}

/* What a lesson of the teacher's own grades and subjects gains. Added to
 * the scored candidates only (phase 2), not to the thousands of phase 1:
 * it reorders the best matches, it does not bring in weak ones, and a
 * signed-in search costs about what an anonymous one does. */
static double profile_bonus(const tier_search *s, int64_t lesson)
{
	double b = 0;
	for (size_t i = 0; i < INDEX_PROFILE_MAX && s->prefer_grades[i] >= 0; i++)
		if (index_facets_has(s->facets, lesson, s->prefer_grades[i])) {
			b += INDEX_PROFILE_BONUS;
			break;
		}
	for (size_t i = 0; i < INDEX_PROFILE_MAX && s->prefer_subjects[i] >= 0; i++)
		if (index_facets_has(s->facets, lesson, s->prefer_subjects[i])) {
			b += INDEX_PROFILE_BONUS;
			break;
		}
	return b;
}

static int fold_one(void *payload, int flags, const char *token, int len, int start, int end)
{
	(void)flags;
	(void)start;
	(void)end;
	char **out = payload;
	if (*out)
		return 0;
	*out = malloc((size_t)len + 1);
	if (!*out)
		return KHO_ENOMEM;
	memcpy(*out, token, (size_t)len);
	(*out)[len] = '\0';
	return 0;
}

/* How many lessons hold these tokens in a row (the last one as a prefix when
 * `prefix`): listed; else counted by FTS5 when that reads at most
 * PHRASE_COUNT_MAX lessons of its rarest word (*counted); else estimated from
 * its words' counts as if they were independent. */
static int tokens_df(int64_t *out, bool *counted, tier_search *s, char *const *tokens, size_t n,
	bool prefix)
{
	*counted = false;
	*out = 0;
	double estimate = (double)s->lessons;
	int64_t rarest = INT64_MAX;
	for (size_t t = 0; t < n && !prefix; t++) {
		int64_t df = 0;
		int rc = index_read_df(&df, s->index, tokens[t]);
		if (rc)
			return rc;
		if (n == 1 && df) {
			*out = df;
			return KHO_OK;
		}
		if (!df) {
			rarest = 0; /* a word without a list is in fewer than min_df lessons */
			break;
		}
		rarest = df < rarest ? df : rarest;
		estimate *= (double)df / (double)(s->lessons ? s->lessons : 1);
	}
	if (n > 1 && !prefix && rarest > PHRASE_COUNT_MAX) {
		*out = estimate < 1 ? 1 : (int64_t)estimate;
		return KHO_OK;
	}
	*counted = true;
	kho_query_node node = { prefix ? KHO_QUERY_PREFIX : KHO_QUERY_PHRASE, false,
		(char **)tokens, n };
	char *expr = NULL;
	int rc = kho_index_query_node_expression(&expr, &node);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(s->index->db,
		"SELECT count(*) FROM lesson_fts WHERE lesson_fts MATCH ?1", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
		if ((src = sqlite3_step(st)) == SQLITE_ROW)
			*out = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	free(expr);
	return src == SQLITE_ROW ? KHO_OK : kho_store_error(s->index->store, src, "searching");
}

/* How many lessons hold a node. An exact form counts as its folded word:
 * FTS5 indexes folded words only, and the same rule must hold whether the
 * form has a list or not (a lesson spelling the word as typed counts twice). */
static int node_df(int64_t *out, bool *counted, tier_search *s, size_t i)
{
	const kho_query_node *node = &s->query->nodes[i];
	*counted = false;
	if (s->lists[i].df && node->kind != KHO_QUERY_EXACT) {
		*out = s->lists[i].df;
		return KHO_OK;
	}
	if (node->kind != KHO_QUERY_EXACT)
		return tokens_df(out, counted, s, node->tokens, node->n_tokens,
			node->kind == KHO_QUERY_PREFIX);
	char *folded[KHO_QUERY_MAX_PHRASE] = { 0 };
	size_t n = node->n_tokens < KHO_QUERY_MAX_PHRASE ? node->n_tokens : KHO_QUERY_MAX_PHRASE;
	int rc = KHO_OK;
	for (size_t t = 0; t < n && !rc; t++)
		if (kho_index_tokenize(node->tokens[t], strlen(node->tokens[t]), KHO_TOKENIZE_QUERY,
				fold_one, &folded[t]) || !folded[t])
			rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
	if (!rc)
		rc = tokens_df(out, counted, s, folded, n, false);
	*counted = false; /* FTS5 cannot score an exact form: phase 2 does */
	for (size_t t = 0; t < n; t++)
		free(folded[t]);
	return rc;
}

/* Phase 1 for a node without a list: every lesson it matches, scored by
 * kho_rank() over it alone. */
static int score_rare(candidates *c, tier_search *s, size_t i, double idf)
{
	char *expr = NULL;
	int rc = kho_index_query_node_expression(&expr, &s->query->nodes[i]);
	if (rc)
		return rc;
	index_rank_params one = { .n_phrases = 1, .idf = { idf }, .mean_length = s->hits_only };
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(s->index->db, "SELECT rowid, kho_rank(lesson_fts, ?2)"
		" FROM lesson_fts WHERE lesson_fts MATCH ?1", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
		sqlite3_bind_pointer(st, 2, &one, INDEX_RANK_POINTER, NULL);
		while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);
			if (id >= 1 && id <= UINT32_MAX && index_facets_pass(s->facets, &s->filter, id) &&
			    add_score(c, (uint32_t)id, sqlite3_column_double(st, 1)))
				rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
		}
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(s->index->store, src, "searching");
	sqlite3_finalize(st);
	free(expr);
	return rc;
}

/* Phase 1 for a phrase of listed words: their listed lessons, each word
 * counting for its share of the phrase. */
static int gather_words(candidates *c, tier_search *s, const kho_query_node *node, double idf)
{
	int rc = KHO_OK;
	for (size_t t = 0; !rc && t < node->n_tokens; t++) {
		index_list list;
		if ((rc = index_read_list(&list, s->index, node->tokens[t])))
			break;
		if ((int64_t)list.n < list.df)
			s->truncated = true;
		for (size_t k = 0; k < list.n && !rc; k++) {
			uint32_t id = list.entries[k].lesson;
			if (index_facets_pass(s->facets, &s->filter, id) &&
			    add_score(c, id, idf * list.entries[k].weight / (double)node->n_tokens))
				rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
		}
		free(list.entries);
	}
	return rc;
}

/* The idf of each phrase of the scored query (all its nodes, positive then
 * negated) into s->params, and per node into s->node_idf and s->counted
 * (whether FTS5 counted its lessons). */
static int set_idf(tier_search *s)
{
	const kho_query *q = s->query;
	int phrase = 0, rc = KHO_OK;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (size_t i = 0; i < q->n_nodes && !rc; i++) {
			const kho_query_node *node = &q->nodes[i];
			if (node->negated != (pass == 1))
				continue;
			double idf = 0;
			bool counted = false;
			if (!node->negated) {
				int64_t df = 0;
				if ((rc = node_df(&df, &counted, s, i)))
					break;
				idf = index_rank_idf(s->lessons, df);
			}
			s->counted[i] = counted;
			s->node_idf[i] = idf;
			s->params.idf[phrase++] = idf;
		}
	}
	s->params.n_phrases = phrase;
	return rc;
}

/* Phase 1, last: the lessons that hold the most of the query's words (its
 * single words; counted with bit-sliced counters over the words' sets of
 * lessons): those with at least k words, for the smallest k ≥ 2 that leaves
 * at most TOGETHER_MAX — for queries of 3 words or more, prefixes not
 * expanded (the words a prefix stands for are alternatives). A
 * sentence typed from a lesson finds that lesson this way even when its words
 * are common and weigh little there; they are all scored in phase 2
 * (s->forced of them, first in phase 1's order). The words' sets come from
 * matches.c, which the total has just put in memory; completions, which
 * count no total, skip this. */
static int gather_together(candidates *c, tier_search *s, bool hits_only)
{
	const kho_query *q = s->query;
	size_t words = 0;
	for (size_t i = 0; i < q->n_nodes; i++)
		words += !q->nodes[i].negated && q->nodes[i].kind == KHO_QUERY_TERM &&
			q->nodes[i].n_tokens == 1;
	if (words < 3 || hits_only || s->expanded)
		return KHO_OK;
	int64_t max_id = index_facets_max_id(s->facets);
	size_t n_words = (size_t)max_id / 64 + 1;
	enum { PLANES = 7 }; /* counts up to 127 words */
	uint64_t *planes = calloc((PLANES + 2) * n_words, sizeof *planes);
	uint64_t *scratch = planes ? planes + PLANES * n_words : NULL;
	int rc = planes ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory searching");
	for (size_t i = 0; i < q->n_nodes && !rc; i++) {
		const kho_query_node *node = &q->nodes[i];
		if (node->negated || node->kind != KHO_QUERY_TERM || node->n_tokens != 1)
			continue;
		const uint64_t *set = NULL;
		rc = index_node_set(&set, scratch, s->index, node, index_facets_generation(s->facets),
			max_id);
		for (size_t w = 0; !rc && w < n_words; w++) {
			uint64_t carry = set[w];
			for (int p = 0; p < PLANES && carry; p++) {
				uint64_t *plane = &planes[(size_t)p * n_words + w];
				uint64_t next = *plane & carry;
				*plane ^= carry;
				carry = next;
			}
		}
	}
	/* the lessons holding at least k words, for k from the most down while
	 * they stay few (each level compared bit by bit, from the top plane) */
	uint64_t *level = scratch, *best = planes + (PLANES + 1) * n_words;
	bool any = false;
	for (unsigned k = (unsigned)words; !rc && k >= 2; k--) {
		size_t count = 0;
		for (size_t w = 0; w < n_words; w++) {
			uint64_t gt = 0, eq = ~UINT64_C(0);
			for (int p = PLANES - 1; p >= 0; p--) {
				uint64_t plane = planes[(size_t)p * n_words + w];
				if ((k >> p) & 1u) {
					eq &= plane;
				} else {
					gt |= eq & plane;
					eq &= ~plane;
				}
			}
			level[w] = gt | eq;
			count += (size_t)__builtin_popcountll(level[w]);
		}
		if (count > TOGETHER_MAX)
			break;
		memcpy(best, level, n_words * sizeof *best);
		any = count > 0;
	}
	for (size_t w = 0; !rc && any && w < n_words; w++)
		for (uint64_t bits = best[w]; bits && !rc; bits &= bits - 1) {
			uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			if (!index_facets_pass(s->facets, &s->filter, id))
				continue;
			if (add_score(c, id, TOGETHER_BONUS))
				rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
			s->forced++;
		}
	free(planes);
	return rc;
}

/* Phase 1 from the lists: the candidates (idf set first). */
static int gather(candidates *c, tier_search *s)
{
	int rc = set_idf(s);
	const kho_query *q = s->query;
	for (size_t i = 0; i < q->n_nodes && !rc; i++) {
		const kho_query_node *node = &q->nodes[i];
		double idf = s->node_idf[i];
		const index_list *list = &s->lists[i];
		if (node->negated) {
			continue;
		} else if (list->df) {
			if ((int64_t)list->n < list->df)
				s->truncated = true;
			for (size_t k = 0; k < list->n && !rc; k++) {
				uint32_t id = list->entries[k].lesson;
				if (index_facets_pass(s->facets, &s->filter, id) &&
				    add_score(c, id, idf * list->entries[k].weight))
					rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
			}
		} else if (node->kind == KHO_QUERY_EXACT) {
			/* ranks only, in phase 2: its folded word brings its lessons */
		} else if (s->counted[i] || node->n_tokens == 1) {
			/* a rarer word or phrase: all its lessons */
			rc = score_rare(c, s, i, idf);
		} else if (node->kind != KHO_QUERY_BIGRAM) {
			/* a phrase of common words (a bigram's words are nodes of their
			 * own): the lessons where its words weigh most */
			rc = gather_words(c, s, node, idf);
		}
	}
	if (!rc)
		rc = gather_together(c, s, s->hits_only);
	return rc;
}

/* Phase 2: the candidates from `from` on, scored by the whole query, into
 * found[] (score and lesson), `step` of them. */
static int rescore(candidate *found, size_t *n_found, tier_search *s, index_rescorer *r,
	const candidate *list, size_t n, size_t *from, size_t step)
{
	size_t end = *from + step < n ? *from + step : n;
	for (; *from < end; (*from)++) {
		uint32_t id = list[*from].lesson;
		bool matches = false;
		double score = 0;
		int rc = index_rescore(&matches, &score, r, id);
		if (rc)
			return rc;
		if (matches)
			found[(*n_found)++] = (candidate){ id, score + intent_bonus(s, id) +
				profile_bonus(s, id) };
	}
	return KHO_OK;
}

/* The facet value numbers of the space-separated `list` of `kind`. */
static void set_preferred(int out[INDEX_PROFILE_MAX], const tier_search *s, const char *kind,
	const char *list)
{
	size_t n = 0;
	char value[64];
	for (const char *p = list; n < INDEX_PROFILE_MAX && kho_next_word(&p, value, sizeof value);) {
		int v = index_facets_value(s->facets, kind, value);
		if (v >= 0)
			out[n++] = v;
	}
	while (n < INDEX_PROFILE_MAX)
		out[n++] = -1;
}

static void set_intent(tier_search *s, const kho_search_query *q)
{
	kho_intent intent;
	kho_index_query_intent(&intent, q->text);
	s->bonus_grade = -1;
	for (size_t i = 0; i < KHO_INTENT_MAX_SUBJECTS; i++)
		s->bonus_subjects[i] = -1;
	if (intent.grade && !(q->grade && *q->grade)) {
		char grade[8];
		snprintf(grade, sizeof grade, "%d", intent.grade);
		s->bonus_grade = index_facets_value(s->facets, "grade", grade);
	}
	for (size_t i = 0; !(q->subject && *q->subject) && i < intent.n_subjects; i++)
		s->bonus_subjects[i] = index_facets_value(s->facets, "subject", intent.subjects[i]);
	/* a teacher's own grades and subjects, where the query says nothing of them */
	bool grade_named = (q->grade && *q->grade) || intent.grade;
	bool subject_named = (q->subject && *q->subject) || intent.n_subjects;
	set_preferred(s->prefer_grades, s, "grade", grade_named ? NULL : q->prefer_grades);
	set_preferred(s->prefer_subjects, s, "subject", subject_named ? NULL : q->prefer_subjects);
}

/* The lessons that match ?1 within the filters ?2 (grade), ?3 (subject) and
 * ?4 (pack); a NULL filter lets everything through. */
#define MATCHING_LESSONS \
	" FROM lesson_fts" \
	" JOIN lessons l ON l.id = lesson_fts.rowid" \
	" JOIN pack_versions v ON v.id = l.pv" \
	" WHERE lesson_fts MATCH ?1" \
	"  AND (?2 IS NULL OR l.id IN" \
	"   (SELECT lesson FROM lesson_tags WHERE kind = 'grade' AND value = ?2))" \
	"  AND (?3 IS NULL OR l.id IN" \
	"   (SELECT lesson FROM lesson_tags WHERE kind = 'subject' AND value = ?3))" \
	"  AND (?4 IS NULL OR v.pack_id = ?4)"

#define RANK_EXPR "bm25(lesson_fts, 1.0, 10.0, 6.0, 3.0, 2.0)" /* index_rank_weights */

/* bm25, less (better) by ?6 for a lesson of the grade ?7 the query names and
 * by ?6 for one of the subjects ?8–?10 it names (intent.c). */
static const char bm25_intent_sql[] =
	"SELECT l.id, " RANK_EXPR
	"  - ?6 * EXISTS (SELECT 1 FROM lesson_tags g"
	"    WHERE g.lesson = l.id AND g.kind = 'grade' AND g.value = ?7)"
	"  - ?6 * EXISTS (SELECT 1 FROM lesson_tags s"
	"    WHERE s.lesson = l.id AND s.kind = 'subject' AND s.value IN (?8, ?9, ?10))"
	" AS score" MATCHING_LESSONS
	" ORDER BY score, l.id LIMIT ?5";

/* The same without subject or grade named: no lookups per match. */
static const char bm25_sql[] =
	"SELECT l.id, " RANK_EXPR " AS score" MATCHING_LESSONS " ORDER BY score, l.id LIMIT ?5";

/* Phase 1 without lists: the `limit` best matches by FTS5's bm25 (intent
 * bonus included), within the filters. */
static int bm25_candidates(candidates *c, tier_search *s, const char *expr,
	const kho_search_query *q, size_t limit)
{
	kho_intent intent;
	kho_index_query_intent(&intent, q->text);
	bool grade_bonus = intent.grade && !(q->grade && *q->grade);
	bool subject_bonus = intent.n_subjects && !(q->subject && *q->subject);
	const char *sql = grade_bonus || subject_bonus ? bm25_intent_sql : bm25_sql;
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(s->index->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return kho_store_error(s->index->store, src, "searching");
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	if (q->grade && *q->grade)
		sqlite3_bind_text(st, 2, q->grade, -1, SQLITE_STATIC);
	if (q->subject && *q->subject)
		sqlite3_bind_text(st, 3, q->subject, -1, SQLITE_STATIC);
	if (q->pack && *q->pack)
		sqlite3_bind_text(st, 4, q->pack, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)limit);
	if (sql == bm25_intent_sql) {
		char grade[8];
		sqlite3_bind_double(st, 6, INDEX_INTENT_BONUS);
		if (grade_bonus) {
			snprintf(grade, sizeof grade, "%d", intent.grade);
			sqlite3_bind_text(st, 7, grade, -1, SQLITE_TRANSIENT);
		}
		for (size_t i = 0; subject_bonus && i < intent.n_subjects; i++)
			sqlite3_bind_text(st, 8 + (int)i, intent.subjects[i], -1, SQLITE_STATIC);
	}
	int rc = KHO_OK;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id >= 1 && id <= UINT32_MAX && add_score(c, (uint32_t)id, -sqlite3_column_double(st, 1)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(s->index->store, src, "searching");
	sqlite3_finalize(st);
	return rc;
}

static bool has_exact(const kho_query *q)
{
	for (size_t i = 0; i < q->n_nodes; i++)
		if (q->nodes[i].kind == KHO_QUERY_EXACT)
			return true;
	return false;
}

/* How many of the best bm25 matches phase 2 scores: three pages; all, up to
 * RESCORE_ALL, when accents are typed (FTS5 does not see exact forms). */
static size_t bm25_limit(const tier_search *s, size_t want)
{
	size_t r = want * 3 > RESCORE_EXACT ? want * 3 : RESCORE_EXACT;
	return has_exact(s->query) && r < RESCORE_ALL ? RESCORE_ALL : r;
}

/* Whether a ranks after b. */
static bool worse(candidate a, candidate b)
{
	return by_score(&a, &b) > 0;
}

static void sift_worst(candidate *h, size_t n, size_t i)
{
	for (;;) {
		size_t top = i, l = 2 * i + 1, r = l + 1;
		if (l < n && worse(h[l], h[top]))
			top = l;
		if (r < n && worse(h[r], h[top]))
			top = r;
		if (top == i)
			return;
		candidate t = h[i];
		h[i] = h[top];
		h[top] = t;
		i = top;
	}
}

/* Puts the best `m` of a[0..n) first, in order (the rest in no order):
 * a heap of the m best so far, so that thousands of candidates cost little
 * when a page needs tens. */
static void sort_best(candidate *a, size_t n, size_t m)
{
	if (m >= n) {
		if (n > 1)
			qsort(a, n, sizeof *a, by_score);
		return;
	}
	for (size_t i = m / 2; i-- > 0;)
		sift_worst(a, m, i);
	for (size_t i = m; i < n; i++)
		if (worse(a[0], a[i])) {
			candidate t = a[0];
			a[0] = a[i];
			a[i] = t;
			sift_worst(a, m, 0);
		}
	qsort(a, m, sizeof *a, by_score);
}

/* The candidates packed at the start of the table (intent bonus added when
 * `bonus_too`), the best `m` first in order; returns how many. */
static size_t pack_candidates(candidates *c, const tier_search *s, bool bonus_too, size_t m)
{
	size_t n = 0;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].lesson) {
			candidate k = c->slots[i];
			if (bonus_too)
				k.score += intent_bonus(s, k.lesson);
			c->slots[n++] = k;
		}
	sort_best(c->slots, n, m);
	return n;
}

static void free_candidates(candidates *c)
{
	free(c->slots);
	*c = (candidates){ 0 };
}

int index_rank_page(index_page *page, kho_search_result *result, kho_index *index,
	const kho_query *parsed, const kho_search_query *q, int limit)
{
	*page = (index_page){ 0 };
	kho_query *expanded = NULL;
	tier_search s = { .index = index, .hits_only = q->hits_only };
	candidates c = { 0 };
	candidate *found = NULL;
	index_rescorer *scorer = NULL;
	int rc = index_expand_prefixes(&expanded, index, parsed);
	if (rc)
		return rc;
	s.query = expanded ? expanded : parsed;
	s.expanded = expanded != NULL;
	if (s.query->n_nodes > INDEX_RANK_MAX_PHRASES) {
		/* very long queries (Telex readings, prefix words): the first ones */
		kho_query *capped = calloc(1, sizeof *capped);
		size_t cap = 0;
		rc = capped ? KHO_OK : KHO_ENOMEM;
		for (size_t i = 0; !rc && i < INDEX_RANK_MAX_PHRASES; i++) {
			const kho_query_node *node = &s.query->nodes[i];
			rc = index_query_push_node(capped, &cap, node->kind, node->negated, node->tokens,
				node->n_tokens);
		}
		kho_index_query_free(expanded);
		expanded = capped;
		s.query = capped;
		if (rc) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory reading the query");
			goto done;
		}
		capped->truncated = true;
	}
	s.lists = calloc(s.query->n_nodes + 1, sizeof *s.lists);
	if (!s.lists) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
		goto done;
	}
	bool listed = false;
	for (size_t i = 0; i < s.query->n_nodes && !rc; i++) {
		const kho_query_node *node = &s.query->nodes[i];
		if (node->n_tokens == 1 && node->kind != KHO_QUERY_PREFIX && !node->negated) {
			rc = index_read_list(&s.lists[i], index, node->tokens[0]);
			listed = listed || s.lists[i].df > 0;
		}
	}
	if (rc || (rc = kho_index_query_expression(&page->expr, s.query)))
		goto done;
	if (!page->expr[0])
		goto done; /* nothing to look for */

	if ((rc = index_facets_current(&s.facets, index)))
		goto done;
	s.lessons = index_facets_lessons(s.facets);
	index_facets_filter(&s.filter, s.facets, q);
	set_intent(&s, q);
	size_t want = (size_t)q->offset + (size_t)limit;
	if (!q->hits_only && (rc = index_facets_count(result, index, s.facets, s.query, q)))
		goto done;
	if (s.filter.none || (!q->hits_only && result->total == 0))
		goto done;

	/* Phase 1: candidates, from the lists when the query has a common word,
	 * else the best by bm25 (few lessons match then). */
	size_t n = 0, step = 2 * want > RESCORE_MIN ? 2 * want : RESCORE_MIN;
	if (listed) {
		if ((rc = gather(&c, &s)))
			goto done;
		n = pack_candidates(&c, &s, true, 4 * step + s.forced);
	} else {
		if ((rc = set_idf(&s)) ||
		    (rc = bm25_candidates(&c, &s, page->expr, q, bm25_limit(&s, want))))
			goto done;
		n = pack_candidates(&c, &s, false, SIZE_MAX);
	}

	/* Phase 2: the best candidates scored for the whole query. */
	found = malloc((n ? n : 1) * sizeof *found);
	if (!found) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
		goto done;
	}
	if ((rc = index_rescorer_new(&scorer, index, s.query, &s.params)))
		goto done;
	size_t n_found = 0, from = 0, sorted = listed ? 4 * step + s.forced : n;
	while (!rc && n_found < want && from < n) {
		if (from >= sorted) { /* past the sorted ones: sort the rest */
			sort_best(c.slots + from, n - from, SIZE_MAX);
			sorted = n;
		}
		rc = rescore(found, &n_found, &s, scorer, c.slots, n, &from,
			!listed ? n : from == 0 ? step + s.forced : step);
	}

	/* Too few from the lists, and more lessons match: bm25 over them all. */
	bool complete = q->hits_only ? !s.truncated : result->total <= (int64_t)n_found;
	if (!rc && listed && n_found < want && !complete) {
		free_candidates(&c);
		n_found = 0;
		from = 0;
		if (!(rc = bm25_candidates(&c, &s, page->expr, q, bm25_limit(&s, want)))) {
			n = pack_candidates(&c, &s, false, SIZE_MAX);
			candidate *more = realloc(found, (n ? n : 1) * sizeof *found);
			if (!more)
				rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
			else
				found = more;
			if (!rc)
				rc = rescore(found, &n_found, &s, scorer, c.slots, n, &from, n);
		}
	}
	if (rc)
		goto done;
	if (n_found > 1)
		qsort(found, n_found, sizeof *found, by_score);
	for (size_t i = q->offset; i < n_found && page->n < (size_t)limit; i++) {
		page->rowids[page->n] = found[i].lesson;
		page->scores[page->n] = found[i].score;
		page->n++;
	}
	if (q->hits_only)
		result->total = (int64_t)q->offset + (int64_t)page->n;

done:
	if (rc) {
		free(page->expr);
		page->expr = NULL;
		page->n = 0;
	} else {
		page->expanded = expanded; /* for the snippets */
		expanded = NULL;
	}
	for (size_t i = 0; s.lists && i < s.query->n_nodes; i++)
		free(s.lists[i].entries);
	free(s.lists);
	free_candidates(&c);
	free(found);
	index_rescorer_free(scorer);
	kho_index_query_free(expanded);
	return rc;
}
