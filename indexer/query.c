/*
 * query.c — the project's own search query parser. What a teacher types is
 * never handed to FTS5 as syntax: it is read into a small syntax tree
 * (words, "phrases", -exclusions) whose words are folded by the kho
 * tokenizer, and the tree is written back out as an FTS5 expression in which
 * every term is a double-quoted string of folded tokens. FTS5 cannot fail to
 * parse that, whatever bytes came in.
 *
 * Terms are joined with OR, not AND, so that a long question still finds the
 * lessons that share the most words with it: bm25 ranks documents matching
 * more (and rarer) terms higher. Two adjacent words are also added as a
 * phrase, so that a multi-syllable Vietnamese word (học sinh, phân số) scores
 * above documents that hold its syllables apart. While a query is being
 * typed, a last word with no space after it is also looked for as a prefix. The
 * grammar is in INDEX.md; later syntax (column filters) adds node kinds, not
 * a new parser.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- building */

typedef struct builder {
	kho_query *query;
	size_t cap;      /* allocated nodes */
	size_t terms;    /* words and phrases taken so far */
	size_t bigrams;  /* bigrams added so far */
	int rc;          /* sticky: the first error */
} builder;

/* Tokens of one word or phrase while they are collected. */
typedef struct token_list {
	char **items;
	size_t n;
	size_t max;      /* tokens beyond this are ignored */
	int rc;
} token_list;

static int collect_token(void *payload, int flags, const char *tok, int len, int start, int end)
{
	(void)start;
	(void)end;
	token_list *list = payload;
	if ((flags & KHO_TOKEN_COLOCATED) || len <= 0 || list->n >= list->max)
		return 0;
	char *copy = malloc((size_t)len + 1);
	if (!copy) {
		list->rc = KHO_ENOMEM;
		return 1;
	}
	memcpy(copy, tok, (size_t)len);
	copy[len] = '\0';
	list->items[list->n++] = copy;
	return 0;
}

static void free_tokens(char **tokens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(tokens[i]);
	free(tokens);
}

bool kho_index_query_same_node(const kho_query_node *a, const kho_query_node *b)
{
	if (a->kind != b->kind || a->negated != b->negated || a->n_tokens != b->n_tokens)
		return false;
	for (size_t i = 0; i < a->n_tokens; i++)
		if (strcmp(a->tokens[i], b->tokens[i]) != 0)
			return false;
	return true;
}

/* Adds a node that takes ownership of `tokens` (freed here when the node is
 * a duplicate or cannot be stored). */
static void add_node(builder *bld, kho_query_kind kind, bool negated, char **tokens, size_t n)
{
	if (bld->rc) {
		free_tokens(tokens, n);
		return;
	}
	kho_query *q = bld->query;
	kho_query_node node = { kind, negated, tokens, n };
	for (size_t i = 0; i < q->n_nodes; i++) {
		if (kho_index_query_same_node(&q->nodes[i], &node)) {
			free_tokens(tokens, n);
			return;
		}
	}
	if (q->n_nodes == bld->cap) {
		size_t cap = bld->cap ? bld->cap * 2 : 8;
		kho_query_node *nodes = realloc(q->nodes, cap * sizeof *nodes);
		if (!nodes) {
			bld->rc = KHO_ENOMEM;
			free_tokens(tokens, n);
			return;
		}
		q->nodes = nodes;
		bld->cap = cap;
	}
	q->nodes[q->n_nodes++] = node;
}

/* When a word or phrase was typed with accents, also looks for it with
 * exactly those accents, so that lessons spelling it that way rank first
 * (bán before bạn); typed without accents, it adds nothing. */
static void add_exact(builder *bld, const char *text, size_t len, char **folded, size_t n)
{
	token_list list = { NULL, 0, n, KHO_OK };
	list.items = calloc(n, sizeof *list.items);
	if (!list.items) {
		bld->rc = KHO_ENOMEM;
		return;
	}
	kho_index_tokenize(text, len, KHO_TOKENIZE_EXACT, collect_token, &list);
	bool differs = list.n == n;
	for (size_t i = 0; differs && i < n; i++)
		if (strcmp(list.items[i], folded[i]))
			break;
		else if (i == n - 1)
			differs = false;
	if (list.rc)
		bld->rc = list.rc;
	if (differs && !list.rc)
		add_node(bld, KHO_QUERY_EXACT, false, list.items, list.n);
	else
		free_tokens(list.items, list.n);
}

/* Folds `len` bytes of one word or phrase and adds it as a node. When it is
 * a plain word of one token, *single (if given) gets a copy of that token. */
