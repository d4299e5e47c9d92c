/*
 * chunker.c — content-defined chunking of large files (REPOSITORY.md): a gear
 * rolling hash over the bytes; a chunk ends where the hash's top bits are
 * all zero (on average every 64 KiB), never before MIN_CHUNK nor after
 * MAX_CHUNK bytes. Because the cut points depend only on the nearby bytes,
 * an insertion or change moves the chunks around it and leaves the others
 * as they were, so that a new version of a large file shares most objects
 * with the old one.
 *
 * The gear table is fixed forever (format 1): 256 values derived from
 * BLAKE2b of "kho-gear-1" and the byte, computed once.
 */
#include "sync-private.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define MASK 0xFFFF000000000000ull /* 16 bits: a cut every 64 KiB on average */

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

static void make_gear(void)
{
	for (int i = 0; i < 256; i++) {
		unsigned char in[11] = "kho-gear-1", out[8];
		in[10] = (unsigned char)i;
		crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
		uint64_t v = 0;
		for (int b = 0; b < 8; b++)
			v = v << 8 | out[b];
		gear[i] = v;
	}
}

size_t sync_chunk_cut(const unsigned char *data, size_t len, bool last)
{
	pthread_once(&gear_once, make_gear);
	if (len <= SYNC_MIN_CHUNK)
		return last ? len : 0;
	size_t end = len < SYNC_MAX_CHUNK ? len : SYNC_MAX_CHUNK;
	uint64_t h = 0;
	for (size_t i = SYNC_MIN_CHUNK - 64; i < end; i++) {
		h = (h << 1) + gear[data[i]];
		if (i >= SYNC_MIN_CHUNK && !(h & MASK))
			return i + 1;
	}
	/* no cut point: a full chunk, or what is left at the end */
	return end == SYNC_MAX_CHUNK || last ? end : 0;
}
