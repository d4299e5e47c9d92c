/*
 * tier-words.c — counting words in lesson text for the word lists (tier.c):
 * a map of the words being listed, each with its lesson count and a list of
 * its best lessons; one pass over lessons read from the store, tokenized as
 * FTS5 tokenizes them (exact forms too); and a full build's pass over every
 * lesson in two threads. Shared with tier.c through tier-private.h.
 */
#include "tier-private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- the words */

static inline uint64_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* A word's hash: its bytes taken four or eight at a time (a word of up to
 * eight bytes, most of them, in two loads that may overlap, which its
 * length tells apart), then mixed by multiplying. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint64_t k = 0x9E3779B97F4A7C15u;
	uint64_t h = len * k;
	if (len > 8) {
		for (; len > 8; p += 8, len -= 8)
			h = (h ^ load64(p)) * k;
		h = (h ^ load64(p + len - 8)) * k; /* the last eight, overlapping */
	} else if (len >= 4) {
		h = (h ^ (load32(p) | load32(p + len - 4) << 32)) * k;
	} else if (len > 0) {
		h = (h ^ (p[0] | (uint64_t)p[len / 2] << 8 | (uint64_t)p[len - 1] << 16)) * k;
	}
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9u;
	return h ^ (h >> 32);
}

/* A slot's tag: the hash's high half, never 0 (which marks an empty slot). */
static uint32_t tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1u;
}

