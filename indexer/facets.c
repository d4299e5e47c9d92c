/*
 * facets.c — the total and the facet counts of a search without joining
 * every match to the store's tables. What a facet needs of a lesson (its pack
 * and its grade and subject tags) is read once into memory, as a small list
 * of numbers per lesson id, and read again only when the index changes
 * (index_meta's `generation`). A search then takes the set of matching
 * lessons (matches.c) and counts.
 *
 * Memory: 4 bytes per lesson id up to the largest, plus 2 bytes per tag
 * (about 14 MB for a million lessons); and, when they fit in BITS_BYTES, a
 * bitset of lesson ids per value, with which filters and counts are ANDs and
 * bit counts over the set of matching lessons instead of a walk over it.
 */
#include "indexer-private.h"

#include <stdlib.h>
#include <string.h>

/* The facet values seen, numbered; a lesson's values are these numbers. */
typedef struct facet_value {
	char *kind;
	char *value;
} facet_value;

struct index_facets {
	int64_t generation;
	int64_t lessons;      /* how many are indexed */
	int64_t max_id;       /* lessons 1..max_id */
	uint32_t *start;      /* lesson id's values: values[start[id] .. start[id + 1]) */
	uint16_t *values;
	size_t n_values;
	facet_value *dict;    /* the distinct (kind, value) pairs */
	size_t n_dict, cap_dict;
	uint32_t *slots;      /* hash table of dict: entry number + 1, 0 empty */
	size_t cap_slots;     /* a power of two */
	uint64_t *bits;       /* per value, the bitset of its lessons (n_words each), or
	                       * NULL when they would take more than BITS_BYTES */
	size_t n_words;
};

/* Most distinct pack, grade and subject values counted. */
#define DICT_MAX 65535

/* Largest memory for the bitsets of every value; past it, counting goes
 * lesson by lesson. */
#define BITS_BYTES (32u << 20)

/* Lesson ids with their values, in lesson order: the pack first. */
static const char load_sql[] =
	"SELECT d.lesson, 'pack', v.pack_id FROM index_docs d"
	"  JOIN lessons l ON l.id = d.lesson JOIN pack_versions v ON v.id = l.pv"
	" UNION ALL SELECT t.lesson, t.kind, t.value FROM lesson_tags t"
	"  JOIN index_docs d ON d.lesson = t.lesson"
	" ORDER BY 1";

void index_facets_free(index_facets *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_dict; i++) {
		free(f->dict[i].kind);
		free(f->dict[i].value);
	}
	free(f->dict);
	free(f->slots);
	free(f->start);
	free(f->values);
	free(f->bits);
	free(f);
}

