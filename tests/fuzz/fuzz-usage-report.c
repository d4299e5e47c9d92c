/*
 * fuzz-usage-report.c — feeds arbitrary bytes to usage_report_parse(), which
 * reads the usage reports schools send to the centre (`kho repo report`).
 * It must refuse anything malformed without crashing, leaking or reading out
 * of bounds; a report it accepts must hold what the aggregation relies on,
 * and must read back the same after being written again (round trip).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "fuzz-target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_accepted(const kho_usage *u)
{
	if (strcmp(u->from, u->to) > 0 || u->k < 1 || u->k > KHO_USAGE_K_MAX)
		abort();
	for (size_t i = 0; i < u->n_queries; i++)
		if (!u->queries[i].query[0] || u->queries[i].found_nothing + u->queries[i].no_open >
		    u->queries[i].searches || u->queries[i].searches > USAGE_REPORT_MAX_COUNT)
			abort();
	for (size_t i = 0; i < u->n_lessons; i++)
		if (!u->lessons[i].pack || !u->lessons[i].lesson || u->lessons[i].opens < 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kho_usage *u = NULL, *again = NULL;
	char box[17], box2[17];
	if (usage_report_parse(&u, box, (const char *)data, size) == KHO_OK) {
		check_accepted(u);
		json_t *root = usage_report_json(u, box);
		char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
		json_decref(root);
		if (!text)
			abort();
		if (usage_report_parse(&again, box2, text, strlen(text)) || strcmp(box, box2) ||
		    again->n_days != u->n_days || again->n_lessons != u->n_lessons ||
		    again->n_queries != u->n_queries)
			abort();
		for (size_t i = 0; i < u->n_queries; i++)
			if (strcmp(u->queries[i].query, again->queries[i].query) ||
			    u->queries[i].searches != again->queries[i].searches)
				abort();
		free(text);
	} else if (u) {
		abort(); /* *out is set only on success */
	}
	kho_usage_free(u);
	kho_usage_free(again);
	kho_error_clear();
	return 0;
}
