/*
 * search.c — answering a search over the index: the query as read (Telex,
 * VNI and spelling through the index's vocabulary), its ranked page
 * (search-rank.c, which also counts the total and the facets), and each shown
 * lesson's fields and snippet, with the matched words marked for the web app.
 */
#include "indexer-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tokens of body text around the matches in a snippet; of the summary,
 * shown when the body has no match. */
#define SNIPPET_TOKENS 16
#define SUMMARY_TOKENS 32

/* Markers that index_snippet() puts around matches; never in extracted text. */
#define MARK_OPEN '\x02'
#define MARK_CLOSE '\x03'

/* A shown lesson's fields. */
static const char hit_sql[] =
	"SELECT v.pack_id, v.version, l.lesson_id, l.title, l.unit_title, l.summary, l.body"
	" FROM lessons l JOIN pack_versions v ON v.id = l.pv WHERE l.id = ?1";

/* ------------------------------------------------------------- snippets */

char *kho_index_snippet_html(const char *text)
{
	if (!text)
		text = "";
	/* Each input byte becomes at most 7 output bytes ("</mark>"), plus a
	 * closing tag for a marker left open (never from FTS5). */
	size_t len = strlen(text);
	char *out = malloc(7 * len + sizeof "</mark>");
	if (!out)
		return NULL;
	char *o = out;
	bool open = false, space = false;
	for (const char *s = text; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case ' ': case '\n': case '\t': case '\r':
			/* blocks and whitespace runs read as one space in a snippet */
			space = o > out;
			continue;
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case MARK_OPEN:
			rep = open ? "" : "<mark>";
			open = true;
			break;
		case MARK_CLOSE: {
			/* words marked one after the other read as one mark */
			const char *next = s + 1;
			while (*next == ' ' || *next == '\n' || *next == '\t' || *next == '\r')
				next++;
			if (open && *next == MARK_OPEN && next > s + 1) {
				s = next;
				*o++ = ' ';
				continue;
			}
			rep = open ? "</mark>" : "";
			open = false;
			break;
		}
		default:
			break;
		}
		if (space)
			*o++ = ' ';
		space = false;
		if (!rep) {
			*o++ = *s;
			continue;
		}
		size_t n = strlen(rep);
		memcpy(o, rep, n);
		o += n;
	}
	if (open) {
		memcpy(o, "</mark>", 7);
		o += 7;
	}
	*o = '\0';
	return out;
}

/* ---------------------------------------------------------------- results */

void kho_search_result_free(kho_search_result *result)
{
	if (!result)
		return;
	for (size_t i = 0; i < result->n_hits; i++) {
		kho_search_hit *h = &result->hits[i];
		free(h->pack);
		free(h->lesson);
		free(h->title);
		free(h->unit);
		free(h->snippet);
		free(h->url);
	}
	free(result->hits);
	for (size_t i = 0; i < result->n_facets; i++) {
		free(result->facets[i].kind);
		free(result->facets[i].value);
	}
	free(result->facets);
	free(result->did_you_mean);
	free(result);
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return strdup(s ? s : "");
}

/* The snippet of a hit: the body around its matches; else the summary, with
 * its matches marked if it has any; else the beginning of the body. NULL
 * `query`: no snippet (""). */
static int make_snippet(char **out, const char *summary, const char *body,
	const kho_query *query)
{
	if (!query)
		return (*out = strdup("")) ? KHO_OK : KHO_ENOMEM;
	char *text = NULL;
	int rc = index_snippet(&text, body, query, SNIPPET_TOKENS);
	if (!rc && !index_snippet_has_match(text) && summary && *summary) {
		free(text);
		text = NULL;
		rc = index_snippet(&text, summary, query, SUMMARY_TOKENS);
	}
	if (!rc && !(*out = kho_index_snippet_html(text)))
		rc = KHO_ENOMEM;
	free(text);
	return rc;
}

/* Fills `hit` for lesson `rowid` (its score already set); snippets marking
 * `query`'s words, or none without it. */
