/*
 * rescore.c — the score of one lesson for a whole query, computed from the
 * lesson's stored text instead of FTS5's index: phase 2 of search-rank.c.
 * Asking FTS5 for one row's kho_rank() costs a lookup of every word of the
 * query in the index (a millisecond for a long question); reading the row
 * and tokenizing it costs microseconds.
 *
 * The result is the same number kho_rank() gives: the text is tokenized
 * exactly as FTS5 tokenizes it (the kho tokenizer in document mode, column
 * by column), a phrase is counted at each position where its tokens follow
 * one another (a token matches a position's folded form or its exact form;
 * the last token of a prefix node, any form that begins with it), and the
 * column-weighted counts go through index_rank_term() with the same idf and
 * mean length.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

/* Buckets of the phrases' first tokens (more than twice INDEX_RANK_MAX_PHRASES). */
#define FIRST_SLOTS 512

static unsigned first_slot(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h & (FIRST_SLOTS - 1);
}

/* The forms at one position of a column: folded, and exact when it differs. */
typedef struct position {
	uint32_t folded, exact; /* offsets into the text buffer; exact = UINT32_MAX when none */
	uint16_t folded_len, exact_len;
} position;

struct index_rescorer {
	const kho_query *query;
	const index_rank_params *params;
	kho_store *store;
	double avgdl;
	sqlite3_stmt *read;
	position *pos;
	size_t n_pos, cap_pos;
	char *text;             /* the tokens of the column being read, back to back */
	size_t n_text, cap_text;
	int rc;
	bool ready;             /* nodes and lens are set (on the first lesson scored) */
	const kho_query_node *nodes[INDEX_RANK_MAX_PHRASES]; /* per phrase of params */
	size_t lens[INDEX_RANK_MAX_PHRASES][KHO_QUERY_MAX_PHRASE]; /* their tokens' lengths */
	/* The phrases by the hash of their first token (chains through `next`,
	 * -1 ends), so that a position tries only those that may start there;
	 * a phrase whose first token is a prefix is tried everywhere. */
	int16_t head[FIRST_SLOTS], next[INDEX_RANK_MAX_PHRASES];
	int16_t anywhere[INDEX_RANK_MAX_PHRASES];
	int n_anywhere;
};

int index_rescorer_new(index_rescorer **out, kho_index *index, const kho_query *query,
	const index_rank_params *params)
{
	index_rescorer *r = calloc(1, sizeof *r);
	if (!r)
		return kho_error_set(KHO_ENOMEM, "out of memory searching");
	r->query = query;
	r->params = params;
	r->store = index->store;
	r->avgdl = 1.0;
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db, "SELECT kho_avgdl(lesson_fts) FROM lesson_fts LIMIT 1",
		-1, &st, NULL);
	if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
		r->avgdl = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	if (src == SQLITE_ROW || src == SQLITE_DONE)
		src = sqlite3_prepare_v2(index->db, "SELECT " INDEX_COLUMNS
			" FROM lessons WHERE id = ?1", -1, &r->read, NULL);
	if (src != SQLITE_OK) {
		int rc = kho_store_error(index->store, src, "searching");
		index_rescorer_free(r);
		return rc;
	}
	*out = r;
	return KHO_OK;
}

void index_rescorer_free(index_rescorer *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->read);
	free(r->pos);
	free(r->text);
	free(r);
}

static int keep_token(void *payload, int flags, const char *token, int len, int start, int end)
{
	(void)start;
	(void)end;
	index_rescorer *r = payload;
	if (r->n_text + (size_t)len > r->cap_text) {
		size_t cap = r->cap_text ? 2 * r->cap_text : 4096;
		while (cap < r->n_text + (size_t)len)
			cap *= 2;
		char *text = realloc(r->text, cap);
		if (!text)
			return r->rc = KHO_ENOMEM;
		r->text = text;
		r->cap_text = cap;
	}
	memcpy(r->text + r->n_text, token, (size_t)len);
	if (flags & KHO_TOKEN_COLOCATED) {
		if (r->n_pos > 0) {
			r->pos[r->n_pos - 1].exact = (uint32_t)r->n_text;
			r->pos[r->n_pos - 1].exact_len = (uint16_t)len;
		}
	} else {
		if (r->n_pos == r->cap_pos) {
			size_t cap = r->cap_pos ? 2 * r->cap_pos : 512;
			position *pos = realloc(r->pos, cap * sizeof *pos);
			if (!pos)
				return r->rc = KHO_ENOMEM;
			r->pos = pos;
			r->cap_pos = cap;
		}
		r->pos[r->n_pos++] = (position){ (uint32_t)r->n_text, UINT32_MAX, (uint16_t)len, 0 };
	}
	r->n_text += (size_t)len;
	return 0;
}

static bool form_matches(const index_rescorer *r, uint32_t at, uint16_t len, const char *token,
	size_t n, bool prefix)
{
	return at != UINT32_MAX && (prefix ? len >= n : len == n) && r->text[at] == token[0] &&
		!memcmp(r->text + at, token, n);
}

