/*
 * matches.c — the set of lessons a query matches, as a bitset over lesson
 * ids, for counting them (facets.c). A query matches a lesson when one of its
 * positive words or phrases does and none of its negated ones does (the
 * nodes that only rank, bigrams and exact forms, add nothing). Each node's
 * lessons come from FTS5 (its rowids, without ranking), at tens of
 * nanoseconds a lesson; the set of a node in CACHE_MIN_LESSONS lessons or
 * more (or an eighth of them) is kept in memory for the next searches, up to
 * CACHE_BYTES in all (least recently used dropped first) and until the index
 * changes.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_MIN_LESSONS 2000
#define CACHE_BYTES (16u << 20)

typedef struct cached_set {
	char *expr;        /* the node's FTS5 expression */
	uint64_t *bits;
	size_t n_words;
	uint64_t used;     /* search number of the last use */
} cached_set;

struct index_match_cache {
	int64_t generation;
	int64_t max_id;
	cached_set *sets;
	size_t n, cap, bytes;
	uint64_t clock;
};

static void drop_set(index_match_cache *c, size_t i)
{
	c->bytes -= c->sets[i].n_words * sizeof(uint64_t);
	free(c->sets[i].expr);
	free(c->sets[i].bits);
	c->sets[i] = c->sets[--c->n];
}

void index_match_cache_free(index_match_cache *c)
{
	if (!c)
		return;
	while (c->n)
		drop_set(c, 0);
	free(c->sets);
	free(c);
}

/* The cache for the index as it is now: emptied when it changed. */
static index_match_cache *cache_for(kho_index *index, int64_t generation, int64_t max_id)
{
	index_match_cache *c = index->match_cache;
	if (c && (c->generation != generation || c->max_id != max_id)) {
		while (c->n)
			drop_set(c, 0);
	}
	if (!c && (c = calloc(1, sizeof *c)))
		index->match_cache = c;
	if (c) {
		c->generation = generation;
		c->max_id = max_id;
		c->clock++;
	}
	return c;
}

/* Keeps a copy of `bits` as the set of `expr`; quietly does nothing when
 * memory is short (the cache is only an optimisation). */
static void remember(index_match_cache *c, const char *expr, const uint64_t *bits, size_t n_words)
{
	size_t bytes = n_words * sizeof *bits;
	if (bytes > CACHE_BYTES / 4)
		return;
	while (c->n && c->bytes + bytes > CACHE_BYTES) {
		size_t oldest = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->sets[i].used < c->sets[oldest].used)
				oldest = i;
		drop_set(c, oldest);
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		cached_set *sets = realloc(c->sets, cap * sizeof *sets);
		if (!sets)
			return;
		c->sets = sets;
		c->cap = cap;
	}
	cached_set s = { strdup(expr), malloc(bytes), n_words, c->clock };
	if (!s.expr || !s.bits) {
		free(s.expr);
		free(s.bits);
		return;
	}
	memcpy(s.bits, bits, bytes);
	c->sets[c->n++] = s;
	c->bytes += bytes;
}

static const cached_set *recall(index_match_cache *c, const char *expr)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (!strcmp(c->sets[i].expr, expr)) {
			c->sets[i].used = c->clock;
			return &c->sets[i];
		}
	return NULL;
}

/* The lessons of one node into `bits` (cleared first). */
static int walk(kho_index *index, const char *expr, uint64_t *bits, size_t n_words,
	int64_t max_id, int64_t *count)
{
	memset(bits, 0, n_words * sizeof *bits);
	*count = 0;
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db,
		"SELECT rowid FROM lesson_fts WHERE lesson_fts MATCH ?1", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
		while ((src = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);
			if (id < 1 || id > max_id) {
				src = SQLITE_CORRUPT;
				break;
			}
			bits[id >> 6] |= UINT64_C(1) << (id & 63);
			(*count)++;
		}
	}
	sqlite3_finalize(st);
	if (src == SQLITE_CORRUPT)
		return kho_error_set(KHO_ECORRUPT, "the search index holds a lesson the store does not"
			" list; rebuild the index");
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(index->store, src, "counting matches");
}

int index_node_set(const uint64_t **out, uint64_t *scratch, kho_index *index,
	const kho_query_node *node, int64_t generation, int64_t max_id)
{
	size_t n_words = (size_t)max_id / 64 + 1;
	index_match_cache *cache = cache_for(index, generation, max_id);
	char *expr = NULL;
	int rc = kho_index_query_node_expression(&expr, node);
	if (rc)
		return rc;
	const cached_set *known = recall(cache, expr);
	*out = known ? known->bits : scratch;
	if (!known) {
		int64_t count = 0;
		rc = walk(index, expr, scratch, n_words, max_id, &count);
		if (!rc && cache && (count >= CACHE_MIN_LESSONS || count >= max_id / 8))
			remember(cache, expr, scratch, n_words);
	}
	free(expr);
	return rc;
}

int index_matches(uint64_t **out, size_t *out_words, kho_index *index, const kho_query *query,
	int64_t generation, int64_t max_id)
{
	size_t n_words = (size_t)max_id / 64 + 1;
	uint64_t *set = calloc(n_words, sizeof *set), *one = malloc(n_words * sizeof *one);
	int rc = set && one ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory counting matches");
	/* positive nodes first, then the negated ones taken out */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (size_t i = 0; i < query->n_nodes && !rc; i++) {
			const kho_query_node *node = &query->nodes[i];
			if (node->negated != (pass == 1) || (!node->negated &&
				(node->kind == KHO_QUERY_BIGRAM || node->kind == KHO_QUERY_EXACT)))
				continue;
			const uint64_t *bits = NULL;
			rc = index_node_set(&bits, one, index, node, generation, max_id);
			for (size_t w = 0; !rc && w < n_words; w++)
				set[w] = pass == 0 ? set[w] | bits[w] : set[w] & ~bits[w];
		}
	}
	free(one);
	if (rc) {
		free(set);
		return rc;
	}
	*out = set;
	*out_words = n_words;
	return KHO_OK;
}