static void add_item(builder *bld, bool phrase, bool negated, const char *text, size_t len,
	char **single)
{
	if (single)
		*single = NULL;
	if (bld->rc)
		return;
	if (bld->terms >= KHO_QUERY_MAX_TERMS) {
		bld->query->truncated = true;
		return;
	}
	token_list list = { NULL, 0, KHO_QUERY_MAX_PHRASE, KHO_OK };
	list.items = calloc(KHO_QUERY_MAX_PHRASE, sizeof *list.items);
	if (!list.items) {
		bld->rc = KHO_ENOMEM;
		return;
	}
	kho_index_tokenize(text, len, KHO_TOKENIZE_QUERY, collect_token, &list);
	if (list.rc) {
		bld->rc = list.rc;
		free_tokens(list.items, list.n);
		return;
	}
	if (list.n == 0) {
		free_tokens(list.items, 0);
		return; /* punctuation only: nothing to look for */
	}
	bld->terms++;
	if (single && !phrase && !negated && list.n == 1) {
		*single = strdup(list.items[0]);
		if (!*single)
			bld->rc = KHO_ENOMEM;
	}
	/* add_node takes the tokens: look for the exact form first, add it after */
	size_t before = bld->query->n_nodes;
	if (!negated)
		add_exact(bld, text, len, list.items, list.n);
	add_node(bld, phrase ? KHO_QUERY_PHRASE : KHO_QUERY_TERM, negated, list.items, list.n);
	kho_query *q = bld->query;
	if (q->n_nodes == before + 2) {
		kho_query_node exact = q->nodes[before];
		q->nodes[before] = q->nodes[before + 1];
		q->nodes[before + 1] = exact;
	}
}

/* Two single-token words typed next to each other, as a phrase. */
static void add_bigram(builder *bld, const char *first, const char *second)
{
	if (bld->rc || bld->bigrams >= KHO_QUERY_MAX_TERMS)
		return;
	char **tokens = calloc(2, sizeof *tokens);
	if (tokens) {
		tokens[0] = strdup(first);
		tokens[1] = strdup(second);
	}
	if (!tokens || !tokens[0] || !tokens[1]) {
		if (tokens)
			free_tokens(tokens, 2);
		bld->rc = KHO_ENOMEM;
		return;
	}
	bld->bigrams++;
	add_node(bld, KHO_QUERY_BIGRAM, false, tokens, 2);
}

/* The word being typed at the end of the query: as a prefix, and after
 * another word as the prefix of a two-word phrase ("phan s" → "phan s"*). */
static void add_prefixes(builder *bld, const char *before, const char *last)
{
	const char *words[2] = { before, last };
	for (int k = before ? 0 : 1; k < 2 && !bld->rc; k++) {
		size_t n = (size_t)(2 - k);
		if (n == 1 && strlen(last) < KHO_QUERY_MIN_PREFIX)
			continue;
		char **tokens = calloc(n, sizeof *tokens);
		bool ok = tokens != NULL;
		for (size_t i = 0; ok && i < n; i++)
			ok = (tokens[i] = strdup(words[(size_t)k + i])) != NULL;
		if (!ok) {
			if (tokens)
				free_tokens(tokens, n);
			bld->rc = KHO_ENOMEM;
			return;
		}
		add_node(bld, KHO_QUERY_PREFIX, false, tokens, n);
	}
}

/* ---------------------------------------------------------------- lexing */

static bool is_space(unsigned char c)
{
	return c <= 0x20 || c == 0x7F;
}

/* The length of a quotation mark at s: '"', or the curly “ and ” that phone
 * keyboards type instead; 0 for anything else. */
static size_t quote_at(const char *s, const char *end)
{
	if (*s == '"')
		return 1;
	if (end - s >= 3 && s[0] == '\xE2' && s[1] == '\x80' && (s[2] == '\x9C' || s[2] == '\x9D'))
		return 3;
	return 0;
}

int kho_index_query_parse(kho_query **out, const char *text, bool typing)
{
	builder bld = { NULL, 0, 0, 0, KHO_OK };
	bld.query = calloc(1, sizeof *bld.query);
	if (!bld.query)
		return kho_error_set(KHO_ENOMEM, "out of memory parsing the query");

	size_t len = text ? strnlen(text, KHO_QUERY_MAX_BYTES + 1) : 0;
	if (len > KHO_QUERY_MAX_BYTES) {
		len = KHO_QUERY_MAX_BYTES;
		bld.query->truncated = true;
	}
	const char *s = text, *end = text ? text + len : NULL;

	/* The previous item when it was a plain one-token word, for bigrams, and
	 * the one before it, for the prefix of the word being typed. */
	char *prev = NULL, *before_prev = NULL;
	while (s && s < end && !bld.rc) {
		if (is_space((unsigned char)*s)) {
			s++;
			continue;
		}
		bool negated = false;
		if (*s == '-') {
			s++;
			if (s == end || is_space((unsigned char)*s))
				continue; /* a lone '-' means nothing */
			negated = true;
		}
		size_t q = quote_at(s, end);
		if (q > 0) {
			const char *from = s + q;
			s = from;
			while (s < end && !(q = quote_at(s, end)))
				s++;
			add_item(&bld, true, negated, from, (size_t)(s - from), NULL);
			free(before_prev);
			free(prev);
			before_prev = prev = NULL;
			s += q; /* the closing quote; an unclosed one runs to the end */
			continue;
		}
		const char *from = s;
		while (s < end && !is_space((unsigned char)*s) && !quote_at(s, end))
			s++;
		char *single = NULL;
		add_item(&bld, false, negated, from, (size_t)(s - from), &single);
		if (prev && single)
			add_bigram(&bld, prev, single);
		free(before_prev);
		before_prev = single ? prev : NULL;
		if (!single)
			free(prev);
		prev = single;
	}
	/* Still typing: the query does not end with a space. */
	if (typing && prev && s == end && len > 0 && !is_space((unsigned char)text[len - 1]))
		add_prefixes(&bld, before_prev, prev);
	free(before_prev);
	free(prev);

	if (bld.rc) {
		kho_index_query_free(bld.query);
		return kho_error_set(bld.rc, "out of memory parsing the query");
	}
	*out = bld.query;
	return KHO_OK;
}