/* Whether the node's tokens (of lengths len[]) follow one another from
 * position `p`. */
static bool phrase_at(const index_rescorer *r, const kho_query_node *node, const size_t *len,
	size_t p)
{
	if (p + node->n_tokens > r->n_pos || !node->n_tokens)
		return false;
	for (size_t t = 0; t < node->n_tokens; t++) {
		bool prefix = node->kind == KHO_QUERY_PREFIX && t + 1 == node->n_tokens;
		const position *at = &r->pos[p + t];
		if (!len[t] ||
		    (!form_matches(r, at->folded, at->folded_len, node->tokens[t], len[t], prefix) &&
		     !form_matches(r, at->exact, at->exact_len, node->tokens[t], len[t], prefix)))
			return false;
	}
	return true;
}

/* The phrases of the query in the order of its FTS5 expression: positive
 * nodes, then negated ones (as kho_index_query_expression() writes them). */
static const kho_query_node *phrase_node(const kho_query *q, int phrase)
{
	int k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < q->n_nodes; i++)
			if (q->nodes[i].negated == (pass == 1) && k++ == phrase)
				return &q->nodes[i];
	return NULL;
}

int index_rescore(bool *matches, double *score, index_rescorer *r, int64_t lesson)
{
	*matches = false;
	*score = 0;
	int n = r->params->n_phrases;
	double freq[INDEX_RANK_MAX_PHRASES] = { 0 };
	const kho_query_node **nodes = r->nodes;
	if (!r->ready) {
		for (int p = 0; p < n; p++) {
			nodes[p] = phrase_node(r->query, p);
			for (size_t t = 0; nodes[p] && t < nodes[p]->n_tokens && t < KHO_QUERY_MAX_PHRASE; t++)
				r->lens[p][t] = strlen(nodes[p]->tokens[t]);
			if (nodes[p] && nodes[p]->n_tokens > KHO_QUERY_MAX_PHRASE)
				nodes[p] = NULL; /* never: the parser keeps at most that many */
		}
		for (int i = 0; i < FIRST_SLOTS; i++)
			r->head[i] = -1;
		r->n_anywhere = 0;
		for (int p = n - 1; p >= 0; p--) { /* chains in phrase order */
			if (!nodes[p] || !nodes[p]->n_tokens)
				continue;
			if (nodes[p]->kind == KHO_QUERY_PREFIX && nodes[p]->n_tokens == 1) {
				r->anywhere[r->n_anywhere++] = (int16_t)p;
				continue;
			}
			unsigned slot = first_slot(nodes[p]->tokens[0], r->lens[p][0]);
			r->next[p] = r->head[slot];
			r->head[slot] = (int16_t)p;
		}
		r->ready = true;
	}
	sqlite3_bind_int64(r->read, 1, lesson);
	int src = sqlite3_step(r->read);
	if (src != SQLITE_ROW) {
		sqlite3_reset(r->read);
		return src == SQLITE_DONE ? KHO_OK : kho_store_error(r->store, src, "searching");
	}
	size_t length = 0;
	for (int c = 0; c < INDEX_RANK_COLUMNS; c++) {
		const char *text = (const char *)sqlite3_column_text(r->read, c);
		int len = sqlite3_column_bytes(r->read, c);
		r->n_pos = 0;
		r->n_text = 0;
		r->rc = KHO_OK;
		if (text && len > 0 &&
		    kho_index_tokenize(text, (size_t)len, KHO_TOKENIZE_DOCUMENT, keep_token, r) &&
		    !r->rc)
			r->rc = KHO_ENOMEM;
		if (r->rc) {
			sqlite3_reset(r->read);
			return kho_error_set(KHO_ENOMEM, "out of memory searching");
		}
		length += r->n_pos;
		double weight = index_rank_weights[c];
		for (size_t at = 0; at < r->n_pos; at++) {
			const position *pos = &r->pos[at];
			unsigned a = first_slot(r->text + pos->folded, pos->folded_len);
			unsigned b = pos->exact == UINT32_MAX ? a :
				first_slot(r->text + pos->exact, pos->exact_len);
			for (int p = r->head[a]; p >= 0; p = r->next[p])
				if (phrase_at(r, nodes[p], r->lens[p], at))
					freq[p] += weight;
			for (int p = b == a ? -1 : r->head[b]; p >= 0; p = r->next[p])
				if (phrase_at(r, nodes[p], r->lens[p], at))
					freq[p] += weight;
			for (int i = 0; i < r->n_anywhere; i++) {
				int p = r->anywhere[i];
				if (phrase_at(r, nodes[p], r->lens[p], at))
					freq[p] += weight;
			}
		}
	}
	sqlite3_reset(r->read);
	bool positive = false;
	for (int p = 0; p < n; p++) {
		if (!nodes[p] || freq[p] == 0)
			continue;
		if (nodes[p]->negated)
			return KHO_OK; /* an excluded word: no match */
		positive = true;
		*score += r->params->idf[p] * index_rank_term(freq[p], (double)length, r->avgdl);
	}
	*matches = positive;
	return KHO_OK;
}
