/*
 * search-lists.c — what a search reads of the word lists (tier.c): one
 * word's list or count, and, while typing, the listed words a prefix stands
 * for: the TIER_EXPANSIONS commonest folded words it begins; and the
 * commonest words of all, with which a server warms an index.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

#define TIER_EXPANSIONS 16

/* --------------------------------------------------------- the word lists */

/* Reads the list of `token`; list->df stays 0 when there is none. */
int index_read_list(index_list *list, kho_index *index, const char *token)
{
	*list = (index_list){ 0 };
	int src = SQLITE_OK;
	if (!index->tier)
		src = sqlite3_prepare_v2(index->db, "SELECT df, top FROM index_tier WHERE term = ?1",
			-1, &index->tier, NULL);
	if (src != SQLITE_OK)
		return kho_store_error(index->store, src, "reading the word lists");
	sqlite3_bind_text(index->tier, 1, token, -1, SQLITE_STATIC);
	int rc = KHO_OK;
	if ((src = sqlite3_step(index->tier)) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(index->tier, 1) / INDEX_TIER_ENTRY_SIZE;
		list->df = sqlite3_column_int64(index->tier, 0);
		list->entries = malloc((n ? n : 1) * sizeof *list->entries);
		if (!list->entries)
			rc = kho_error_set(KHO_ENOMEM, "out of memory reading the word lists");
		else if (n)
			index_tier_decode(list->entries, sqlite3_column_blob(index->tier, 1), n);
		list->n = list->entries ? n : 0;
	} else if (src != SQLITE_DONE) {
		rc = kho_store_error(index->store, src, "reading the word lists");
	}
	sqlite3_reset(index->tier);
	return rc;
}

/* The df of `token`'s list, 0 when it has none (the list itself unread). */
int index_read_df(int64_t *df, kho_index *index, const char *token)
{
	*df = 0;
	int src = SQLITE_OK;
	if (!index->tier_df)
		src = sqlite3_prepare_v2(index->db, "SELECT df FROM index_tier WHERE term = ?1", -1,
			&index->tier_df, NULL);
	if (src != SQLITE_OK)
		return kho_store_error(index->store, src, "reading the word lists");
	sqlite3_bind_text(index->tier_df, 1, token, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(index->tier_df)) == SQLITE_ROW)
		*df = sqlite3_column_int64(index->tier_df, 0);
	sqlite3_reset(index->tier_df);
	return src == SQLITE_ROW || src == SQLITE_DONE ? KHO_OK :
		kho_store_error(index->store, src, "reading the word lists");
}

bool index_tier_has(kho_index *index, const char *token)
{
	int64_t df = 0;
	return index_read_df(&df, index, token) == KHO_OK && df > 0;
}

/* ------------------------------------------------------ prefix expansion */

static int copy_tokens(char ***out, char *const *tokens, size_t n)
{
	char **copy = calloc(n ? n : 1, sizeof *copy);
	if (!copy)
		return KHO_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(copy[i] = strdup(tokens[i]))) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			return KHO_ENOMEM;
		}
	*out = copy;
	return KHO_OK;
}

int index_query_push_node(kho_query *q, size_t *cap, kho_query_kind kind, bool negated,
	char *const *tokens, size_t n)
{
	if (q->n_nodes == *cap) {
		size_t grown = *cap ? 2 * *cap : 16;
		kho_query_node *nodes = realloc(q->nodes, grown * sizeof *nodes);
		if (!nodes)
			return KHO_ENOMEM;
		q->nodes = nodes;
		*cap = grown;
	}
	kho_query_node *node = &q->nodes[q->n_nodes];
	*node = (kho_query_node){ .kind = kind, .negated = negated, .n_tokens = n };
	int rc = copy_tokens(&node->tokens, tokens, n);
	if (!rc)
		q->n_nodes++;
	return rc;
}

static int fold_token(void *payload, int flags, const char *token, int len, int start, int end)
{
	(void)flags;
	(void)start;
	(void)end;
	const char *word = payload;
	return (size_t)len == strlen(word) && !memcmp(word, token, (size_t)len) ? 0 : 1;
}