/* memcmp() == 0 for the few bytes of a word, without a call. */
static inline bool same_bytes(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

size_t tier_map_slot(const tier_map *map, const char *s, size_t len)
{
	if (!map->cap)
		return TIER_NONE;
	uint64_t h = hash_bytes(s, len);
	uint32_t tag = tag_of(h);
	size_t head = len < TIER_HEAD ? len : TIER_HEAD;
	for (size_t i = h & (map->cap - 1);; i = (i + 1) & (map->cap - 1)) {
		const tier_hot *k = &map->hot[i];
		if (!k->tag)
			return TIER_NONE;
		if (k->tag == tag && k->len == len && same_bytes(k->head, s, head) &&
		    (len <= TIER_HEAD || !memcmp(map->slots[i].term + TIER_HEAD, s + TIER_HEAD,
			    len - TIER_HEAD)))
			return i;
	}
}

tier_word *tier_map_find(const tier_map *map, const char *s, size_t len)
{
	size_t i = tier_map_slot(map, s, len);
	return i == TIER_NONE ? NULL : &map->slots[i];
}

/* The free slot for a word of hash `h` not in the map. */
static size_t free_slot(const tier_map *map, uint64_t h)
{
	size_t i = h & (map->cap - 1);
	while (map->hot[i].tag)
		i = (i + 1) & (map->cap - 1);
	return i;
}

int tier_map_add(tier_map *map, const char *s, size_t len)
{
	if (tier_map_slot(map, s, len) != TIER_NONE)
		return KHO_OK;
	if (len > UINT32_MAX)
		return KHO_ENOMEM;
	if (2 * (map->n + 1) > map->cap) {
		tier_map grown = { .cap = map->cap ? 2 * map->cap : 1024, .n = map->n };
		grown.slots = calloc(grown.cap, sizeof *grown.slots);
		grown.hot = calloc(grown.cap, sizeof *grown.hot);
		if (!grown.slots || !grown.hot) {
			free(grown.slots);
			free(grown.hot);
			return KHO_ENOMEM;
		}
		for (size_t i = 0; i < map->cap; i++) {
			if (!map->hot[i].tag)
				continue;
			uint64_t h = hash_bytes(map->slots[i].term, map->slots[i].len);
			size_t j = free_slot(&grown, h);
			grown.slots[j] = map->slots[i];
			grown.hot[j] = map->hot[i];
		}
		free(map->slots);
		free(map->hot);
		*map = grown;
	}
	char *term = malloc(len + 1);
	if (!term)
		return KHO_ENOMEM;
	memcpy(term, s, len);
	term[len] = '\0';
	uint64_t h = hash_bytes(s, len);
	size_t i = free_slot(map, h);
	map->slots[i] = (tier_word){ .term = term, .len = len };
	map->hot[i] = (tier_hot){ .tag = tag_of(h), .len = (uint32_t)len };
	memcpy(map->hot[i].head, s, len < TIER_HEAD ? len : TIER_HEAD);
	map->n++;
	return KHO_OK;
}

void tier_map_free(tier_map *map)
{
	for (size_t i = 0; i < map->cap; i++) {
		free(map->slots[i].term);
		free(map->slots[i].best);
	}
	free(map->slots);
	free(map->hot);
	*map = (tier_map){ 0 };
}

/* ------------------------------------------------------ the best lessons */

/* Whether a is a better entry than b: more weight, then the older lesson. */
static bool better(index_tier_entry a, index_tier_entry b)
{
	return a.weight != b.weight ? a.weight > b.weight : a.lesson < b.lesson;
}

static void swap_entries(index_tier_entry *a, index_tier_entry *b)
{
	index_tier_entry t = *a;
	*a = *b;
	*b = t;
}

/* Moves the k best of the n distinct entries at `a` to a[0..k), in no
 * order (quickselect). */
static void select_best(index_tier_entry *a, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n;
	while (hi - lo > 1) {
		/* the median of three as the pivot, moved to a[lo] */
		uint32_t mid = lo + (hi - lo) / 2;
		if (better(a[mid], a[lo]))
			swap_entries(&a[mid], &a[lo]);
		if (better(a[hi - 1], a[lo]))
			swap_entries(&a[hi - 1], &a[lo]);
		if (better(a[hi - 1], a[mid]))
			swap_entries(&a[hi - 1], &a[mid]);
		swap_entries(&a[lo], &a[mid]);
		index_tier_entry pivot = a[lo];
		uint32_t store = lo + 1;
		for (uint32_t i = lo + 1; i < hi; i++)
			if (better(a[i], pivot))
				swap_entries(&a[i], &a[store++]);
		/* [lo+1, store) beat the pivot, [store, hi) do not: the pivot
		 * goes between them, at store - 1 */
		swap_entries(&a[lo], &a[store - 1]);
		uint32_t at = store - 1;
		if (at == k || at + 1 == k)
			return;
		if (k < at)
			hi = at;
		else
			lo = at + 1;
	}
}

/* Entries a word keeps before it cuts them to its INDEX_TIER_K best: cutting
 * every INDEX_TIER_K / 4 entries that pass the worst of the best costs a few
 * comparisons per entry, and the lessons that do not pass it (most, once a
 * word is in many) cost one; the lists take a quarter more memory than
 * INDEX_TIER_K entries would. */
#define TIER_KEPT (INDEX_TIER_K + INDEX_TIER_K / 4)

int tier_list_push(tier_word *w, index_tier_entry e)
{
	if (w->full && e.weight <= w->floor)
		return KHO_OK;
	if (w->cut && !better(e, w->worst))
		return KHO_OK;
	if (w->n == TIER_KEPT) {
		select_best(w->best, w->n, INDEX_TIER_K);
		w->n = INDEX_TIER_K;
		w->worst = w->best[0];
		for (uint32_t i = 1; i < w->n; i++)
			if (better(w->worst, w->best[i]))
				w->worst = w->best[i];
		w->cut = true;
		if (!better(e, w->worst))
			return KHO_OK;
	}
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? 2 * w->cap : 8;
		if (cap > TIER_KEPT)
			cap = TIER_KEPT;
		index_tier_entry *best = realloc(w->best, cap * sizeof *best);
		if (!best)
			return KHO_ENOMEM;
		w->best = best;
		w->cap = cap;
	}
	w->best[w->n++] = e;
	return KHO_OK;
}