void kho_index_query_free(kho_query *query)
{
	if (!query)
		return;
	for (size_t i = 0; i < query->n_nodes; i++)
		free_tokens(query->nodes[i].tokens, query->nodes[i].n_tokens);
	free(query->nodes);
	free(query);
}

/* ------------------------------------------------------------ expression */

typedef struct strbuf {
	char *data;
	size_t len, cap;
	bool failed;
} strbuf;

static void sb_put(strbuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;
		while (cap < sb->len + n + 1)
			cap *= 2;
		char *data = realloc(sb->data, cap);
		if (!data) {
			sb->failed = true;
			return;
		}
		sb->data = data;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static void sb_str(strbuf *sb, const char *s)
{
	sb_put(sb, s, strlen(s));
}

/* A node as one FTS5 string: its tokens inside double quotes (a quote in a
 * token, which the tokenizer never produces, would be doubled). */
static void put_node(strbuf *sb, const kho_query_node *node)
{
	sb_put(sb, "\"", 1);
	for (size_t i = 0; i < node->n_tokens; i++) {
		if (i > 0)
			sb_put(sb, " ", 1);
		for (const char *t = node->tokens[i]; *t; t++) {
			if (*t == '"')
				sb_put(sb, "\"\"", 2);
			else
				sb_put(sb, t, 1);
		}
	}
	sb_put(sb, "\"", 1);
	if (node->kind == KHO_QUERY_PREFIX)
		sb_put(sb, "*", 1);
}

/* Whether FTS5 can look for a node: it indexes folded forms only. */
static bool in_fts5(const kho_query_node *node)
{
	return node->kind != KHO_QUERY_EXACT;
}

/* All nodes with the given negation, joined with OR. Returns how many. */
static size_t put_group(strbuf *sb, const kho_query *query, bool negated)
{
	size_t n = 0;
	for (size_t i = 0; i < query->n_nodes; i++) {
		if (query->nodes[i].negated != negated || !in_fts5(&query->nodes[i]))
			continue;
		if (n++ > 0)
			sb_str(sb, " OR ");
		put_node(sb, &query->nodes[i]);
	}
	return n;
}

int kho_index_query_expression(char **out, const kho_query *query)
{
	strbuf sb = { NULL, 0, 0, false };
	sb_put(&sb, "", 0);
	size_t positives = 0, negatives = 0;
	for (size_t i = 0; i < query->n_nodes; i++) {
		if (!in_fts5(&query->nodes[i]))
			continue;
		if (query->nodes[i].negated)
			negatives++;
		else
			positives++;
	}
	if (positives > 0) {
		/* NOT binds tighter than OR in FTS5: group each side. */
		sb_str(&sb, "(");
		put_group(&sb, query, false);
		sb_str(&sb, ")");
		if (negatives > 0) {
			sb_str(&sb, " NOT (");
			put_group(&sb, query, true);
			sb_str(&sb, ")");
		}
	}
	if (sb.failed) {
		free(sb.data);
		return kho_error_set(KHO_ENOMEM, "out of memory writing the query");
	}
	*out = sb.data;
	return KHO_OK;
}

int kho_index_query_node_expression(char **out, const kho_query_node *node)
{
	strbuf sb = { NULL, 0, 0, false };
	put_node(&sb, node);
	if (sb.failed) {
		free(sb.data);
		return kho_error_set(KHO_ENOMEM, "out of memory writing the query");
	}
	*out = sb.data;
	return KHO_OK;
}

int kho_index_query_build(char **out, const char *text, bool typing)
{
	kho_query *query = NULL;
	int rc = kho_index_query_parse(&query, text, typing);
	if (rc == KHO_OK)
		rc = kho_index_query_expression(out, query);
	kho_index_query_free(query);
	return rc;
}
