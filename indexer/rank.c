/*
 * rank.c — the scoring functions of the two-phase ranking (search-rank.c),
 * registered as FTS5 auxiliary functions:
 *
 *   kho_rank(lesson_fts, PARAMS)  the BM25 of FTS5's bm25() with the column
 *       weights index_rank_weights (those of search-rank.c's bm25() call),
 *       higher is better, where each phrase's inverse
 *       document frequency comes from PARAMS (an index_rank_params bound
 *       with sqlite3_bind_pointer()) instead of being counted: bm25() counts
 *       the lessons of every phrase each time a query starts, which costs
 *       as much as the matches of its most common word;
 *   kho_avgdl(lesson_fts)  the mean number of tokens of an indexed lesson.
 *
 * The same per-word formula, index_rank_term(), orders tier.c's lists.
 */
#include "indexer-private.h"

#include <math.h>

const double index_rank_weights[INDEX_RANK_COLUMNS] = { 1.0, 10.0, 6.0, 3.0, 2.0 };

double index_rank_idf(int64_t rows, int64_t hits)
{
	/* As FTS5's bm25(): never zero or negative, so that a word in most
	 * lessons still counts a little. */
	double idf = log(((double)rows - (double)hits + 0.5) / ((double)hits + 0.5));
	return idf > 1e-6 ? idf : 1e-6;
}

static double mean_length(const Fts5ExtensionApi *api, Fts5Context *fts)
{
	sqlite3_int64 rows = 0, tokens = 0;
	if (api->xRowCount(fts, &rows) != SQLITE_OK || api->xColumnTotalSize(fts, -1, &tokens)
		!= SQLITE_OK || rows <= 0)
		return 1.0;
	double mean = (double)tokens / (double)rows;
	return mean > 0 ? mean : 1.0;
}

static void avgdl_function(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
	int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_double(ctx, mean_length(api, fts));
}

static void rank_function(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
	int argc, sqlite3_value **argv)
{
	const index_rank_params *params = argc == 1 ?
		sqlite3_value_pointer(argv[0], INDEX_RANK_POINTER) : NULL;
	int phrases = api->xPhraseCount(fts);
	if (!params || params->n_phrases != phrases || phrases > INDEX_RANK_MAX_PHRASES) {
		sqlite3_result_error(ctx, "kho_rank: parameters do not match the query", -1);
		return;
	}
	double freq[INDEX_RANK_MAX_PHRASES] = { 0 };
	int n = 0;
	if (api->xInstCount(fts, &n) != SQLITE_OK) {
		sqlite3_result_error(ctx, "kho_rank: cannot read the matches", -1);
		return;
	}
	for (int i = 0; i < n; i++) {
		int phrase = 0, column = 0, offset = 0;
		if (api->xInst(fts, i, &phrase, &column, &offset) == SQLITE_OK && phrase >= 0 &&
		    phrase < phrases && column >= 0 && column < INDEX_RANK_COLUMNS)
			freq[phrase] += index_rank_weights[column];
	}
	double avgdl = mean_length(api, fts), score = 0;
	int length = (int)avgdl;
	if (!params->mean_length)
		api->xColumnSize(fts, -1, &length);
	for (int p = 0; p < phrases; p++)
		if (freq[p] > 0)
			score += params->idf[p] * index_rank_term(freq[p], length, avgdl);
	sqlite3_result_double(ctx, score);
}

int index_register_rank(sqlite3 *db)
{
	fts5_api *api = index_fts5_api(db);
	if (!api)
		return SQLITE_ERROR;
	int rc = api->xCreateFunction(api, "kho_rank", NULL, rank_function, NULL);
	if (rc == SQLITE_OK)
		rc = api->xCreateFunction(api, "kho_avgdl", NULL, avgdl_function, NULL);
	return rc;
}