static uint64_t pair_hash(const char *kind, const char *value)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a over kind, a NUL, value */
	for (const char *c = kind; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211u;
	h *= 1099511628211u;
	for (const char *c = value; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211u;
	return h;
}

/* The slot of (kind, value) in the dictionary's hash table: its entry, or
 * the empty slot where it goes. */
static uint32_t *dict_slot(const index_facets *f, const char *kind, const char *value)
{
	for (size_t i = pair_hash(kind, value) & (f->cap_slots - 1);; i = (i + 1) & (f->cap_slots - 1)) {
		uint32_t *slot = &f->slots[i];
		if (!*slot || (!strcmp(f->dict[*slot - 1].value, value) &&
			       !strcmp(f->dict[*slot - 1].kind, kind)))
			return slot;
	}
}

/* The number of (kind, value), added to the dictionary when new; -1 when
 * out of memory, -2 past DICT_MAX distinct values (which facets then leave
 * out: a pack may name subjects without limit). */
static int dict_id(index_facets *f, const char *kind, const char *value)
{
	if (2 * (f->n_dict + 1) > f->cap_slots) {
		size_t cap = f->cap_slots ? 2 * f->cap_slots : 64;
		uint32_t *slots = calloc(cap, sizeof *slots), *old = f->slots;
		if (!slots)
			return -1;
		f->slots = slots;
		f->cap_slots = cap;
		for (size_t i = 0; i < f->n_dict; i++)
			*dict_slot(f, f->dict[i].kind, f->dict[i].value) = (uint32_t)i + 1;
		free(old);
	}
	uint32_t *slot = dict_slot(f, kind, value);
	if (*slot)
		return (int)*slot - 1;
	if (f->n_dict >= DICT_MAX)
		return -2;
	if (f->n_dict == f->cap_dict) {
		size_t cap = f->cap_dict ? 2 * f->cap_dict : 16;
		facet_value *d = realloc(f->dict, cap * sizeof *d);
		if (!d)
			return -1;
		f->dict = d;
		f->cap_dict = cap;
	}
	facet_value *d = &f->dict[f->n_dict];
	d->kind = strdup(kind);
	d->value = strdup(value);
	if (!d->kind || !d->value) {
		free(d->kind);
		free(d->value);
		return -1;
	}
	*slot = (uint32_t)++f->n_dict;
	return (int)f->n_dict - 1;
}

static int load(index_facets **out, kho_index *index, int64_t generation)
{
	index_facets *f = calloc(1, sizeof *f);
	sqlite3_stmt *st = NULL;
	int64_t max_id = 0;
	int rc = KHO_OK;
	if (!f)
		return kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
	f->generation = generation;
	int src = sqlite3_prepare_v2(index->db, "SELECT max(lesson) FROM index_docs", -1, &st, NULL);
	if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
		max_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (src != SQLITE_ROW) {
		rc = kho_store_error(index->store, src, "reading lesson facets");
		goto fail;
	}
	if (max_id < 0 || max_id > INT32_MAX) {
		rc = kho_error_set(KHO_ECORRUPT, "lesson id %lld out of range", (long long)max_id);
		goto fail;
	}
	f->max_id = max_id;
	f->start = calloc((size_t)max_id + 2, sizeof *f->start);
	size_t cap = (size_t)max_id * 3 + 16;
	f->values = malloc(cap * sizeof *f->values);
	if (!f->start || !f->values) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
		goto fail;
	}
	if ((src = sqlite3_prepare_v2(index->db, load_sql, -1, &st, NULL)) != SQLITE_OK) {
		rc = kho_store_error(index->store, src, "reading lesson facets");
		goto fail;
	}
	int64_t filled = 0; /* start[] is set for ids up to this one */
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *value = (const char *)sqlite3_column_text(st, 2);
		if (id < 1 || id > max_id || id < filled || !kind || !value)
			continue;
		if (id > filled)
			f->lessons++;
		for (; filled < id; filled++)
			f->start[filled + 1] = (uint32_t)f->n_values;
		int v = dict_id(f, kind, value);
		if (v == -2)
			continue;
		if (v < 0) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
			goto fail;
		}
		if (f->n_values == cap) {
			uint16_t *grown = 2 * cap > UINT32_MAX ? NULL :
				realloc(f->values, 2 * cap * sizeof *grown);
			if (!grown) {
				rc = kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
				goto fail;
			}
			f->values = grown;
			cap *= 2;
		}
		f->values[f->n_values++] = (uint16_t)v;
	}
	if (src != SQLITE_DONE) {
		rc = kho_store_error(index->store, src, "reading lesson facets");
		goto fail;
	}
	for (; filled <= max_id; filled++)
		f->start[filled + 1] = (uint32_t)f->n_values;
	sqlite3_finalize(st);
	f->n_words = (size_t)max_id / 64 + 1;
	size_t max_bytes = index->facet_bits_max ? index->facet_bits_max : BITS_BYTES;
	if (f->n_dict && f->n_dict * f->n_words <= max_bytes / sizeof *f->bits &&
	    (f->bits = calloc(f->n_dict * f->n_words, sizeof *f->bits))) {
		for (int64_t id = 1; id <= max_id; id++)
			for (uint32_t i = f->start[id]; i < f->start[id + 1]; i++)
				f->bits[f->values[i] * f->n_words + (size_t)id / 64] |=
					UINT64_C(1) << (id & 63);
	}
	*out = f;
	return KHO_OK;

fail:
	sqlite3_finalize(st);
	index_facets_free(f);
	return rc;
}

int index_facets_current(index_facets **out, kho_index *index)
{
	int64_t generation = 0;
	int rc = index_generation(&generation, index);
	if (rc)
		return rc;
	if (!index->facets || index->facets->generation != generation) {
		index_facets *fresh = NULL;
		if ((rc = load(&fresh, index, generation)))
			return rc;
		index_facets_free(index->facets);
		index->facets = fresh;
	}
	*out = index->facets;
	return KHO_OK;
}

int64_t index_facets_lessons(const index_facets *f)
{
	return f->lessons;
}

int64_t index_facets_max_id(const index_facets *f)
{
	return f->max_id;
}

int64_t index_facets_generation(const index_facets *f)
{
	return f->generation;
}

int index_facets_value(const index_facets *f, const char *kind, const char *value)
{
	if (!value || !*value)
		return -1;
	if (!f->cap_slots)
		return -2;
	uint32_t *slot = dict_slot(f, kind, value);
	return *slot ? (int)*slot - 1 : -2;
}

