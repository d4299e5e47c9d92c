/*
 * fuzz-index.c — feeds arbitrary bytes to sync_index_parse(), which reads a
 * pack version's index (packs/ID/VERSION.json) once its hash matched the
 * signed catalog's: a box checks its shape before it makes a single path of
 * it (REPOSITORY.md). It must refuse anything malformed without crashing,
 * leaking or reading out of bounds; an index it accepts must hold what
 * fetching relies on (safe paths in strict order, chunks that add up to
 * each file's size), and written again as a publish writes it, must read
 * back the same (round trip).
 */
#include <stdlib.h>
#include <string.h>

#include "sync-private.h"
#include "fuzz-target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* What sync-fetch.c relies on once an index is accepted. */
static void check_accepted(json_t *index)
{
	json_t *f, *c;
	size_t i, j;
	const char *prev = NULL;
	if (!json_string_value(json_object_get(index, "pack")) ||
	    !json_is_integer(json_object_get(index, "version")))
		abort();
	json_array_foreach(json_object_get(index, "files"), i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		json_int_t size = json_integer_value(json_object_get(f, "size")), total = 0;
		if (!path || !kho_path_is_safe(path) || (prev && strcmp(prev, path) >= 0) || size < 0 ||
		    !sync_is_hex64(json_string_value(json_object_get(f, "hash"))))
			abort();
		json_array_foreach(json_object_get(f, "chunks"), j, c) {
			json_int_t n = json_integer_value(json_array_get(c, 1));
			if (!sync_is_hex64(json_string_value(json_array_get(c, 0))) || n < 1 ||
			    n > (json_int_t)SYNC_SMALL_FILE)
				abort();
			total += n;
		}
		if (total != size)
			abort();
		prev = path;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *index = NULL, *again = NULL;
	if (sync_index_parse(&index, (const char *)data, size, "fuzz.json") == KHO_OK) {
		check_accepted(index);
		char *text = sync_index_text(index);
		if (!text)
			abort();
		if (sync_index_parse(&again, text, strlen(text), "again.json") ||
		    !json_equal(index, again))
			abort();
		free(text);
	} else if (index) {
		abort(); /* *out is set only on success */
	}
	json_decref(index);
	json_decref(again);
	kho_error_clear();
	return 0;
}