int tier_entry_order(const void *pa, const void *pb)
{
	index_tier_entry a = *(const index_tier_entry *)pa, b = *(const index_tier_entry *)pb;
	return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

/* --------------------------------------------------------- reading text */

/* An exact form first seen in the lesson being read (a full build lists
 * common exact forms too, which FTS5's vocabulary does not hold). */
typedef struct tier_new_form {
	char *term;
	size_t len;
	float freq;
} tier_new_form;

/* A word's weight in a lesson, as the second thread of a full build passes
 * it on (the word's text stays valid until its map is freed). */
typedef struct tier_out {
	const char *term;
	uint32_t len, lesson;
	float weight;
} tier_out;

typedef struct tier_outs {
	tier_out *items;
	size_t n, cap;
} tier_outs;

typedef struct tier_pass {
	tier_map *map;
	tier_outs *out;      /* when set, weights go here instead of into lists */
	bool grow;           /* add exact forms of listed words not in the map */
	bool folded_listed;  /* the folded form at this position is in the map */
	tier_new_form *forms; /* this lesson's new exact forms */
	size_t n_forms, cap_forms;
	uint32_t seq;        /* this lesson's number in the pass */
	double weight;       /* of the column being read */
	size_t *touched;     /* the slots of this lesson's words */
	size_t n_touched, cap_touched;
	int64_t length;      /* tokens of this lesson */
	int rc;
} tier_pass;

static int on_token(void *payload, int flags, const char *token, int len, int start, int end)
{
	(void)start;
	(void)end;
	tier_pass *p = payload;
	/* growing, the map holds an exact form only with its folded word */
	if (p->grow && (flags & KHO_TOKEN_COLOCATED) && !p->folded_listed)
		return 0;
	size_t slot = tier_map_slot(p->map, token, (size_t)len);
	if (!(flags & KHO_TOKEN_COLOCATED)) {
		p->length++;
		p->folded_listed = slot != TIER_NONE;
	}
	/* an exact form is in no more lessons than its folded word: only those
	 * of listed words can reach min_df */
	if (slot == TIER_NONE && p->grow && (flags & KHO_TOKEN_COLOCATED) && p->folded_listed) {
		for (size_t i = 0; i < p->n_forms; i++)
			if (p->forms[i].len == (size_t)len && !memcmp(p->forms[i].term, token, (size_t)len)) {
				p->forms[i].freq += (float)p->weight;
				return 0;
			}
		if (p->n_forms == p->cap_forms) {
			size_t cap = p->cap_forms ? 2 * p->cap_forms : 16;
			tier_new_form *f = realloc(p->forms, cap * sizeof *f);
			if (!f)
				return p->rc = KHO_ENOMEM;
			p->forms = f;
			p->cap_forms = cap;
		}
		tier_new_form *f = &p->forms[p->n_forms];
		if (!(f->term = malloc((size_t)len)))
			return p->rc = KHO_ENOMEM;
		memcpy(f->term, token, (size_t)len);
		f->len = (size_t)len;
		f->freq = (float)p->weight;
		p->n_forms++;
		return 0;
	}
	if (slot == TIER_NONE)
		return 0;
	tier_hot *k = &p->map->hot[slot];
	if (k->seen != p->seq) {
		if (p->n_touched == p->cap_touched) {
			size_t cap = p->cap_touched ? 2 * p->cap_touched : 256;
			size_t *t = realloc(p->touched, cap * sizeof *t);
			if (!t)
				return p->rc = KHO_ENOMEM;
			p->touched = t;
			p->cap_touched = cap;
		}
		p->touched[p->n_touched++] = slot;
		k->seen = p->seq;
		k->freq = 0;
	}
	k->freq += (float)p->weight;
	return 0;
}

/* Counts the word in `slot`, `freq` times (column-weighted) in lesson `id`. */
static int count_word(tier_pass *p, size_t slot, float freq, int sign, int64_t id, double avgdl)
{
	tier_word *w = &p->map->slots[slot];
	w->df += sign;
	if (sign < 0)
		return KHO_OK;
	float weight = (float)index_rank_term(freq, (double)p->length, avgdl);
	tier_outs *out = p->out;
	if (!out)
		return tier_list_push(w, (index_tier_entry){ weight, (uint32_t)id });
	if (out->n == out->cap) {
		size_t cap = out->cap ? 2 * out->cap : 4096;
		tier_out *items = realloc(out->items, cap * sizeof *items);
		if (!items)
			return KHO_ENOMEM;
		out->items = items;
		out->cap = cap;
	}
	out->items[out->n++] = (tier_out){ w->term, (uint32_t)w->len, (uint32_t)id, weight };
	return KHO_OK;
}

/* The lesson's new exact forms into the map, counted. */
static int add_forms(tier_pass *p, int sign, int64_t id, double avgdl)
{
	int rc = KHO_OK;
	for (size_t i = 0; i < p->n_forms; i++) {
		tier_new_form *f = &p->forms[i];
		size_t slot = TIER_NONE;
		if (!rc && (rc = tier_map_add(p->map, f->term, f->len)))
			rc = kho_error_set(rc, "out of memory keeping the word lists");
		if (!rc && (slot = tier_map_slot(p->map, f->term, f->len)) != TIER_NONE) {
			p->map->hot[slot].seen = p->seq;
			rc = count_word(p, slot, f->freq, sign, id, avgdl);
		}
		free(f->term);
	}
	p->n_forms = 0;
	return rc;
}

/* Counts one lesson: its five columns tokenized, each word of the map once
 * (`sign` -1 when it leaves the index), and, when adding, its weight kept. */
static int count_lesson(tier_pass *p, int64_t id, const char *const *texts, const int *lens,
	int sign, double avgdl)
{
	p->seq++;
	p->n_touched = 0;
	p->length = 0;
	for (int c = 0; c < INDEX_RANK_COLUMNS && !p->rc; c++) {
		p->weight = index_rank_weights[c];
		if (texts[c] && lens[c] > 0 &&
		    kho_index_tokenize(texts[c], (size_t)lens[c], KHO_TOKENIZE_DOCUMENT, on_token, p) &&
		    !p->rc)
			p->rc = KHO_ENOMEM;
	}
	int rc = p->rc ? KHO_ENOMEM : KHO_OK;
	for (size_t i = 0; i < p->n_touched && !rc; i++)
		rc = count_word(p, p->touched[i], p->map->hot[p->touched[i]].freq, sign, id, avgdl);
	/* after the touched words: adding may move the map's slots */
	int added = add_forms(p, sign, id, avgdl);
	return rc ? rc : added;
}

static void end_pass(tier_pass *p)
{
	for (size_t i = 0; i < p->n_forms; i++)
		free(p->forms[i].term);
	free(p->forms);
	free(p->touched);
}

static int id_order(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Tokenizes the lessons that `sql` (?1 = pv) returns — id and the five
 * indexed columns — counting each word of the map once per lesson (`sign`
 * -1 when they leave the index) and, when adding, keeping its best lessons;
 * with `grow`, exact forms not in the map are added to it; `ids`, when
 * given, gets the lesson ids, ascending. */
int tier_read_lessons(kho_index *index, tier_map *map, const char *sql, int64_t pv, int sign,
	double avgdl, bool grow, tier_ids *ids, int64_t *lessons)
{
	tier_pass p = { .map = map, .grow = grow };
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(index->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return kho_store_error(index->store, src, "reading lessons for the word lists");
	sqlite3_bind_int64(st, 1, pv);
	int rc = KHO_OK;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id < 1 || id > UINT32_MAX) {
			rc = kho_error_set(KHO_ECORRUPT, "lesson id %lld out of range", (long long)id);
			break;
		}
		const char *texts[INDEX_RANK_COLUMNS];
		int lens[INDEX_RANK_COLUMNS];
		for (int c = 0; c < INDEX_RANK_COLUMNS; c++) {
			texts[c] = (const char *)sqlite3_column_text(st, 1 + c);
			lens[c] = sqlite3_column_bytes(st, 1 + c);
		}
		if ((rc = count_lesson(&p, id, texts, lens, sign, avgdl)))
			rc = kho_error_set(rc, "out of memory reading lessons for the word lists");
		if (!rc && ids) {
			if (ids->n == ids->cap) {
				size_t cap = ids->cap ? 2 * ids->cap : 256;
				uint32_t *grown = realloc(ids->ids, cap * sizeof *grown);
				if (!grown) {
					rc = kho_error_set(KHO_ENOMEM, "out of memory reading lessons");
					break;
				}
				ids->ids = grown;
				ids->cap = cap;
			}
			ids->ids[ids->n++] = (uint32_t)id;
		}
		(*lessons)++;
	}
	end_pass(&p);
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(index->store, src, "reading lessons for the word lists");
	sqlite3_finalize(st);
	if (!rc && ids)
		qsort(ids->ids, ids->n, sizeof *ids->ids, id_order);
	return rc;
}

static const char all_lessons_sql[] =
	"SELECT l.id, " INDEX_L_COLUMNS
	" FROM lessons l JOIN index_docs d ON d.lesson = l.id ORDER BY l.id";

/* ------------------------------------------------- a full build, in two */

/* Lessons read from the store for the other thread: their text back to back. */
typedef struct tier_batch {
	char *text;
	size_t n_text, cap_text;
	struct batch_lesson {
		int64_t id;
		size_t off[INDEX_RANK_COLUMNS];
		int len[INDEX_RANK_COLUMNS];
	} *lessons;
	size_t n, cap;
	tier_outs out;       /* what the second thread counted in it */
	struct tier_batch *next_done;
} tier_batch;

/* A batch holds about this much text. */
#define BATCH_BYTES (256u << 10)

static void batch_free(tier_batch *b)
{
	if (b) {
		free(b->text);
		free(b->lessons);
		free(b->out.items);
		free(b);
	}
}

static int batch_add(tier_batch *b, sqlite3_stmt *st, int64_t id)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		struct batch_lesson *l = realloc(b->lessons, cap * sizeof *l);
		if (!l)
			return KHO_ENOMEM;
		b->lessons = l;
		b->cap = cap;
	}
	struct batch_lesson *l = &b->lessons[b->n++];
	l->id = id;
	for (int c = 0; c < INDEX_RANK_COLUMNS; c++) {
		const char *text = (const char *)sqlite3_column_text(st, 1 + c);
		int len = text ? sqlite3_column_bytes(st, 1 + c) : 0;
		if (b->n_text + (size_t)len > b->cap_text) {
			size_t cap = b->cap_text ? b->cap_text : BATCH_BYTES;
			while (cap < b->n_text + (size_t)len)
				cap *= 2;
			char *t = realloc(b->text, cap);
			if (!t)
				return KHO_ENOMEM;
			b->text = t;
			b->cap_text = cap;
		}
		if (len > 0)
			memcpy(b->text + b->n_text, text, (size_t)len);
		l->off[c] = b->n_text;
		l->len[c] = len;
		b->n_text += (size_t)len;
	}
	return KHO_OK;
}

