/*
 * snippet.c — the piece of a lesson's text shown under its title, with the
 * query's words marked, made from the stored text (FTS5's snippet() looks
 * every word of the query up in the index again for each hit, which costs
 * more than the search itself once the index has several segments).
 *
 * The text is tokenized as FTS5 tokenizes it (folded forms); a position
 * matches a word of the query when its folded form is the word (or begins
 * with it, for the word being typed), and a phrase where its words follow one
 * another. The window of SNIPPET_TOKENS tokens shown is the one holding the
 * most different words and phrases of the query, then the most matches, then
 * the earliest; it starts a few tokens before its first match when it can.
 * The text of the window is copied as written (with what precedes the first
 * word or follows the last when the window reaches them), matches between
 * U+0002 and U+0003 (kho_index_snippet_html() turns them into <mark>), with
 * "…" where the window cuts the text.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

/* Tokens before the first match of the window, when the text has them and
 * the window keeps its matches. */
#define LEAD_TOKENS 3

typedef struct snip_token {
	uint32_t start, end; /* bytes of the original text */
	uint32_t form, len;  /* the folded form, in the forms buffer */
	uint64_t hits;       /* bit i % 64: node i of the query matches here */
	bool marked;
} snip_token;

typedef struct snippet_state {
	snip_token *tok;
	size_t n, cap;
	char *forms;
	size_t n_forms, cap_forms;
	int rc;
} snippet_state;

static int keep(void *payload, int flags, const char *token, int len, int start, int end)
{
	snippet_state *st = payload;
	if (flags & KHO_TOKEN_COLOCATED)
		return 0;
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 256;
		snip_token *t = realloc(st->tok, cap * sizeof *t);
		if (!t)
			return st->rc = KHO_ENOMEM;
		st->tok = t;
		st->cap = cap;
	}
	if (st->n_forms + (size_t)len > st->cap_forms) {
		size_t cap = st->cap_forms ? 2 * st->cap_forms : 2048;
		while (cap < st->n_forms + (size_t)len)
			cap *= 2;
		char *f = realloc(st->forms, cap);
		if (!f)
			return st->rc = KHO_ENOMEM;
		st->forms = f;
		st->cap_forms = cap;
	}
	memcpy(st->forms + st->n_forms, token, (size_t)len);
	st->tok[st->n++] = (snip_token){ (uint32_t)start, (uint32_t)end, (uint32_t)st->n_forms,
		(uint32_t)len, 0, false };
	st->n_forms += (size_t)len;
	return 0;
}

/* Whether the node is one that snippets mark: a positive word, phrase or
 * prefix (bigrams and exact forms mark nothing their words do not). */
static bool marks(const kho_query_node *node)
{
	return !node->negated && node->n_tokens > 0 &&
		(node->kind == KHO_QUERY_TERM || node->kind == KHO_QUERY_PHRASE ||
		 node->kind == KHO_QUERY_PREFIX);
}

static bool token_is(const snippet_state *st, size_t at, const char *word, bool prefix)
{
	size_t n = strlen(word);
	const snip_token *t = &st->tok[at];
	return (prefix ? t->len >= n : t->len == n) && !memcmp(st->forms + t->form, word, n);
}

/* Marks where each node of the query matches. */
static void find_matches(snippet_state *st, const kho_query *query)
{
	for (size_t i = 0; i < query->n_nodes; i++) {
		const kho_query_node *node = &query->nodes[i];
		if (!marks(node))
			continue;
		for (size_t p = 0; p + node->n_tokens <= st->n; p++) {
			size_t t = 0;
			while (t < node->n_tokens && token_is(st, p + t, node->tokens[t],
					node->kind == KHO_QUERY_PREFIX && t + 1 == node->n_tokens))
				t++;
			if (t < node->n_tokens)
				continue;
			st->tok[p].hits |= UINT64_C(1) << (i % 64); /* a node's kind, for counting */
			for (t = 0; t < node->n_tokens; t++)
				st->tok[p + t].marked = true;
		}
	}
}

/* The first token of the window shown. */
static size_t best_window(const snippet_state *st, size_t width)
{
	size_t best = 0;
	int best_kinds = -1, best_marked = -1;
	for (size_t from = 0; from < st->n; from++) {
		if (!st->tok[from].marked)
			continue; /* windows worth showing start at a match */
		uint64_t kinds = 0;
		int marked = 0;
		for (size_t i = from; i < st->n && i < from + width; i++) {
			kinds |= st->tok[i].hits;
			marked += st->tok[i].marked;
		}
		int k = __builtin_popcountll(kinds);
		if (k > best_kinds || (k == best_kinds && marked > best_marked)) {
			best = from;
			best_kinds = k;
			best_marked = marked;
		}
	}
	if (best_kinds < 0)
		return 0; /* no match: the beginning */
	/* lead in, as far as the window keeps its matches */
	size_t last = best;
	for (size_t i = best; i < st->n && i < best + width; i++)
		if (st->tok[i].marked)
			last = i;
	size_t room = width - (last - best + 1), lead = LEAD_TOKENS;
	lead = lead < room ? lead : room;
	lead = lead < best ? lead : best;
	best -= lead;
	/* a window that would run past the end starts earlier */
	if (st->n > width && best + width > st->n)
		best = st->n - width;
	return best;
}

static void put(char **o, const char *s, size_t n)
{
	memcpy(*o, s, n);
	*o += n;
}

int index_snippet(char **out, const char *text, const kho_query *query, size_t width)
{
	*out = NULL;
	if (!text)
		text = "";
	size_t len = strlen(text);
	snippet_state st = { 0 };
	if (len > 0 && len < UINT32_MAX &&
	    kho_index_tokenize(text, len, KHO_TOKENIZE_QUERY, keep, &st) && !st.rc)
		st.rc = KHO_ENOMEM;
	int rc = st.rc;
	if (!rc && query)
		find_matches(&st, query);
	char *buf = NULL;
	if (!rc && !(buf = malloc(len + 2 * width + 2 * sizeof "…" + 1)))
		rc = KHO_ENOMEM;
	if (!rc) {
		char *o = buf;
		if (st.n > 0) {
			size_t from = best_window(&st, width);
			size_t to = from + width < st.n ? from + width : st.n; /* exclusive */
			if (from > 0)
				put(&o, "…", strlen("…"));
			else /* the text before the first word, as written */
				put(&o, text, st.tok[0].start);
			for (size_t i = from; i < to; i++) {
				const snip_token *t = &st.tok[i];
				if (i > from)
					put(&o, text + st.tok[i - 1].end, t->start - st.tok[i - 1].end);
				if (t->marked)
					*o++ = '\x02';
				put(&o, text + t->start, t->end - t->start);
				if (t->marked)
					*o++ = '\x03';
			}
			if (to < st.n)
				put(&o, "…", strlen("…"));
			else /* and after the last one */
				put(&o, text + st.tok[st.n - 1].end, len - st.tok[st.n - 1].end);
		}
		*o = '\0';
		*out = buf;
	}
	free(st.tok);
	free(st.forms);
	return rc ? kho_error_set(rc, "out of memory making a snippet") : KHO_OK;
}

bool index_snippet_has_match(const char *snippet)
{
	return snippet && strchr(snippet, '\x02');
}
