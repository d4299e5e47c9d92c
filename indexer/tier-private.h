/*
 * tier-private.h — what tier.c (the stored word lists) and tier-words.c
 * (counting words in lesson text) share. Nothing else includes it.
 */
#ifndef KHO_TIER_PRIVATE_H
#define KHO_TIER_PRIVATE_H

#include "indexer-private.h"

typedef struct tier_word {
	char *term;          /* NULL for an empty slot */
	size_t len;
	int64_t df;          /* lessons counted by this pass (negative when removing) */
	index_tier_entry *best; /* lessons that may be among its INDEX_TIER_K best */
	uint32_t n, cap;
	bool cut;               /* `best` was cut to the INDEX_TIER_K best once: */
	index_tier_entry worst; /* the worst of those, which a lesson must beat */
	bool full;           /* the stored list is full: only lessons above `floor` */
	float floor;         /* can enter it, so only those are kept */
} tier_word;

/* Bytes of a word kept in its slot's tier_hot. */
#define TIER_HEAD 16

/* What a pass touches for every token, kept apart from the words' lists so
 * that looking a word up and counting it read one small entry: the slot's
 * tag, the word's first bytes, and its count in the lesson being read. */
typedef struct tier_hot {
	uint32_t tag;        /* from the word's hash, never 0; 0 for an empty slot */
	uint32_t len;        /* of the word */
	uint32_t seen;       /* the pass's number of the lesson last seen in */
	float freq;          /* column-weighted count in that lesson */
	char head[TIER_HEAD]; /* the word's first bytes (all of a short one) */
} tier_hot;

typedef struct tier_map {
	tier_word *slots;
	tier_hot *hot;       /* of each slot */
	size_t cap;          /* a power of two */
	size_t n;
} tier_map;

typedef struct tier_ids {
	uint32_t *ids;  /* ascending */
	size_t n, cap;
} tier_ids;

/* The map of words: add (a copy of the bytes; nothing when present), find
 * (NULL when absent; tier_map_slot: its slot, or TIER_NONE), free. */
#define TIER_NONE SIZE_MAX
int tier_map_add(tier_map *map, const char *s, size_t len);
size_t tier_map_slot(const tier_map *map, const char *s, size_t len);
tier_word *tier_map_find(const tier_map *map, const char *s, size_t len);
void tier_map_free(tier_map *map);

/* Offers lesson entry `e` to word `w`, which keeps what may be among its
 * INDEX_TIER_K best (more weight, then the older lesson); KHO_ENOMEM. */
int tier_list_push(tier_word *w, index_tier_entry e);

/* qsort order of entries: more weight first, then the older lesson. */
int tier_entry_order(const void *pa, const void *pb);

/* Tokenizes the lessons that `sql` (?1 = pv) returns — id and the five
 * indexed columns — counting each word of the map once per lesson (`sign`
 * -1 when they leave the index) and, when adding, keeping its best lessons;
 * with `grow`, exact forms of listed words not in the map are added to it;
 * `ids`, when given, gets the lesson ids, ascending. */
int tier_read_lessons(kho_index *index, tier_map *map, const char *sql, int64_t pv, int sign,
	double avgdl, bool grow, tier_ids *ids, int64_t *lessons);

/* tier_read_lessons() over every indexed lesson, adding, with `grow`, in
 * two threads when there are two cores. */
int tier_read_all_lessons(kho_index *index, tier_map *map, double avgdl);

#endif
