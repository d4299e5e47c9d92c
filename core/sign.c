/*
 * sign.c — Ed25519 keys and signatures (libsodium) in minisign's file
 * formats, so that an author can sign a pack with minisign itself and kho
 * verifies it, and minisign verifies what kho signs (docs/signing.md has the
 * byte layout of each file):
 *
 *   public key   "untrusted comment: …" then base64("Ed" ‖ key id[8] ‖ pk[32])
 *   secret key   "untrusted comment: …" then base64("Ed" ‖ "Sc" ‖ "B2" ‖ salt[32]
 *                ‖ opslimit[8] ‖ memlimit[8] ‖ (key id[8] ‖ sk[64] ‖ checksum[32]));
 *                the part in brackets XORed with scrypt(passphrase, salt) when
 *                encrypted ("Sc"); kdf "\0\0" when not; checksum = BLAKE2b-256 of
 *                "Ed" ‖ key id ‖ sk
 *   signature    "untrusted comment: …", base64("ED" ‖ key id[8] ‖ sig[64]) where
 *                sig signs BLAKE2b-512(file), "trusted comment: …", then
 *                base64(global sig[64]) which signs sig ‖ the trusted comment
 *
 * Every file read here is hostile until checked: sizes are capped, lines
 * must be exact, and the KDF's memory cost is bounded.
 */
#include "core-private.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_ALG "Ed"           /* the key's algorithm; also a legacy signature's */
#define SIG_ALG_HASHED "ED"    /* a signature of the file's BLAKE2b-512 */
#define KDF_ALG "Sc"           /* scrypt-salsa208-sha256 */
#define CHK_ALG "B2"           /* BLAKE2b-256 checksum */
#define MAX_KEY_FILE 4096
#define MAX_SIG_FILE 8192
#define MAX_COMMENT 1024
/* minisign's own scrypt costs; a file may ask for others, up to this memory */
#define KDF_OPSLIMIT 33554432ull
#define KDF_MEMLIMIT 1073741824ull
#define MAX_KDF_MEMLIMIT (2ull << 30)

#define PUBLIC_BYTES (2 + 8 + 32)
#define SECRET_PART (8 + 64 + 32)
#define SECRET_BYTES (2 + 2 + 2 + 32 + 8 + 8 + SECRET_PART)
#define SIG_BYTES (2 + 8 + 64)

/* ---------------------------------------------------------------- helpers */

