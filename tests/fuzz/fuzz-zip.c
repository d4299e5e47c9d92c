/*
 * fuzz-zip.c — feeds arbitrary bytes to kho_pack_open_buffer() as a .kho zip
 * file, then streams every entry of a pack that opens. This covers the zip
 * checks (names, links, caps, bombs), the manifest inside the zip and the
 * size and checksum checks made while reading. The bytes read are thrown
 * away; a budget per input keeps a zip that inflates a lot from turning into
 * a slow input.
 */
#include <stdlib.h>

#include "kho_core.h"
#include "fuzz-target.h"

/* Most bytes inflated per input; past it the remaining entries are skipped. */
#define READ_BUDGET (16u * 1024 * 1024)

/* A sink's non-zero return stops kho_pack_entry_read() and comes back from
 * it; this value is not a kho_error, so it cannot be confused with one. */
#define OVER_BUDGET 1

typedef struct budget {
	size_t left;
} budget;

static int discard(void *payload, const void *data, size_t len)
{
	budget *b = payload;
	(void)data;
	if (len > b->left) {
		b->left = 0;
		return OVER_BUDGET;
	}
	b->left -= len;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kho_log_set_level(KHO_LOG_ERROR);
	if (kho_crypto_init() != KHO_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kho_pack *pack = NULL;
	if (kho_pack_open_buffer(&pack, data, size, "fuzz.kho") != KHO_OK) {
		if (pack)
			abort(); /* *out is set only on success */
		kho_error_clear();
		return 0;
	}
	if (!kho_pack_manifest(pack) || kho_pack_entry_find(pack, "manifest.xml") < 0)
		abort();
	budget b = { READ_BUDGET };
	size_t n = kho_pack_entry_count(pack);
	for (size_t i = 0; i < n && b.left; i++) {
		const char *name = kho_pack_entry_name(pack, i);
		if (!name || !kho_path_is_safe(name) || kho_pack_entry_find(pack, name) != (long)i)
			abort();
		int rc = kho_pack_entry_read(pack, i, discard, &b);
		(void)rc; /* KHO_ECORRUPT and friends are expected answers here */
	}
	kho_pack_free(pack);
	kho_error_clear();
	return 0;
}
