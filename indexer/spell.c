/*
 * spell.c — reading what a teacher meant when the letters typed are not the
 * words of the lessons. A phone or PC without a Vietnamese input method
 * leaves Telex or VNI keystrokes in the text: "tieengs vieejt" and
 * "tie61ng vie65t" both mean "tiếng việt". Their folded form (the form the
 * index holds) is what is left once the keys that add a mark are taken out,
 * so each unknown word of a query is read that way too, and the reading is
 * searched as well when the index knows it. A word that is no such thing
 * either is taken as misspelt: the query with the closest words of the index
 * (by edit distance) is offered back as "did you mean", not searched.
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
			dup = kho_index_query_same_node(&to->nodes[k], &from->nodes[i]);
		if (dup)
			from->nodes[kept++] = from->nodes[i]; /* freed with `from` */
		else
			to->nodes[to->n_nodes++] = from->nodes[i];
	}
	from->n_nodes = kept;
	return KHO_OK;
}

size_t kho_index_edit_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > lb + max || lb > la + max || la > 64 || lb > 64)
		return max + 1;
	/* Optimal string alignment distance: edits and swaps of neighbours. */
	size_t d[66][66];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t row_min = max + 1;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
				&& d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
			if (v < row_min)
				row_min = v;
		}
		if (row_min > max)
			return max + 1;
	}
	return d[la][lb];
}

int kho_index_query_expand(kho_query *q, const kho_vocabulary *vocab, char **suggestion)
{
	/* The plain words in the order typed, twice: as searched (an unknown
	 * word replaced by its Telex or VNI reading when the index knows that)
	 * and as suggested (also a misspelt word replaced by the closest known
	 * one). The searched text, parsed again, gives the read words their
	 * bigrams too ("tieng viet"). */
	*suggestion = NULL;
	size_t cap = 1;
	for (size_t i = 0; i < q->n_nodes; i++)
		if (q->nodes[i].kind == KHO_QUERY_TERM && q->nodes[i].n_tokens == 1)
			cap += strlen(q->nodes[i].tokens[0]) + 3; /* a correction may be longer */
	char *searched = malloc(cap), *suggested = malloc(cap), *reading = malloc(cap);
	int rc = KHO_OK;
	if (!searched || !suggested || !reading) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory reading the query");
		goto done;
	}
	/* The plain words, for their neighbours. */
	const char **words = calloc(q->n_nodes + 1, sizeof *words);
	size_t n_words = 0;
	if (!words) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory reading the query");
		goto done;
	}
	for (size_t i = 0; i < q->n_nodes; i++)
		if (q->nodes[i].kind == KHO_QUERY_TERM && !q->nodes[i].negated
			&& q->nodes[i].n_tokens == 1)
			words[n_words++] = q->nodes[i].tokens[0];
	size_t slen = 0, glen = 0;
	bool read = false, corrected = false;
	void *p = vocab->payload;
	for (size_t i = 0; i < n_words; i++) {
		const char *word = words[i], *search_as = word, *suggest_as = word;
		if (!vocab->known(p, word)) {
			if ((kho_index_telex_fold(reading, cap, word) && vocab->known(p, reading))
				|| (kho_index_vni_fold(reading, cap, word) && vocab->known(p, reading))) {
				search_as = suggest_as = reading;
				read = true;
			} else if (vocab->closest && vocab->closest(p, word, i ? words[i - 1] : NULL,
					i + 1 < n_words ? words[i + 1] : NULL, reading, cap)) {
				suggest_as = reading;
				corrected = true;
			}
		}
		size_t sn = strlen(search_as), gn = strlen(suggest_as);
		if (slen + sn + 2 > cap || glen + gn + 2 > cap)
			break;
		memcpy(searched + slen, search_as, sn);
		slen += sn;
		searched[slen++] = ' ';
		memcpy(suggested + glen, suggest_as, gn);
		glen += gn;
		suggested[glen++] = ' ';
	}
	free(words);
	searched[slen ? slen - 1 : 0] = '\0';
	suggested[glen ? glen - 1 : 0] = '\0';
	kho_query *extra = NULL;
	if (read && !(rc = kho_index_query_parse(&extra, searched, false)))
		rc = merge(q, extra);
	kho_index_query_free(extra);
	if (!rc && (read || corrected)) {
		*suggestion = suggested;
		suggested = NULL;
	}
done:
	free(searched);
	free(suggested);
	free(reading);
	return rc;
}
