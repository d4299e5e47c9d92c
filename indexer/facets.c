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

/* The visible pack versions with their pack ids, and each version's lessons
 * (from the index on lessons(pv), which holds their ids). */
static const char versions_sql[] =
	"SELECT v.id, v.pack_id FROM pack_versions v"
	" JOIN packs p ON p.id = v.pack_id AND p.current_version = v.version";
static const char version_lessons_sql[] = "SELECT id FROM lessons WHERE pv = ?1";

/* Every tag, grouped by value (the table's key order). */
static const char tags_sql[] =
	"SELECT kind, value, lesson FROM lesson_tags ORDER BY kind, value, lesson";

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

/* One pass over every indexed lesson's values: `fill` false counts them in
 * count[id], true writes them at values[count[id]++]. The packs come from
 * the visible versions, the tags from lesson_tags in its own order; no sort
 * of a million rows. */
static int read_values(index_facets *f, kho_index *index, uint32_t *count, uint64_t *indexed,
	bool fill)
{
	sqlite3_stmt *versions = NULL, *lessons = NULL, *tags = NULL;
	int src = sqlite3_prepare_v2(index->db, versions_sql, -1, &versions, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(index->db, version_lessons_sql, -1, &lessons, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(index->db, tags_sql, -1, &tags, NULL);
	int rc = KHO_OK;
	while (src == SQLITE_OK && !rc && (src = sqlite3_step(versions)) == SQLITE_ROW) {
		const char *pack = (const char *)sqlite3_column_text(versions, 1);
		int v = pack ? dict_id(f, "pack", pack) : -2;
		if (v == -1) {
			rc = KHO_ENOMEM;
			break;
		}
		sqlite3_bind_int64(lessons, 1, sqlite3_column_int64(versions, 0));
		while ((src = sqlite3_step(lessons)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(lessons, 0);
			if (id < 1 || id > f->max_id)
				continue;
			if (!fill) {
				indexed[id / 64] |= UINT64_C(1) << (id & 63);
				f->lessons++;
			}
			if (v >= 0 && fill)
				f->values[count[id]++] = (uint16_t)v;
			else if (v >= 0)
				count[id]++;
		}
		sqlite3_reset(lessons);
		src = src == SQLITE_DONE ? SQLITE_OK : src;
	}
	if (src == SQLITE_DONE)
		src = SQLITE_OK;
	char *kind = NULL, *value = NULL; /* copies of the last (kind, value) */
	int v = -2;
	while (src == SQLITE_OK && !rc) {
		if ((src = sqlite3_step(tags)) != SQLITE_ROW)
			break;
		src = SQLITE_OK;
		const char *k = (const char *)sqlite3_column_text(tags, 0);
		const char *val = (const char *)sqlite3_column_text(tags, 1);
		int64_t id = sqlite3_column_int64(tags, 2);
		if (!k || !val || id < 1 || id > f->max_id || !(indexed[id / 64] >> (id & 63) & 1))
			continue;
		if (!kind || strcmp(k, kind) || strcmp(val, value)) {
			free(kind);
			free(value);
			kind = strdup(k);
			value = strdup(val);
			v = kind && value ? dict_id(f, k, val) : -1;
			if (v == -1) {
				rc = KHO_ENOMEM;
				break;
			}
		}
		if (v >= 0 && fill)
			f->values[count[id]++] = (uint16_t)v;
		else if (v >= 0)
			count[id]++;
	}
	free(kind);
	free(value);
	if (src == SQLITE_DONE)
		src = SQLITE_OK;
	sqlite3_finalize(versions);
	sqlite3_finalize(lessons);
	sqlite3_finalize(tags);
	if (rc)
		return kho_error_set(rc, "out of memory reading lesson facets");
	return src == SQLITE_OK ? KHO_OK : kho_store_error(index->store, src, "reading lesson facets");
}

static int load(index_facets **out, kho_index *index, int64_t generation)
{
	index_facets *f = calloc(1, sizeof *f);
	uint32_t *count = NULL;
	uint64_t *indexed = NULL;
	int64_t max_id = 0;
	if (!f)
		return kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
	f->generation = generation;
	int rc = index_query_int(&max_id, index, "SELECT max(lesson) FROM index_docs");
	if (rc)
		goto fail;
	if (max_id < 0 || max_id > INT32_MAX) {
		rc = kho_error_set(KHO_ECORRUPT, "lesson id %lld out of range", (long long)max_id);
		goto fail;
	}
	f->max_id = max_id;
	f->n_words = (size_t)max_id / 64 + 1;
	f->start = calloc((size_t)max_id + 2, sizeof *f->start);
	count = calloc((size_t)max_id + 2, sizeof *count);
	indexed = calloc(f->n_words, sizeof *indexed);
	if (!f->start || !count || !indexed) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
		goto fail;
	}
	/* count, lay out (start[id] = where lesson id's values begin), fill */
	if ((rc = read_values(f, index, count, indexed, false)))
		goto fail;
	uint64_t total = 0;
	for (int64_t id = 0; id <= max_id; id++) {
		f->start[id] = (uint32_t)total;
		total += count[id];
		count[id] = f->start[id];
	}
	f->start[max_id + 1] = (uint32_t)total;
	if (total > UINT32_MAX || !(f->values = malloc((total ? total : 1) * sizeof *f->values))) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory reading lesson facets");
		goto fail;
	}
	f->n_values = (size_t)total;
	if ((rc = read_values(f, index, count, indexed, true)))
		goto fail;
	size_t max_bytes = index->facet_bits_max ? index->facet_bits_max : BITS_BYTES;
	if (f->n_dict && f->n_dict * f->n_words <= max_bytes / sizeof *f->bits &&
	    (f->bits = calloc(f->n_dict * f->n_words, sizeof *f->bits))) {
		for (int64_t id = 1; id <= max_id; id++)
			for (uint32_t i = f->start[id]; i < f->start[id + 1]; i++)
				f->bits[f->values[i] * f->n_words + (size_t)id / 64] |=
					UINT64_C(1) << (id & 63);
	}
	free(count);
	free(indexed);
	*out = f;
	return KHO_OK;

fail:
	free(count);
	free(indexed);
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
