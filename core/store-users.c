/*
 * store-users.c — teachers' accounts on the box (tables users, sessions,
 * favourites; docs/store.md). Passwords are Argon2id hashes (libsodium's
 * crypto_pwhash_str) with a cost a Raspberry Pi-class box can pay at each
 * sign-in: 3 passes over 32 MiB (docs/design.md "Accounts"). A session is a
 * random token whose BLAKE2b hash alone is stored, so that a copy of kho.db
 * signs no one in.
 */
#include "core-private.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PWHASH_OPS 3
#define PWHASH_MEM (32u << 20)

void kho_user_free(kho_user *u)
{
	if (!u)
		return;
	free(u->name);
	free(u->grades);
	free(u->subjects);
	free(u->lang);
	free(u);
}

void kho_users_free(kho_user *users, size_t n)
{
	for (size_t i = 0; users && i < n; i++) {
		free(users[i].name);
		free(users[i].grades);
		free(users[i].subjects);
		free(users[i].lang);
	}
	free(users);
}

static int check_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n)
		return kho_error_set(KHO_EINVALID, "a user name is 1 to 64 letters, digits, '.', '-' "
			"or '_'");
	return KHO_OK;
}

static int hash_password(char out[crypto_pwhash_STRBYTES], const char *password)
{
	size_t n = strlen(password);
	if (n < 8 || n > 1024)
		return kho_error_set(KHO_EINVALID, "a password is 8 to 1024 bytes");
	if (crypto_pwhash_str(out, password, n, PWHASH_OPS, PWHASH_MEM))
		return kho_error_set(KHO_ENOMEM, "not enough memory to hash a password");
	return KHO_OK;
}

static int exec_bind(kho_store *store, const char *sql, const char *a, const char *b,
	int64_t c, int64_t d, const char *what)
{
	sqlite3_stmt *st = store_prepare(store, sql);
	if (!st)
		return kho_error_last_code();
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c);
	sqlite3_bind_int64(st, 4, d);
	int src = sqlite3_step(st), rc = KHO_OK;
	if ((src & 0xff) == SQLITE_CONSTRAINT)
		rc = kho_error_set(KHO_EEXISTS, "%s: already there", what);
	else if (src != SQLITE_DONE)
		rc = kho_store_error(store, src, what);
	else if (!sqlite3_changes(kho_store_db(store)))
		rc = kho_error_set(KHO_ENOTFOUND, "%s: not found", what);
	sqlite3_finalize(st);
	return rc;
}

int kho_store_user_add(kho_store *store, const char *name, const char *password, bool admin)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc = check_name(name);
	if (!rc)
		rc = hash_password(hash, password);
	if (!rc)
		rc = exec_bind(store, "INSERT INTO users (name, password_hash, role, created_at)"
			" VALUES (?1, ?2, CASE ?3 WHEN 1 THEN 'admin' ELSE 'teacher' END, ?4)", name, hash,
			admin, (int64_t)time(NULL), "adding a user");
	if (rc == KHO_EEXISTS)
		rc = kho_error_set(KHO_EEXISTS, "there is a user '%s' already", name);
	return rc;
}

int kho_store_user_remove(kho_store *store, const char *name)
{
	int rc = exec_bind(store, "DELETE FROM users WHERE name = ?1", name, NULL, 0, 0,
		"removing a user");
	return rc == KHO_ENOTFOUND ? kho_error_set(rc, "no user '%s'", name) : rc;
}

int kho_store_user_passwd(kho_store *store, const char *name, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc = hash_password(hash, password);
	if (!rc && (rc = exec_bind(store, "UPDATE users SET password_hash = ?2 WHERE name = ?1",
		name, hash, 0, 0, "changing a password")) == KHO_ENOTFOUND)
		return kho_error_set(KHO_ENOTFOUND, "no user %s", name);
	/* a new password ends the user's sessions */
	if (!rc && (rc = exec_bind(store, "DELETE FROM sessions WHERE user_id IN (SELECT id"
		" FROM users WHERE name = ?1)", name, NULL, 0, 0, "ending sessions")) == KHO_ENOTFOUND) {
		kho_error_clear(); /* there were none */
		rc = KHO_OK;
	}
	return rc;
}

#define USER_COLUMNS "id, name, role, grades, subjects, lang, created_at"

static int read_user(kho_user *u, sqlite3_stmt *st)
{
	*u = (kho_user){ .id = sqlite3_column_int64(st, 0),
		.name = store_column_dup(st, 1),
		.admin = !strcmp((const char *)sqlite3_column_text(st, 2), "admin"),
		.grades = store_column_dup(st, 3), .subjects = store_column_dup(st, 4),
		.lang = store_column_dup(st, 5), .created_at = sqlite3_column_int64(st, 6) };
	return u->name && u->grades && u->subjects && u->lang ? KHO_OK :
		kho_error_set(KHO_ENOMEM, "out of memory");
}

