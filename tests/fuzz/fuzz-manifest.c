/*
 * fuzz-manifest.c — feeds arbitrary bytes to kho_manifest_parse(), the first
 * thing that reads a manifest.xml coming from outside. The parser must
 * return an error for anything that is not a valid manifest, never crash,
 * leak or read out of bounds; a manifest it accepts must be complete (every
 * lesson has an id, a safe href and a title).
 */
#include <stdlib.h>

#include "kho_core.h"
#include "fuzz-target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* refused DOCTYPEs and external loads log warnings; keep the run quiet */
	kho_log_set_level(KHO_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kho_manifest *m = NULL;
	int rc = kho_manifest_parse(&m, (const char *)data, size, "fuzz.xml");
	if (rc == KHO_OK) {
		/* what callers rely on once parsing succeeded */
		if (!m || !m->id || !m->title || !m->lang || m->version < 1)
			abort();
		for (size_t i = 0; i < m->n_lessons; i++) {
			const kho_manifest_lesson *l = &m->lessons[i];
			if (!l->id || !l->title || !l->href || !kho_path_is_safe(l->href))
				abort();
			if (l->unit >= (long)m->n_units)
				abort();
		}
	} else if (m) {
		abort(); /* *out is set only on success */
	}
	kho_manifest_free(m);
	kho_error_clear();
	return 0;
}