static int count_batch(tier_pass *p, const tier_batch *b, double avgdl)
{
	int rc = KHO_OK;
	for (size_t i = 0; i < b->n && !rc; i++) {
		const char *texts[INDEX_RANK_COLUMNS];
		for (int c = 0; c < INDEX_RANK_COLUMNS; c++)
			texts[c] = b->text + b->lessons[i].off[c];
		rc = count_lesson(p, b->lessons[i].id, texts, b->lessons[i].len, 1, avgdl);
	}
	return rc;
}

/* The second thread: counts the batches it is handed in its own map. */
typedef struct tier_worker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	tier_batch *next;   /* handed over, not taken yet */
	tier_batch *done;   /* counted, for this thread to take the weights from */
	bool finished;      /* no more batches */
	tier_map map;
	tier_pass pass;
	double avgdl;
	int rc;
} tier_worker;

static void *work(void *arg)
{
	tier_worker *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->next && !w->finished)
			pthread_cond_wait(&w->cond, &w->lock);
		tier_batch *b = w->next;
		w->next = NULL;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		if (!b)
			return NULL;
		w->pass.out = &b->out;
		if (!w->rc)
			w->rc = count_batch(&w->pass, b, w->avgdl);
		pthread_mutex_lock(&w->lock);
		b->next_done = w->done;
		w->done = b;
		pthread_mutex_unlock(&w->lock);
	}
}