static void le64_store(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le64_load(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void kho_key_id_hex(char out[KHO_KEY_ID_HEX_SIZE], const unsigned char id[KHO_KEY_ID_SIZE])
{
	/* as minisign prints it: the id as a little-endian number */
	snprintf(out, KHO_KEY_ID_HEX_SIZE, "%016llX", (unsigned long long)le64_load(id));
}

/* base64 of `n` bytes (malloc'd), or NULL. */
static char *to_base64(const unsigned char *bin, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);
	if (s)
		sodium_bin2base64(s, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Decodes exactly `n` bytes of base64 from the `len` bytes at `s`. */
static bool from_base64(unsigned char *bin, size_t n, const char *s, size_t len)
{
	size_t got = 0;
	const char *end = NULL;
	return sodium_base642bin(bin, n, s, len, NULL, &got, &end,
		sodium_base64_VARIANT_ORIGINAL) == 0 && got == n && end == s + len;
}

/* Reads a whole small file; KHO_ELIMIT past `max` bytes. */
static int read_small(char **out, size_t *out_len, const char *path, size_t max, const char *what)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kho_error_set(errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "cannot read %s %s: %s",
			what, path, strerror(errno));
	char *buf = malloc(max + 1);
	size_t n = 0;
	ssize_t r = 0;
	while (buf && n <= max && (r = read(fd, buf + n, max + 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (!buf)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	if (r < 0) {
		free(buf);
		return kho_error_set(KHO_EIO, "cannot read %s %s", what, path);
	}
	if (n > max) {
		free(buf);
		return kho_error_set(KHO_ELIMIT, "%s %s is larger than %zu bytes", what, path, max);
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return KHO_OK;
}

/* Splits `text` into lines (without "\n" or "\r\n"; blank lines at the end
 * ignored), at most `max`: returns how many, max + 1 when there are more, or
 * -1 when a NUL byte is in it. */
static int split_lines(char *text, size_t len, char **lines, size_t *lens, int max)
{
	if (strlen(text) != len)
		return -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	int n = 0;
	for (char *s = text; len && s;) {
		if (n == max)
			return max + 1;
		char *nl = strchr(s, '\n');
		size_t l = nl ? (size_t)(nl - s) : strlen(s);
		lines[n] = s;
		lens[n] = l && s[l - 1] == '\r' ? l - 1 : l;
		lines[n][lens[n]] = '\0';
		n++;
		s = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Writes `data` to `path` through a temporary file and a rename, with
 * `mode`; KHO_EEXISTS when `path` exists and !overwrite. */
static int write_file(const char *path, const char *data, mode_t mode, bool overwrite)
{
	if (!overwrite && access(path, F_OK) == 0)
		return kho_error_set(KHO_EEXISTS, "%s already exists (remove it first, or use --force)",
			path);
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		int rc = kho_error_set(KHO_EIO, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	size_t len = strlen(data), done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	bool ok = done == len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path)) {
		int rc = kho_error_set(errno == ENOSPC ? KHO_ENOSPACE : KHO_EIO, "cannot write %s: %s",
			path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	return KHO_OK;
}

/* ------------------------------------------------------------------ keys */

void kho_keygen(kho_public_key *pub, kho_secret_key *sec)
{
	randombytes_buf(sec->id, sizeof sec->id);
	memcpy(pub->id, sec->id, sizeof pub->id);
	crypto_sign_keypair(pub->key, sec->key);
}

char *kho_public_key_text(const kho_public_key *pub)
{
	unsigned char bin[PUBLIC_BYTES];
	memcpy(bin, SIG_ALG, 2);
	memcpy(bin + 2, pub->id, 8);
	memcpy(bin + 10, pub->key, 32);
	return to_base64(bin, sizeof bin);
}

int kho_public_key_parse(kho_public_key *out, const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	char *lines[3];
	size_t lens[3];
	int n = split_lines(copy, len, lines, lens, 3);
	/* a key file (comment + key), or the key's line alone */
	int at = n == 2 && !strncmp(lines[0], "untrusted comment:", 18) ? 1 : n == 1 ? 0 : -1;
	unsigned char bin[PUBLIC_BYTES];
	bool ok = at >= 0 && from_base64(bin, sizeof bin, lines[at], lens[at]) &&
		!memcmp(bin, SIG_ALG, 2);
	free(copy);
	if (!ok)
		return kho_error_set(KHO_EINVALID, "not a public key (minisign's format: a comment "
			"line, then the key in base64)");
	memcpy(out->id, bin + 2, 8);
	memcpy(out->key, bin + 10, 32);
	return KHO_OK;
}

int kho_public_key_read(kho_public_key *out, const char *path)
{
	char *text;
	size_t len;
	int rc = read_small(&text, &len, path, MAX_KEY_FILE, "public key");
	if (rc)
		return rc;
	rc = kho_public_key_parse(out, text, len);
	free(text);
	return rc ? kho_error_set(rc, "%s: %s", path, kho_error_last()) : KHO_OK;
}

int kho_public_key_write(const char *path, const kho_public_key *pub, bool overwrite)
{
	char *b64 = kho_public_key_text(pub);
	char id[KHO_KEY_ID_HEX_SIZE], text[256];
	if (!b64)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	kho_key_id_hex(id, pub->id);
	snprintf(text, sizeof text, "untrusted comment: minisign public key %s\n%s\n", id, b64);
	free(b64);
	return write_file(path, text, 0644, overwrite);
}

static void secret_checksum(unsigned char out[32], const kho_secret_key *sec)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)SIG_ALG, 2);
	crypto_generichash_update(&st, sec->id, 8);
	crypto_generichash_update(&st, sec->key, 64);
	crypto_generichash_final(&st, out, 32);
}

/* XORs the secret part with the passphrase's scrypt stream. */
static int kdf_xor(unsigned char *part, const char *passphrase, const unsigned char *salt,
	uint64_t ops, uint64_t mem)
{
	unsigned char stream[SECRET_PART];
	if (mem > MAX_KDF_MEMLIMIT || ops > (1ull << 40))
		return kho_error_set(KHO_ELIMIT, "the secret key asks for more than %llu MiB to decrypt",
			(unsigned long long)(MAX_KDF_MEMLIMIT >> 20));
	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof stream, passphrase, strlen(passphrase),
		salt, (unsigned long long)ops, (size_t)mem) != 0)
		return kho_error_set(KHO_ENOMEM, "not enough memory to derive the key from the passphrase");
	for (size_t i = 0; i < sizeof stream; i++)
		part[i] ^= stream[i];
	sodium_memzero(stream, sizeof stream);
	return KHO_OK;
}

int kho_secret_key_write(const char *path, const kho_secret_key *sec, const char *passphrase,
	bool overwrite)
{
	unsigned char bin[SECRET_BYTES] = { 0 };
	unsigned char *p = bin;
	memcpy(p, SIG_ALG, 2);
	memcpy(p + 2, passphrase ? KDF_ALG : "\0\0", 2);
	memcpy(p + 4, CHK_ALG, 2);
	unsigned char *salt = p + 6, *part = p + 6 + 32 + 16;
	if (passphrase) {
		randombytes_buf(salt, 32);
		le64_store(p + 38, KDF_OPSLIMIT);
		le64_store(p + 46, KDF_MEMLIMIT);
	}
	memcpy(part, sec->id, 8);
	memcpy(part + 8, sec->key, 64);
	secret_checksum(part + 72, sec);
	int rc = passphrase ? kdf_xor(part, passphrase, salt, KDF_OPSLIMIT, KDF_MEMLIMIT) : KHO_OK;
	char *b64 = rc ? NULL : to_base64(bin, sizeof bin);
	sodium_memzero(bin, sizeof bin);
	if (rc)
		return rc;
	if (!b64)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	char text[512];
	snprintf(text, sizeof text, "untrusted comment: minisign %ssecret key\n%s\n",
		passphrase ? "encrypted " : "", b64);
	sodium_memzero(b64, strlen(b64));
	free(b64);
	rc = write_file(path, text, 0600, overwrite);
	sodium_memzero(text, sizeof text);
	return rc;
}

/* The decoded secret key file at `path`. */
static int read_secret_bin(unsigned char bin[SECRET_BYTES], const char *path)
{
	char *text;
	size_t len;
	int rc = read_small(&text, &len, path, MAX_KEY_FILE, "secret key");
	if (rc)
		return rc;
	char *lines[3];
	size_t lens[3];
	int n = split_lines(text, len, lines, lens, 3);
	bool ok = n == 2 && !strncmp(lines[0], "untrusted comment:", 18) &&
		from_base64(bin, SECRET_BYTES, lines[1], lens[1]) && !memcmp(bin, SIG_ALG, 2) &&
		!memcmp(bin + 4, CHK_ALG, 2) &&
		(!memcmp(bin + 2, KDF_ALG, 2) || !memcmp(bin + 2, "\0\0", 2));
	sodium_memzero(text, len);
	free(text);
	return ok ? KHO_OK : kho_error_set(KHO_EINVALID, "%s is not a secret key (minisign's "
		"format)", path);
}

int kho_secret_key_encrypted(bool *out, const char *path)
{
	unsigned char bin[SECRET_BYTES];
	int rc = read_secret_bin(bin, path);
	*out = !rc && !memcmp(bin + 2, KDF_ALG, 2);
	sodium_memzero(bin, sizeof bin);
	return rc;
}

int kho_secret_key_read(kho_secret_key *out, const char *path, const char *passphrase)
{
	unsigned char bin[SECRET_BYTES];
	int rc = read_secret_bin(bin, path);
	if (rc)
		return rc;
	unsigned char *part = bin + 6 + 32 + 16;
	if (!memcmp(bin + 2, KDF_ALG, 2)) {
		if (!passphrase) {
			sodium_memzero(bin, sizeof bin);
			return kho_error_set(KHO_EINVALID, "%s is encrypted: a passphrase is needed", path);
		}
		rc = kdf_xor(part, passphrase, bin + 6, le64_load(bin + 38), le64_load(bin + 46));
	}
	if (!rc) {
		memcpy(out->id, part, 8);
		memcpy(out->key, part + 8, 64);
		unsigned char chk[32], zero[32] = { 0 }, pk[32], sk[64];
		secret_checksum(chk, out);
		/* minisign -W writes an unencrypted key with a zero checksum: then
		 * the key must at least hold the public key of its own seed */
		bool unchecked = !memcmp(bin + 2, "\0\0", 2) && !sodium_memcmp(part + 72, zero, 32);
		if (unchecked) {
			crypto_sign_seed_keypair(pk, sk, out->key);
			if (sodium_memcmp(pk, out->key + 32, 32))
				rc = kho_error_set(KHO_ECORRUPT, "%s: a damaged key", path);
			sodium_memzero(sk, sizeof sk);
		} else if (sodium_memcmp(chk, part + 72, 32)) {
			rc = kho_error_set(KHO_ESIGNATURE, "%s: wrong passphrase, or a damaged key", path);
		}
	}
	sodium_memzero(bin, sizeof bin);
	if (rc)
		sodium_memzero(out, sizeof *out);
	return rc;
}

/* ------------------------------------------------------------ signatures */

/* BLAKE2b-512 of the file at `path`, streamed. */
static int hash_file(unsigned char out[64], const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kho_error_set(errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "cannot read %s: %s",
			path, strerror(errno));
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 64);
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		crypto_generichash_update(&st, buf, (unsigned long long)n);
	int err = errno;
	close(fd);
	if (n < 0)
		return kho_error_set(KHO_EIO, "cannot read %s: %s", path, strerror(err));
	crypto_generichash_final(&st, out, 64);
	return KHO_OK;
}

int kho_sign_file(const char *path, const char *sig_path, const kho_secret_key *sec,
	const char *trusted_comment)
{
	if (strlen(trusted_comment) > MAX_COMMENT || strchr(trusted_comment, '\n') ||
	    strchr(trusted_comment, '\r'))
		return kho_error_set(KHO_EINVALID, "a trusted comment is one line of at most %d bytes",
			MAX_COMMENT);
	unsigned char digest[64], sig[SIG_BYTES], global[64 + MAX_COMMENT];
	int rc = hash_file(digest, path);
	if (rc)
		return rc;
	memcpy(sig, SIG_ALG_HASHED, 2);
	memcpy(sig + 2, sec->id, 8);
	crypto_sign_detached(sig + 10, NULL, digest, sizeof digest, sec->key);
	size_t tc = strlen(trusted_comment);
	memcpy(global, sig + 10, 64);
	memcpy(global + 64, trusted_comment, tc);
	unsigned char global_sig[64];
	crypto_sign_detached(global_sig, NULL, global, 64 + tc, sec->key);
	char *b1 = to_base64(sig, sizeof sig), *b2 = to_base64(global_sig, sizeof global_sig);
	size_t n = 256 + tc + (b1 ? strlen(b1) : 0) + (b2 ? strlen(b2) : 0);
	char *text = b1 && b2 ? malloc(n) : NULL;
	if (text)
		snprintf(text, n, "untrusted comment: signature from kho secret key\n%s\n"
			"trusted comment: %s\n%s\n", b1, trusted_comment, b2);
	free(b1);
	free(b2);
	if (!text)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	rc = write_file(sig_path, text, 0644, true);
	free(text);
	return rc;
}

int kho_verify_file(size_t *signer, char **trusted_comment, const char *path,
	const char *sig_path, const kho_public_key *keys, size_t n_keys)
{
	if (trusted_comment)
		*trusted_comment = NULL;
	char *text;
	size_t len;
	int rc = read_small(&text, &len, sig_path, MAX_SIG_FILE, "signature");
	if (rc)
		return rc;
	char *lines[5];
	size_t lens[5];
	int n = split_lines(text, len, lines, lens, 5);
	unsigned char sig[SIG_BYTES], global_sig[64];
	const char *tc = n == 4 && !strncmp(lines[2], "trusted comment: ", 17) ? lines[2] + 17 : NULL;
	if (!tc || strncmp(lines[0], "untrusted comment:", 18) ||
	    !from_base64(sig, sizeof sig, lines[1], lens[1]) ||
	    !from_base64(global_sig, sizeof global_sig, lines[3], lens[3]) ||
	    (memcmp(sig, SIG_ALG_HASHED, 2) && memcmp(sig, SIG_ALG, 2)) || strlen(tc) > MAX_COMMENT) {
		free(text);
		return kho_error_set(KHO_EINVALID, "%s is not a signature (minisign's format)", sig_path);
	}
	size_t k = 0;
	while (k < n_keys && memcmp(keys[k].id, sig + 2, 8))
		k++;
	char id[KHO_KEY_ID_HEX_SIZE];
	kho_key_id_hex(id, sig + 2);
	if (k == n_keys) {
		free(text);
		return kho_error_set(KHO_ENOTFOUND, "%s is signed by key %s, which is not trusted here",
			path, id);
	}
	bool hashed = !memcmp(sig, SIG_ALG_HASHED, 2);
	bool ok;
	if (hashed) {
		unsigned char digest[64];
		if ((rc = hash_file(digest, path))) {
			free(text);
			return rc;
		}
		ok = !crypto_sign_verify_detached(sig + 10, digest, sizeof digest, keys[k].key);
	} else {
		/* legacy: the whole file signed; only small files are read whole */
		char *data;
		size_t dlen;
		if ((rc = read_small(&data, &dlen, path, 64u << 20, "file"))) {
			free(text);
			return rc;
		}
		ok = !crypto_sign_verify_detached(sig + 10, (unsigned char *)data, dlen, keys[k].key);
		free(data);
	}
	size_t tlen = strlen(tc);
	unsigned char *global = malloc(64 + tlen);
	ok = ok && global;
	if (ok) {
		memcpy(global, sig + 10, 64);
		memcpy(global + 64, tc, tlen);
		ok = !crypto_sign_verify_detached(global_sig, global, 64 + tlen, keys[k].key);
	}
	free(global);
	if (!ok) {
		free(text);
		return kho_error_set(KHO_ESIGNATURE, "the signature of %s does not verify with key %s: "
			"the file was altered or the signature is not for it", path, id);
	}
	if (trusted_comment && !(*trusted_comment = strdup(tc))) {
		free(text);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	free(text);
	if (signer)
		*signer = k;
	return KHO_OK;
}