bool index_facets_has(const index_facets *f, int64_t id, int v)
{
	if (v == -1)
		return true;
	if (id < 1 || id > f->max_id)
		return false;
	for (uint32_t i = f->start[id]; i < f->start[id + 1]; i++)
		if (f->values[i] == v)
			return true;
	return false;
}

static int facet_order(const void *pa, const void *pb)
{
	const kho_search_facet *a = pa, *b = pb;
	int c = strcmp(a->kind, b->kind);
	if (c)
		return c;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->value, b->value);
}

/* Fills the result's facets from the counts per dictionary number. */
static int put_facets(kho_search_result *result, const index_facets *f, const int64_t *counts)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_dict; i++)
		n += counts[i] > 0;
	if (n == 0)
		return KHO_OK;
	result->facets = calloc(n, sizeof *result->facets);
	if (!result->facets)
		return kho_error_set(KHO_ENOMEM, "out of memory counting facets");
	for (size_t i = 0; i < f->n_dict; i++) {
		if (counts[i] == 0)
			continue;
		kho_search_facet *out = &result->facets[result->n_facets++];
		out->kind = strdup(f->dict[i].kind);
		out->value = strdup(f->dict[i].value);
		out->count = counts[i];
		if (!out->kind || !out->value)
			return kho_error_set(KHO_ENOMEM, "out of memory counting facets");
	}
	qsort(result->facets, result->n_facets, sizeof *result->facets, facet_order);
	return KHO_OK;
}

void index_facets_filter(index_filter *out, const index_facets *f, const kho_search_query *q)
{
	out->grade = index_facets_value(f, "grade", q->grade);
	out->subject = index_facets_value(f, "subject", q->subject);
	out->pack = index_facets_value(f, "pack", q->pack);
	out->none = out->grade == -2 || out->subject == -2 || out->pack == -2;
}

bool index_facets_pass(const index_facets *f, const index_filter *filter, int64_t id)
{
	return !filter->none && id >= 1 && id <= f->max_id && f->start[id] < f->start[id + 1] &&
		index_facets_has(f, id, filter->grade) && index_facets_has(f, id, filter->subject) &&
		index_facets_has(f, id, filter->pack);
}

int index_facets_count(kho_search_result *result, kho_index *index, index_facets *f,
	const kho_query *query, const kho_search_query *q)
{
	int rc = KHO_OK;
	result->total = 0;
	index_filter filter;
	index_facets_filter(&filter, f, q);
	if (filter.none)
		return KHO_OK;

	uint64_t *set = NULL;
	size_t n_words = 0;
	int64_t *counts = calloc(f->n_dict + 1, sizeof *counts);
	if (!counts)
		return kho_error_set(KHO_ENOMEM, "out of memory counting facets");
	rc = index_matches(&set, &n_words, index, query, f->generation, f->max_id);
	if (!rc && f->bits && n_words == f->n_words) {
		/* with a bitset per value: the filters and the counts are ANDs */
		int filters[] = { filter.grade, filter.subject, filter.pack };
		for (size_t k = 0; k < 3; k++)
			for (size_t w = 0; filters[k] >= 0 && w < n_words; w++)
				set[w] &= f->bits[(size_t)filters[k] * n_words + w];
		for (size_t w = 0; w < n_words; w++)
			result->total += __builtin_popcountll(set[w]);
		/* few matches: their values one by one cost less than an AND per value */
		bool few = (size_t)result->total * 8 < f->n_dict * n_words;
		for (size_t v = 0; !few && result->total && v < f->n_dict; v++) {
			const uint64_t *bits = f->bits + v * n_words;
			for (size_t w = 0; w < n_words; w++)
				counts[v] += __builtin_popcountll(set[w] & bits[w]);
		}
		for (size_t w = 0; few && w < n_words; w++)
			for (uint64_t bits = set[w]; bits; bits &= bits - 1) {
				int64_t id = (int64_t)(w * 64 + (size_t)__builtin_ctzll(bits));
				for (uint32_t i = f->start[id]; i < f->start[id + 1]; i++)
					counts[f->values[i]]++;
			}
		n_words = 0; /* counted */
	}
	for (size_t w = 0; !rc && w < n_words; w++) {
		for (uint64_t bits = set[w]; bits; bits &= bits - 1) {
			int64_t id = (int64_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			if (!index_facets_pass(f, &filter, id))
				continue;
			result->total++;
			for (uint32_t i = f->start[id]; i < f->start[id + 1]; i++)
				counts[f->values[i]]++;
		}
	}
	if (!rc)
		rc = put_facets(result, f, counts);
	free(set);
	free(counts);
	return rc;
}