/* Pushes the weights the second thread counted into this thread's lists. */
static int take_done(tier_worker *w, tier_map *map)
{
	pthread_mutex_lock(&w->lock);
	tier_batch *b = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	int rc = KHO_OK;
	while (b) {
		for (size_t i = 0; i < b->out.n && !rc; i++) {
			const tier_out *o = &b->out.items[i];
			tier_word *to = tier_map_find(map, o->term, o->len);
			if (!to && !(rc = tier_map_add(map, o->term, o->len)))
				to = tier_map_find(map, o->term, o->len);
			if (!rc)
				rc = to ? tier_list_push(to, (index_tier_entry){ o->weight, o->lesson }) : KHO_ENOMEM;
		}
		tier_batch *next = b->next_done;
		batch_free(b);
		b = next;
	}
	return rc;
}

/* Waits until the worker took its last batch, then hands it `b`. */
static void hand_over(tier_worker *w, tier_batch *b)
{
	pthread_mutex_lock(&w->lock);
	while (w->next)
		pthread_cond_wait(&w->cond, &w->lock);
	w->next = b;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Adds the lesson counts of the worker's words to the main map (their
 * weights came through take_done()). */
static int merge_map(tier_map *into, const tier_map *from)
{
	for (size_t i = 0; i < from->cap; i++) {
		const tier_word *w = &from->slots[i];
		if (!w->term)
			continue;
		if (tier_map_add(into, w->term, w->len))
			return KHO_ENOMEM;
		tier_word *to = tier_map_find(into, w->term, w->len);
		if (!to)
			return KHO_ENOMEM;
		to->df += w->df;
		for (uint32_t k = 0; k < w->n; k++)
			if (tier_list_push(to, w->best[k]))
				return KHO_ENOMEM;
	}
	return KHO_OK;
}