/* Whether a word of the lists is a folded form (not an exact one). */
static bool is_folded(const char *word)
{
	return kho_index_tokenize(word, strlen(word), KHO_TOKENIZE_QUERY, fold_token,
		(void *)word) == 0;
}

/* The commonest listed folded words that begin with `prefix`, into words[]
 * (malloc'd); returns how many. */
static size_t expand(char **words, kho_index *index, const char *prefix)
{
	size_t len = strlen(prefix), n = 0;
	char *upper = malloc(len + 1);
	sqlite3_stmt *st = NULL;
	if (!upper || len == 0 || (unsigned char)prefix[len - 1] == 0xff)
		goto done;
	memcpy(upper, prefix, len + 1);
	upper[len - 1] = (char)((unsigned char)upper[len - 1] + 1);
	if (sqlite3_prepare_v2(index->db, "SELECT term FROM index_tier WHERE term >= ?1 AND term < ?2"
			" ORDER BY df DESC, term LIMIT 64", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, upper, -1, SQLITE_STATIC);
	while (n < TIER_EXPANSIONS && sqlite3_step(st) == SQLITE_ROW) {
		const char *term = (const char *)sqlite3_column_text(st, 0);
		if (term && is_folded(term) && (words[n] = strdup(term)))
			n++;
	}
done:
	sqlite3_finalize(st);
	free(upper);
	return n;
}

/* The query with each prefix that begins listed words replaced by those
 * words (or phrases ending with them); *out is NULL when nothing changed. */
int index_expand_prefixes(kho_query **out, kho_index *index, const kho_query *in)
{
	*out = NULL;
	kho_query *q = calloc(1, sizeof *q);
	size_t cap = 0;
	bool changed = false;
	int rc = q ? KHO_OK : KHO_ENOMEM;
	for (size_t i = 0; !rc && i < in->n_nodes; i++) {
		const kho_query_node *node = &in->nodes[i];
		char *words[TIER_EXPANSIONS];
		size_t n = node->kind == KHO_QUERY_PREFIX && !node->negated && node->n_tokens ?
			expand(words, index, node->tokens[node->n_tokens - 1]) : 0;
		if (n == 0) {
			rc = index_query_push_node(q, &cap, node->kind, node->negated, node->tokens, node->n_tokens);
			continue;
		}
		changed = true;
		for (size_t k = 0; k < n; k++) {
			char *tokens[2] = { node->tokens[0], words[k] };
			if (!rc)
				rc = node->n_tokens == 1 ?
					index_query_push_node(q, &cap, KHO_QUERY_TERM, false, &words[k], 1) :
					index_query_push_node(q, &cap, KHO_QUERY_PHRASE, false, tokens, 2);
			free(words[k]);
		}
	}
	if (rc || !changed) {
		kho_index_query_free(q);
		return rc ? kho_error_set(KHO_ENOMEM, "out of memory reading the query") : KHO_OK;
	}
	q->truncated = in->truncated;
	*out = q;
	return KHO_OK;
}


int kho_index_common_words(char ***out, size_t *out_count, kho_index *index, size_t limit)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db,
		"SELECT term FROM index_tier ORDER BY df DESC, term", -1, &st, NULL);
	if (src != SQLITE_OK)
		return kho_store_error(index->store, src, "reading the word lists");
	char **words = calloc(limit ? limit : 1, sizeof *words);
	size_t n = 0;
	int rc = words ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
	while (!rc && n < limit && (src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *term = (const char *)sqlite3_column_text(st, 0);
		/* folded words only: a search for an exact form uses its folded
		 * word's set of lessons (Vietnamese folds to ASCII) */
		bool ascii = term != NULL;
		for (const char *c = term; c && *c && ascii; c++)
			ascii = (unsigned char)*c < 0x80;
		if (ascii && !(words[n++] = strdup(term)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_ROW && src != SQLITE_DONE)
		rc = kho_store_error(index->store, src, "reading the word lists");
	sqlite3_finalize(st);
	if (rc) {
		kho_index_words_free(words, n);
		return rc;
	}
	*out = words;
	*out_count = n;
	return KHO_OK;
}

void kho_index_words_free(char **words, size_t count)
{
	for (size_t i = 0; words && i < count; i++)
		free(words[i]);
	free(words);
}
