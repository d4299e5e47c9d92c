/*
 * fuzz-index-delta.c — feeds an index delta (packs/ID/V.from-U.json) to
 * sync_index_apply(), as a box does when it updates a pack whose previous
 * version it installed (sync-box.c, index_from_delta). The input is the
 * base index the box kept, a NUL byte, then the delta; a base that
 * sync_index_parse() refuses is skipped, since a box only keeps indexes
 * that passed it. (The delta's base_hash and the result's hash are not
 * checked here: a box compares them with the signed catalog's, which a
 * fuzzer cannot match.) Applying must not crash, leak or read out of bounds
 * whatever the delta holds; a result must be an index's text, which the
 * index parser may refuse; and an accepted result, made into a delta from
 * the same base again, must apply to the same text (round trip).
 */
#include <stdlib.h>
#include <string.h>

#include "sync-private.h"
#include "fuzz-target.h"

#define FAKE_HASH "0000000000000000000000000000000000000000000000000000000000000000"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul = memchr(text, '\0', size);
	json_t *base = NULL, *delta = NULL, *index = NULL, *redo = NULL;
	char *full = NULL, *again = NULL;
	if (!nul || sync_index_parse(&base, text, (size_t)(nul - text), "base.json"))
		goto done;
	/* read as index_from_delta reads it: any JSON, duplicate keys allowed */
	delta = json_loadb(nul + 1, size - (size_t)(nul - text) - 1, 0, NULL);
	if (!delta)
		goto done;
	full = sync_index_apply(base, delta);
	if (!full)
		goto done;
	if (sync_index_parse(&index, full, strlen(full), "full.json"))
		goto done;
	redo = sync_index_delta(base, FAKE_HASH, index);
	again = redo ? sync_index_apply(base, redo) : NULL;
	if (!again || strcmp(again, full))
		abort();
done:
	free(full);
	free(again);
	json_decref(base);
	json_decref(delta);
	json_decref(index);
	json_decref(redo);
	kho_error_clear();
	return 0;
}