/* tier_read_lessons() over every indexed lesson, adding, with `grow`; in two
 * threads when the process may use two cores: this one reads the store and
 * counts every other batch; the other tokenizes the rest with a map of its
 * own (lesson counts only, merged at the end) and hands back each batch's
 * weights, which this thread pushes into its lists — so that the lists,
 * most of the memory, exist once. */
int tier_read_all_lessons(kho_index *index, tier_map *map, double avgdl)
{
	if (kho_cpus() < 2) { /* no second core: one pass, no copies */
		int64_t lessons = 0;
		return tier_read_lessons(index, map, all_lessons_sql, 0, 1, avgdl, true, NULL, &lessons);
	}
	tier_worker w = { .avgdl = avgdl };
	tier_pass p = { .map = map, .grow = true };
	w.pass = (tier_pass){ .map = &w.map, .grow = true };
	int rc = KHO_OK;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	for (size_t i = 0; i < map->cap && !rc; i++)
		if (map->slots[i].term)
			rc = tier_map_add(&w.map, map->slots[i].term, map->slots[i].len);
	pthread_t thread;
	bool started = !rc && pthread_create(&thread, NULL, work, &w) == 0;
	sqlite3_stmt *st = NULL;
	int src = rc ? SQLITE_OK : sqlite3_prepare_v2(index->db, all_lessons_sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		rc = kho_store_error(index->store, src, "reading lessons for the word lists");
	tier_batch *b = NULL;
	size_t batches = 0;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id < 1 || id > UINT32_MAX) {
			rc = kho_error_set(KHO_ECORRUPT, "lesson id %lld out of range", (long long)id);
			break;
		}
		if (!b && !(b = calloc(1, sizeof *b))) {
			rc = KHO_ENOMEM;
			break;
		}
		if ((rc = batch_add(b, st, id)))
			break;
		if (b->n_text < BATCH_BYTES)
			continue;
		if (started && batches++ % 2 == 0) {
			hand_over(&w, b);
			rc = take_done(&w, map);
		} else {
			rc = count_batch(&p, b, avgdl);
			batch_free(b);
		}
		b = NULL;
	}
	if (!rc && b)
		rc = count_batch(&p, b, avgdl);
	batch_free(b);
	if (!rc && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = kho_store_error(index->store, src, "reading lessons for the word lists");
	sqlite3_finalize(st);
	if (started) {
		pthread_mutex_lock(&w.lock);
		w.finished = true;
		pthread_cond_broadcast(&w.cond);
		pthread_mutex_unlock(&w.lock);
		pthread_join(thread, NULL);
	}
	int taken = take_done(&w, map);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	if (!rc)
		rc = w.rc ? w.rc : taken;
	if (!rc)
		rc = merge_map(map, &w.map);
	end_pass(&p);
	end_pass(&w.pass);
	tier_map_free(&w.map);
	if (rc == KHO_ENOMEM)
		rc = kho_error_set(rc, "out of memory reading lessons for the word lists");
	return rc;
}

