/*
 * spell.c — reading what a teacher meant when the letters typed are not the
 * words of the lessons. A phone or PC without a Vietnamese input method
 * leaves Telex or VNI keystrokes in the text: "tieengs vieejt" and
 * "tie61ng vie65t" both mean "tiếng việt". Their folded form (the form the
 * index holds) is what is left once the keys that add a mark are taken out,
 * so each unknown word of a query is read that way too, and the reading is
 * searched as well when the index knows it.
 *
 * Telex keys: a doubled a/e/o (circumflex), w after a/o/u (breve, horn) or
 * alone (ư), dd (đ), and after the first vowel the tone keys s f r x j (and z,
 * no tone). VNI keys: the digits 1–9 after a letter (1–5 tones, 6 circumflex,
 * 7 horn, 8 breve, 9 đ). Vietnamese words never end in s f r x j, so removing
 * them after a vowel only ever changes what was typed as Telex.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

static bool is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static bool ascii_letters_digits(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

bool kho_index_telex_fold(char *out, size_t size, const char *word)
{
	size_t n = strlen(word), j = 0;
	if (n == 0 || n >= size || !ascii_letters_digits(word))
		return false;
	bool seen_vowel = false, doubled = false;
	for (size_t i = 0; i < n; i++) {
		char c = word[i], prev = j ? out[j - 1] : 0;
		if (c >= '0' && c <= '9')
			return false; /* not Telex */
		if (c == 'w') {
			if (prev == 'a' || prev == 'o' || prev == 'u')
				continue; /* ă, ơ, ư: the mark folds away */
			out[j++] = 'u'; /* w alone is ư */
			seen_vowel = true;
			continue;
		}
		if (c == 'd' && j == 1 && prev == 'd')
			continue; /* dd: đ */
		if (seen_vowel && (c == 's' || c == 'f' || c == 'r' || c == 'x' || c == 'j' || c == 'z'))
			continue; /* a tone key */
		if ((c == 'a' || c == 'e' || c == 'o') && c == prev && !doubled) {
			doubled = true; /* â, ê, ô */
			continue;
		}
		if (is_vowel(c))
			seen_vowel = true;
		out[j++] = c;
	}
	out[j] = '\0';
	return strcmp(out, word) != 0;
}

bool kho_index_vni_fold(char *out, size_t size, const char *word)
{
	size_t n = strlen(word), j = 0;
	if (n == 0 || n >= size || !ascii_letters_digits(word))
		return false;
	bool letter = false;
	for (size_t i = 0; i < n; i++) {
		char c = word[i];
		if (c >= '1' && c <= '9' && letter)
			continue; /* a mark key */
		if (c >= '0' && c <= '9')
			return false; /* a number, not VNI */
		letter = true;
		out[j++] = c;
	}
	out[j] = '\0';
	return strcmp(out, word) != 0;
}

static bool same_tokens(const kho_query_node *a, const kho_query_node *b)
{
	if (a->kind != b->kind || a->negated != b->negated || a->n_tokens != b->n_tokens)
		return false;
	for (size_t i = 0; i < a->n_tokens; i++)
		if (strcmp(a->tokens[i], b->tokens[i]))
			return false;
	return true;
}

/* Moves the nodes of `from` that `to` does not have yet into `to`. */
static int merge(kho_query *to, kho_query *from)
{
	kho_query_node *nodes = realloc(to->nodes, (to->n_nodes + from->n_nodes) * sizeof *nodes);
	if (!nodes)
		return kho_error_set(KHO_ENOMEM, "out of memory reading the query");
	to->nodes = nodes;
	size_t kept = 0;
	for (size_t i = 0; i < from->n_nodes; i++) {
		bool dup = false;
		for (size_t k = 0; !dup && k < to->n_nodes; k++)
			dup = same_tokens(&to->nodes[k], &from->nodes[i]);
		if (dup)
			from->nodes[kept++] = from->nodes[i]; /* freed with `from` */
		else
			to->nodes[to->n_nodes++] = from->nodes[i];
	}
	from->n_nodes = kept;
	return KHO_OK;
}

int kho_index_query_expand(kho_query *q, bool (*known)(void *payload, const char *token),
	void *payload)
{
	/* The plain words in the order typed, each replaced by its reading when
	 * the index knows the reading and not the word; parsed again, that gives
	 * the read words their bigrams too ("tieng viet"). */
	size_t cap = 1;
	for (size_t i = 0; i < q->n_nodes; i++)
		if (q->nodes[i].kind == KHO_QUERY_TERM && q->nodes[i].n_tokens == 1)
			cap += strlen(q->nodes[i].tokens[0]) + 1;
	char *text = malloc(cap), *reading = malloc(cap);
	if (!text || !reading) {
		free(text);
		free(reading);
		return kho_error_set(KHO_ENOMEM, "out of memory reading the query");
	}
	size_t len = 0;
	bool changed = false;
	for (size_t i = 0; i < q->n_nodes; i++) {
		const kho_query_node *node = &q->nodes[i];
		if (node->kind != KHO_QUERY_TERM || node->negated || node->n_tokens != 1)
			continue;
		const char *word = node->tokens[0];
		if (!known(payload, word) && ((kho_index_telex_fold(reading, cap, word)
				&& known(payload, reading)) || (kho_index_vni_fold(reading, cap, word)
				&& known(payload, reading)))) {
			word = reading;
			changed = true;
		}
		size_t n = strlen(word);
		memcpy(text + len, word, n);
		len += n;
		text[len++] = ' ';
	}
	text[len] = '\0';
	int rc = KHO_OK;
	kho_query *read = NULL;
	if (changed && !(rc = kho_index_query_parse(&read, text, false)))
		rc = merge(q, read);
	kho_index_query_free(read);
	free(text);
	free(reading);
	return rc;
}