int kho_store_users(kho_user **out, size_t *out_count, kho_store *store)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT " USER_COLUMNS " FROM users ORDER BY name");
	if (!st)
		return kho_error_last_code();
	kho_user *users = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_user *grown = realloc(users, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		users = grown;
		rc = read_user(&users[n++], st);
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "listing users");
	sqlite3_finalize(st);
	if (rc) {
		kho_users_free(users, n);
		return rc;
	}
	*out = users;
	*out_count = n;
	return KHO_OK;
}

int kho_store_user_check(kho_user **out, kho_store *store, const char *name,
	const char *password)
{
	*out = NULL;
	sqlite3_stmt *st = store_prepare(store, "SELECT " USER_COLUMNS ", password_hash FROM users"
		" WHERE name = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int src = sqlite3_step(st), rc = KHO_OK;
	/* an unknown name costs a verification too, so that timing tells nothing */
	static const char dummy[] = "$argon2id$v=19$m=32768,t=3,p=1$"
		"c29tZXNhbHRzb21lc2FsdA$0O+7gd0fPSUnmXWBBtK0B6gKhiZ4m8kkVf79zlAYaGY";
	const char *stored = src == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 7) : dummy;
	char hash[crypto_pwhash_STRBYTES] = ""; /* the size libsodium reads */
	snprintf(hash, sizeof hash, "%s", stored ? stored : "");
	bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 &&
		src == SQLITE_ROW;
	kho_user *u = ok ? calloc(1, sizeof *u) : NULL;
	if (ok && (!u || read_user(u, st)))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	else if (!ok && src != SQLITE_ROW && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "signing in");
	else if (!ok)
		rc = kho_error_set(KHO_ENOTFOUND, "wrong name or password");
	sqlite3_finalize(st);
	if (rc) {
		kho_user_free(u);
		return rc;
	}
	*out = u;
	return KHO_OK;
}

static void token_hash(char out[65], const char *token)
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof h);
}

static void random_hex(char out[65])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, 65, raw, sizeof raw);
}

int kho_store_session_new(char token[65], char csrf[65], kho_store *store, int64_t user_id,
	int64_t seconds)
{
	random_hex(token);
	random_hex(csrf);
	char hash[65];
	token_hash(hash, token);
	int64_t now = (int64_t)time(NULL);
	/* expired sessions go as new ones come */
	exec_bind(store, "DELETE FROM sessions WHERE expires_at < ?3", NULL, NULL, now, 0, "");
	kho_error_clear();
	sqlite3_stmt *st = store_prepare(store, "INSERT INTO sessions (token_hash, user_id, csrf,"
		" created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + seconds);
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(store, src, "starting a session");
}

int kho_store_session_get(kho_user **user, char csrf[65], kho_store *store, const char *token)
{
	*user = NULL;
	if (strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64)
		return kho_error_set(KHO_ENOTFOUND, "no such session");
	char hash[65];
	token_hash(hash, token);
	sqlite3_stmt *st = store_prepare(store, "SELECT u.id, u.name, u.role, u.grades, u.subjects,"
		" u.lang, u.created_at, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id"
		" WHERE s.token_hash = ?1 AND s.expires_at >= ?2");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	int src = sqlite3_step(st), rc = KHO_OK;
	kho_user *u = src == SQLITE_ROW ? calloc(1, sizeof *u) : NULL;
	if (src == SQLITE_ROW) {
		if (!u || read_user(u, st))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
		else
			snprintf(csrf, 65, "%s", (const char *)sqlite3_column_text(st, 7));
	} else if (src == SQLITE_DONE) {
		rc = kho_error_set(KHO_ENOTFOUND, "no such session (signed out, or expired)");
	} else {
		rc = kho_store_error(store, src, "reading a session");
	}
	sqlite3_finalize(st);
	if (rc) {
		kho_user_free(u);
		return rc;
	}
	*user = u;
	return KHO_OK;
}

int kho_store_session_end(kho_store *store, const char *token)
{
	char hash[65];
	token_hash(hash, token);
	int rc = exec_bind(store, "DELETE FROM sessions WHERE token_hash = ?1", hash, NULL, 0, 0,
		"ending a session");
	if (rc == KHO_ENOTFOUND) {
		kho_error_clear();
		rc = KHO_OK;
	}
	return rc;
}

int kho_store_favourite_add(kho_store *store, int64_t user_id, const char *pack, const char *lesson)
{
	int rc = exec_bind(store, "INSERT OR IGNORE INTO favourites (pack_id, lesson_id, user_id,"
		" added_at) VALUES (?1, ?2, ?3, ?4)", pack, lesson, user_id, (int64_t)time(NULL),
		"adding a favourite");
	if (rc == KHO_ENOTFOUND) /* nothing inserted */
		rc = kho_error_set(KHO_EEXISTS, "a favourite already");
	return rc;
}

int kho_store_favourite_remove(kho_store *store, int64_t user_id, const char *pack,
	const char *lesson)
{
	return exec_bind(store, "DELETE FROM favourites WHERE pack_id = ?1 AND lesson_id = ?2"
		" AND user_id = ?3", pack, lesson, user_id, 0, "removing a favourite");
}

void kho_favourites_free(kho_favourite *favs, size_t n)
{
	for (size_t i = 0; favs && i < n; i++) {
		free(favs[i].pack);
		free(favs[i].lesson);
	}
	free(favs);
}

int kho_store_favourites(kho_favourite **out, size_t *out_count, kho_store *store,
	int64_t user_id)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT pack_id, lesson_id, added_at FROM favourites"
		" WHERE user_id = ?1 ORDER BY added_at DESC, pack_id, lesson_id");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, user_id);
	kho_favourite *favs = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_favourite *grown = realloc(favs, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		favs = grown;
		favs[n] = (kho_favourite){ store_column_dup(st, 0), store_column_dup(st, 1),
			sqlite3_column_int64(st, 2) };
		if (!favs[n++].pack || !favs[n - 1].lesson)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading favourites");
	sqlite3_finalize(st);
	if (rc) {
		kho_favourites_free(favs, n);
		return rc;
	}
	*out = favs;
	*out_count = n;
	return KHO_OK;
}

