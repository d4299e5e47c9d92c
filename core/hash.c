/*
 * hash.c — content hashes. kho names every stored file by its BLAKE2b-256
 * hash (libsodium's crypto_generichash): on the ARM boards schools use, which
 * mostly lack SHA-2 instructions, BLAKE2b is several times faster than
 * SHA-256 in software, and libsodium is already the project's signature
 * library. docs/design.md gives the figures.
 */
#include <sodium.h>
#include <string.h>

#include "kho_core.h"

_Static_assert(sizeof(((kho_hasher *)0)->state) >= sizeof(crypto_generichash_state),
	"kho_hasher too small for libsodium's state");
_Static_assert(crypto_generichash_BYTES == KHO_HASH_SIZE, "BLAKE2b-256");

int kho_crypto_init(void)
{
	if (sodium_init() < 0)
		return kho_error_set(KHO_ERROR, "libsodium failed to initialise");
	return KHO_OK;
}

void kho_hasher_init(kho_hasher *h)
{
	crypto_generichash_init((crypto_generichash_state *)h->state, NULL, 0, KHO_HASH_SIZE);
}

void kho_hasher_update(kho_hasher *h, const void *data, size_t len)
{
	crypto_generichash_update((crypto_generichash_state *)h->state, data, len);
}

void kho_hasher_final(kho_hasher *h, kho_hash *out)
{
	crypto_generichash_final((crypto_generichash_state *)h->state, out->bytes, KHO_HASH_SIZE);
}

void kho_hash_buffer(kho_hash *out, const void *data, size_t len)
{
	crypto_generichash(out->bytes, KHO_HASH_SIZE, data, len, NULL, 0);
}

void kho_hash_to_hex(char out[KHO_HASH_HEX_SIZE], const kho_hash *hash)
{
	sodium_bin2hex(out, KHO_HASH_HEX_SIZE, hash->bytes, KHO_HASH_SIZE);
}

int kho_hash_from_hex(kho_hash *out, const char *hex)
{
	size_t n = 0;
	if (strlen(hex) != 2 * KHO_HASH_SIZE || strspn(hex, "0123456789abcdef") != 2 * KHO_HASH_SIZE
		|| sodium_hex2bin(out->bytes, KHO_HASH_SIZE, hex, 2 * KHO_HASH_SIZE, NULL, &n, NULL) != 0
		|| n != KHO_HASH_SIZE)
		return kho_error_set(KHO_EINVALID, "not a content hash: %.80s", hex);
	return KHO_OK;
}
