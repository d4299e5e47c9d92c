/*
 * store-trust.c — the keys a box trusts (table trusted_keys): a pack signed
 * by one of them installs as verified; see tools/cmd-trust.c and
 * docs/signing.md. Keys are stored as minisign's base64 line, so that what
 * `kho trust list` shows can be compared with the author's .pub file.
 */
#include "core-private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int kho_store_trust_add(kho_store *store, const kho_public_key *key, const char *comment)
{
	char id[KHO_KEY_ID_HEX_SIZE];
	kho_key_id_hex(id, key->id);
	char *text = kho_public_key_text(key);
	if (!text)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	sqlite3_stmt *st = store_prepare(store, "INSERT INTO trusted_keys (key_id, public_key,"
		" comment, added_at) VALUES (?1, ?2, ?3, ?4)");
	int rc = st ? KHO_OK : kho_error_last_code();
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, comment ? comment : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		int src = sqlite3_step(st);
		if ((src & 0xff) == SQLITE_CONSTRAINT)
			rc = kho_error_set(KHO_EEXISTS, "key %s is trusted already", id);
		else if (src != SQLITE_DONE)
			rc = kho_store_error(store, src, "adding a trusted key");
	}
	sqlite3_finalize(st);
	free(text);
	return rc;
}

int kho_store_trust_remove(kho_store *store, const char *key_id)
{
	sqlite3_stmt *st = store_prepare(store, "DELETE FROM trusted_keys WHERE key_id = upper(?1)");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	int src = sqlite3_step(st), rc = KHO_OK;
	if (src != SQLITE_DONE)
		rc = kho_store_error(store, src, "removing a trusted key");
	else if (sqlite3_changes(kho_store_db(store)) == 0)
		rc = kho_error_set(KHO_ENOTFOUND, "no trusted key %s (see kho trust list)", key_id);
	sqlite3_finalize(st);
	return rc;
}

void kho_trusted_keys_free(kho_trusted_key *keys, size_t count)
{
	for (size_t i = 0; keys && i < count; i++)
		free(keys[i].comment);
	free(keys);
}

int kho_store_trusted_keys(kho_trusted_key **out, size_t *out_count, kho_store *store)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT key_id, public_key, comment, added_at"
		" FROM trusted_keys ORDER BY added_at, key_id");
	if (!st)
		return kho_error_last_code();
	kho_trusted_key *keys = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_trusted_key *grown = realloc(keys, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		keys = grown;
		kho_trusted_key *k = &keys[n];
		*k = (kho_trusted_key){ .added_at = sqlite3_column_int64(st, 3) };
		const char *text = (const char *)sqlite3_column_text(st, 1);
		if (!text || kho_public_key_parse(&k->key, text, strlen(text))) {
			rc = kho_error_set(KHO_ECORRUPT, "a trusted key in the store is damaged");
			break;
		}
		kho_key_id_hex(k->id_hex, k->key.id);
		if (!(k->comment = store_column_dup(st, 2)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
		n++;
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading the trusted keys");
	sqlite3_finalize(st);
	if (rc) {
		kho_trusted_keys_free(keys, n);
		return rc;
	}
	*out = keys;
	*out_count = n;
	return KHO_OK;
}