static bool list_ok(const char *s, const char *chars, size_t max)
{
	return strlen(s) <= max && strspn(s, chars) == strlen(s);
}

int kho_store_user_profile(kho_store *store, int64_t user_id, const char *grades,
	const char *subjects, const char *lang)
{
	if ((grades && !list_ok(grades, "0123456789 ", 64)) ||
	    (subjects && !list_ok(subjects, "abcdefghijklmnopqrstuvwxyz0123456789- ", 512)) ||
	    (lang && strcmp(lang, "vi") && strcmp(lang, "en")))
		return kho_error_set(KHO_EINVALID, "grades are numbers, subjects codes (FORMAT.md), "
			"lang \"vi\" or \"en\"");
	sqlite3_stmt *st = store_prepare(store, "UPDATE users SET grades = coalesce(?2, grades),"
		" subjects = coalesce(?3, subjects), lang = coalesce(?4, lang) WHERE id = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, user_id);
	if (grades)
		sqlite3_bind_text(st, 2, grades, -1, SQLITE_STATIC);
	if (subjects)
		sqlite3_bind_text(st, 3, subjects, -1, SQLITE_STATIC);
	if (lang)
		sqlite3_bind_text(st, 4, lang, -1, SQLITE_STATIC);
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(store, src, "saving a profile");
}

/* history.opened_at is in milliseconds, and each lesson a teacher opens gets
 * a time after the one before (two opened in the same millisecond keep their
 * order too). */
static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kho_store_history_add(kho_store *store, int64_t user_id, const char *pack, const char *lesson)
{
	int rc = exec_bind(store, "INSERT INTO history (pack_id, lesson_id, user_id, opened_at)"
		" VALUES (?1, ?2, ?3, max(?4, 1 + coalesce((SELECT max(opened_at) FROM history"
		" WHERE user_id = ?3), 0))) ON CONFLICT (user_id, pack_id, lesson_id)"
		" DO UPDATE SET opened_at = max(excluded.opened_at, opened_at + 1)", pack, lesson,
		user_id, now_ms(), "recording a lesson opened");
	if (!rc) /* the oldest go */
		rc = exec_bind(store, "DELETE FROM history WHERE user_id = ?3 AND opened_at <"
			" (SELECT opened_at FROM history WHERE user_id = ?3"
			" ORDER BY opened_at DESC LIMIT 1 OFFSET ?4)", NULL, NULL, user_id,
			KHO_HISTORY_MAX - 1, "trimming the history");
	if (rc == KHO_ENOTFOUND) {
		kho_error_clear();
		rc = KHO_OK;
	}
	return rc;
}

int kho_store_history(kho_favourite **out, size_t *out_count, kho_store *store, int64_t user_id,
	size_t limit)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT pack_id, lesson_id, opened_at / 1000"
		" FROM history WHERE user_id = ?1 ORDER BY opened_at DESC, pack_id, lesson_id LIMIT ?2");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	kho_favourite *items = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_favourite *grown = realloc(items, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		items = grown;
		items[n] = (kho_favourite){ store_column_dup(st, 0), store_column_dup(st, 1),
			sqlite3_column_int64(st, 2) };
		if (!items[n++].pack || !items[n - 1].lesson)
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading the history");
	sqlite3_finalize(st);
	if (rc) {
		kho_favourites_free(items, n);
		return rc;
	}
	*out = items;
	*out_count = n;
	return KHO_OK;
}