static int fill_hit(kho_search_hit *hit, kho_index *index, sqlite3_stmt *st, int64_t rowid,
	const kho_query *query)
{
	sqlite3_bind_int64(st, 1, rowid);
	int src = sqlite3_step(st);
	int rc = KHO_OK;
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ?
			kho_error_set(KHO_ECORRUPT, "lesson %lld is in the index but not in the store",
				(long long)rowid) :
			kho_store_error(index->store, src, "reading a search result");
		sqlite3_reset(st);
		return rc;
	}
	hit->pack = column_dup(st, 0);
	hit->version = sqlite3_column_int64(st, 1);
	hit->lesson = column_dup(st, 2);
	hit->title = column_dup(st, 3);
	const char *unit = (const char *)sqlite3_column_text(st, 4);
	if (unit && *unit && !(hit->unit = strdup(unit)))
		rc = KHO_ENOMEM;

	if (!rc)
		rc = make_snippet(&hit->snippet, (const char *)sqlite3_column_text(st, 5),
			(const char *)sqlite3_column_text(st, 6), query);

	if (hit->pack && hit->lesson) {
		size_t n = strlen("/lesson/") + strlen(hit->pack) + 1 + strlen(hit->lesson) + 1;
		hit->url = malloc(n);
		if (hit->url)
			snprintf(hit->url, n, "/lesson/%s/%s", hit->pack, hit->lesson);
	}
	if (!hit->pack || !hit->lesson || !hit->title || !hit->snippet || !hit->url)
		rc = KHO_ENOMEM;
	sqlite3_reset(st);
	return rc ? kho_error_set(rc, "out of memory reading search results") : KHO_OK;
}

/* The index's vocabulary, as a table made for this connection only; false
 * when it cannot be had (then every word is taken as it is). */
static bool vocab_ready(kho_index *index)
{
	return index->vocab
		|| (sqlite3_exec(index->db, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.lesson_vocab"
				" USING fts5vocab(main, lesson_fts, row)", NULL, NULL, NULL) == SQLITE_OK
			&& sqlite3_prepare_v2(index->db, "SELECT 1 FROM temp.lesson_vocab WHERE term = ?1",
				-1, &index->vocab, NULL) == SQLITE_OK);
}

/* Whether the index holds `token` (a folded token): a common word has a
 * list (one lookup); FTS5's vocabulary counts a word's lessons to answer,
 * which costs little for the others. */
static bool known_token(void *payload, const char *token)
{
	kho_index *index = payload;
	if (index_tier_has(index, token))
		return true;
	if (!vocab_ready(index))
		return true;
	sqlite3_bind_text(index->vocab, 1, token, -1, SQLITE_STATIC);
	bool found = sqlite3_step(index->vocab) == SQLITE_ROW;
	sqlite3_reset(index->vocab);
	return found;
}

/* Whether some lesson has the two words side by side. */
static bool phrase_exists(kho_index *index, const char *a, const char *b)
{
	if (!a || !b)
		return false;
	char expr[300];
	if ((size_t)snprintf(expr, sizeof expr, "\"%s %s\"", a, b) >= sizeof expr)
		return false;
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(index->db, "SELECT 1 FROM lesson_fts WHERE lesson_fts MATCH ?1 LIMIT 1",
			-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

#define MAX_CANDIDATES 8

/* The word of the index closest to `token`: same first letter, edit distance
 * at most 1 (2 for words of 6 letters or more); among the closest, the one
 * that stands beside the neighbouring words in some lesson ("hinh thag" →
 * "hinh thang"), then the most common. Words shorter than 3 letters are not
 * corrected. */
static bool closest_token(void *payload, const char *token, const char *before,
	const char *after, char *out, size_t size)
{
	kho_index *index = payload;
	size_t len = strlen(token);
	if (len < 3 || (unsigned char)token[0] >= 0x7f || !vocab_ready(index))
		return false;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(index->db, "SELECT term, doc FROM temp.lesson_vocab"
			" WHERE term >= ?1 AND term < ?2", -1, &st, NULL) != SQLITE_OK)
		return false;
	char from[2] = { token[0], 0 }, to[2] = { (char)(token[0] + 1), 0 };
	sqlite3_bind_text(st, 1, from, 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, 1, SQLITE_STATIC);
	struct { char term[64]; int64_t docs; } cand[MAX_CANDIDATES];
	size_t n = 0, max = len >= 6 ? 2 : 1, best = max + 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *term = (const char *)sqlite3_column_text(st, 0);
		if (!term || strlen(term) >= sizeof cand[0].term || strlen(term) >= size)
			continue;
		size_t d = kho_index_edit_distance(token, term, max);
		if (d == 0 || d > best)
			continue;
		if (d < best) {
			best = d;
			n = 0;
		}
		/* keep the most common of the closest: a full list drops its rarest */
		int64_t docs = sqlite3_column_int64(st, 1);
		size_t at = n;
		if (n == MAX_CANDIDATES) {
			at = 0;
			for (size_t k = 1; k < n; k++)
				if (cand[k].docs < cand[at].docs)
					at = k;
			if (cand[at].docs >= docs)
				continue;
		} else {
			n++;
		}
		snprintf(cand[at].term, sizeof cand[at].term, "%s", term);
		cand[at].docs = docs;
	}
	sqlite3_finalize(st);
	if (n == 0)
		return false;
	/* the best: beside more of the neighbouring words, then more common */
	size_t pick = 0;
	int pick_score = -1;
	for (size_t i = 0; i < n; i++) {
		int score = phrase_exists(index, before, cand[i].term)
			+ phrase_exists(index, cand[i].term, after);
		if (score > pick_score || (score == pick_score && cand[i].docs > cand[pick].docs)) {
			pick_score = score;
			pick = i;
		}
	}
	snprintf(out, size, "%s", cand[pick].term);
	return true;
}

