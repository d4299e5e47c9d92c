/*
 * kho_index.h — the public interface of kho's indexer: lesson text
 * extraction, the Vietnamese-folding FTS5 tokenizer, the full-text index of
 * the visible lessons, and search over it.
 *
 * The index lives in the box store's database (tables owned by this module,
 * described in indexer/INDEX.md) and is derived data: it can always be rebuilt
 * from the lesson text that core keeps. Errors and ownership follow
 * kho_core.h.
 */
#ifndef KHO_INDEX_H
#define KHO_INDEX_H

#include "kho_core.h"

/* ------------------------------------------------------- text extraction */

/* Plain text of a lesson's HTML or XHTML (`len` bytes at `html`), parsed with
 * libxml2's HTML parser without network access. script, style, nav,
 * template, noscript and head content are dropped; each heading, paragraph,
 * list item or other block becomes its own line, and a blank line separates
 * blocks. Whitespace runs become one space. The result is NFC. *out is
 * malloc'd and NUL-terminated. Never fails on malformed HTML (it recovers);
 * KHO_ENOMEM, KHO_ELIMIT past INT_MAX bytes, or KHO_EINVALID when the bytes
 * are not text at all (they hold NUL bytes). */
int kho_index_extract_text(char **out, const char *html, size_t len);

/* ---------------------------------------------------------------- index */

typedef struct kho_index kho_index;

/* Registers the "kho" FTS5 tokenizer on the store's connection and creates
 * or upgrades the index tables (rebuilding the index when its format
 * changed). `store` must outlive the index. */
int kho_index_open(kho_index **out, kho_store *store);
void kho_index_free(kho_index *index);

/* Hooks to pass to kho_store_install() / kho_store_remove(): they extract
 * lesson text and keep the index in step with the visible versions. */
const kho_install_hooks *kho_index_hooks(kho_index *index);

/* Installs `pack` into the store and the index in one transaction. */
int kho_index_install(kho_install_info *out, kho_index *index, kho_pack *pack);

/* Removes a pack from the store and the index in one transaction. */
int kho_index_remove(kho_index *index, const char *pack_id);
/* kho_store_rollback() with the index following. */
int kho_index_rollback(int64_t *from, int64_t *to, kho_index *index, const char *pack_id);

/* Drops and rebuilds the whole index from the stored lesson text. */
int kho_index_rebuild(kho_index *index);

/* ---------------------------------------------------------------- search */

typedef struct kho_search_query {
	const char *text;     /* what the user typed; any bytes at all */
	const char *grade;    /* filter, or NULL */
	const char *subject;  /* filter, or NULL */
	const char *pack;     /* filter, or NULL */
	int limit;            /* 1..100; 0 means 10 */
	int offset;           /* >= 0 */
	bool typing;          /* still being typed: the last word, when no space
	                       * follows it, also matches words it begins */
	bool hits_only;       /* only the page: no total (it is the page's size),
	                       * no facets and no snippets (""), as completions
	                       * need */
	/* a signed-in teacher's grades and subjects ("5 6", "toan tin-hoc"):
	 * lessons of them rank higher when the query filters and names none */
	const char *prefer_grades, *prefer_subjects;
} kho_search_query;

typedef struct kho_search_hit {
	char *pack;      /* pack id */
	int64_t version; /* visible version of the pack */
	char *lesson;    /* lesson id from the manifest */
	char *title;
	char *unit;      /* unit title, or NULL */
	char *snippet;   /* HTML-escaped text, matched words in <mark>…</mark> */
	char *url;       /* where kho serve shows the lesson: /lesson/PACK/LESSON */
	double score;    /* higher is better */
} kho_search_hit;

/* How many of all the matching lessons have one subject, grade or pack. */
typedef struct kho_search_facet {
	char *kind;      /* "grade", "pack" or "subject" */
	char *value;     /* "5", "vn.kho.toan-5", "toan" */
	int64_t count;
} kho_search_facet;

typedef struct kho_search_result {
	int64_t total;        /* lessons matching, over all pages */
	kho_search_hit *hits; /* this page, best first */
	size_t n_hits;
	kho_search_facet *facets; /* by kind, then largest count first */
	size_t n_facets;
	char *did_you_mean;   /* the query as read when some words are in no
	                       * lesson: Telex and VNI read (and searched too),
	                       * misspellings corrected (only suggested); folded,
	                       * e.g. "duong tron"; NULL when every word is known */
} kho_search_result;

/* Runs a search. Any input text is accepted: it is parsed by the project's
 * own query parser and never reaches FTS5 as raw syntax, so it cannot cause an
 * SQL or FTS5 error. KHO_EINVALID for out-of-range limit/offset. */
int kho_index_search(kho_search_result **out, kho_index *index, const kho_search_query *query);
void kho_search_result_free(kho_search_result *result);

/* The `limit` folded words in most indexed lessons, most first (of those
 * with word lists; none on a small index): searching them once fills what searches keep
 * in memory (each lesson's facet values, the sets of lessons of common words),
 * so that a server can warm an index before teachers' first searches. The
 * array and its strings are malloc'd; free with kho_index_words_free(). */
int kho_index_common_words(char ***out, size_t *out_count, kho_index *index, size_t limit);
void kho_index_words_free(char **words, size_t count);

#endif
