/*
 * search-json.c — search results as JSON, the same for `kho search --json`
 * and the server's /api/search and /api/suggest (docs/api.md).
 */
#include <jansson.h>

#include "cli.h"

json_t *cli_search_json(const kho_search_result *r, const kho_search_query *q)
{
	json_t *results = json_array();
	for (size_t i = 0; i < r->n_hits; i++) {
		const kho_search_hit *h = &r->hits[i];
		json_array_append_new(results, json_pack("{s:s, s:I, s:s, s:s, s:s?, s:s, s:s, s:f}",
			"pack", h->pack, "version", (json_int_t)h->version, "lesson", h->lesson,
			"title", h->title, "unit", h->unit, "snippet", h->snippet ? h->snippet : "",
			"url", h->url, "score", h->score));
	}
	json_t *facets = json_object();
	for (size_t i = 0; i < r->n_facets; i++) {
		const kho_search_facet *f = &r->facets[i];
		json_t *list = json_object_get(facets, f->kind);
		if (!list) {
			list = json_array();
			json_object_set_new(facets, f->kind, list);
		}
		json_array_append_new(list, json_pack("{s:s, s:I}", "value", f->value,
			"count", (json_int_t)f->count));
	}
	return json_pack("{s:o, s:I, s:i, s:i, s:o, s:o, s:s?}", "query", cli_json_text(q->text),
		"total", (json_int_t)r->total, "offset", q->offset, "limit", q->limit,
		"results", results, "facets", facets, "did_you_mean", r->did_you_mean);
}

json_t *cli_suggest_json(const kho_search_result *r, const kho_search_query *q)
{
	json_t *list = json_array();
	size_t n = q->limit > 0 && (size_t)q->limit < r->n_hits ? (size_t)q->limit : r->n_hits;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "title", r->hits[i].title,
			"pack", r->hits[i].pack, "lesson", r->hits[i].lesson, "url", r->hits[i].url));
	return json_pack("{s:o, s:o}", "query", cli_json_text(q->text), "suggestions", list);
}