/* What was typed, parsed, with the readings of unknown words; *reading gets
 * the query as read when any word was unknown. */
static int read_query(kho_query **parsed, char **reading, kho_index *index,
	const kho_search_query *query)
{
	kho_vocabulary vocab = { index, known_token, closest_token };
	int rc = kho_index_query_parse(parsed, query->text, query->typing);
	if (!rc)
		rc = kho_index_query_expand(*parsed, &vocab, reading);
	return rc;
}

int kho_index_search(kho_search_result **out, kho_index *index, const kho_search_query *query)
{
	if (!out || !index || !query)
		return kho_error_set(KHO_EINVALID, "kho_index_search: no query");
	int limit = query->limit == 0 ? 10 : query->limit;
	if (limit < 1 || limit > 100)
		return kho_error_set(KHO_EINVALID, "limit must be between 1 and 100, not %d",
			query->limit);
	if (query->offset < 0)
		return kho_error_set(KHO_EINVALID, "offset must not be negative, not %d",
			query->offset);

	kho_search_result *result = calloc(1, sizeof *result);
	kho_query *parsed = NULL;
	bool own_tx = false;
	sqlite3_stmt *hit = NULL;
	index_page *page = calloc(1, sizeof *page);
	int rc = KHO_OK, src;
	if (!result || !page) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
		goto cleanup;
	}
	/* One snapshot of the store for the whole search: an install committed
	 * by another process meanwhile is seen by the next search, not half of
	 * this one. */
	own_tx = sqlite3_get_autocommit(index->db);
	if (own_tx && (rc = kho_store_exec(index->store, "BEGIN;")))
		goto cleanup;
	if ((rc = read_query(&parsed, &result->did_you_mean, index, query)))
		goto cleanup;

	if ((rc = index_rank_page(page, result, index, parsed, query, limit)))
		goto cleanup;
	size_t n = page->n;
	if (n == 0)
		goto done;

	result->hits = calloc(n, sizeof *result->hits);
	if (!result->hits) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory searching");
		goto cleanup;
	}
	if ((src = sqlite3_prepare_v2(index->db, hit_sql, -1, &hit, NULL)) != SQLITE_OK) {
		rc = kho_store_error(index->store, src, "reading search results");
		goto cleanup;
	}
	/* completions show titles only */
	const kho_query *marking = query->hits_only ? NULL :
		page->expanded ? page->expanded : parsed;
	for (size_t i = 0; i < n; i++) {
		result->n_hits = i + 1;
		result->hits[i].score = page->scores[i];
		if ((rc = fill_hit(&result->hits[i], index, hit, page->rowids[i], marking)))
			goto cleanup;
	}

done:
	*out = result;
	result = NULL;
cleanup:
	sqlite3_finalize(hit);
	if (own_tx)
		sqlite3_exec(index->db, "COMMIT;", NULL, NULL, NULL);
	if (page) {
		free(page->expr);
		kho_index_query_free(page->expanded);
	}
	free(page);
	kho_index_query_free(parsed);
	kho_search_result_free(result);
	return rc;
}
