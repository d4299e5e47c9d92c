/*
 * store-usage.c — the box's settings, and the usage figures it keeps for the
 * centre (tables settings, usage_*; docs/store.md, docs/privacy.md).
 *
 * Per local day the box counts lesson opens and favourites per lesson, and
 * per normalised query the searches, those that found nothing and those
 * after which the asker opened no lesson. Who asked is kept only as a keyed
 * BLAKE2b hash under a random key of the day, so that distinct askers can
 * be counted for the k rule; the key is deleted when the day is over, and
 * every row of a day when it is reported. A day holds at most
 * KHO_USAGE_DAY_QUERIES queries, KHO_USAGE_ASKER_QUERIES per asker and
 * KHO_USAGE_DAY_ASKER_ROWS askers' rows, so that no client can fill the
 * disk: past them a search counts in the day's totals, under query ''
 * (never a normalised query), without its text. Recording is one short
 * transaction that gives up rather than wait behind an install, and is not
 * synced to disk at each commit: a power cut may lose the last figures,
 * never damage the store.
 */
#include "core-private.h"

#include <sodium.h>
#include <stdarg.h>
#include <time.h>
#include <utf8proc.h>

#define STORE_BUSY_MS 10000  /* how long store.c lets a connection wait for the lock */
#define USAGE_BUSY_MS 20     /* how long a recording waits before it gives up */
#define ASKER_SIZE 16        /* bytes of an asker's hash */

#define SETTING_ON "usage.report"
#define SETTING_K "usage.k"

/* --------------------------------------------------------------- helpers */

/* Prepares `sql` and binds one argument per letter of `types`: t text,
 * i int64, b an asker's hash (ASKER_SIZE bytes). NULL with the error set. */
static sqlite3_stmt *bound(kho_store *s, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	if (!st)
		return NULL;
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_blob(st, i + 1, va_arg(ap, const unsigned char *), ASKER_SIZE,
				SQLITE_TRANSIENT);
	}
	va_end(ap);
	return st;
}

/* Runs a bound statement to its end and frees it. */
static int done(kho_store *s, sqlite3_stmt *st, const char *what)
{
	if (!st)
		return kho_error_last_code();
	int src = sqlite3_step(st);
	sqlite3_finalize(st);
	return src == SQLITE_DONE || src == SQLITE_ROW ? KHO_OK : kho_store_error(s, src, what);
}

void kho_usage_day_of(char out[11], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(out, 11, "%Y-%m-%d", &tm))
		snprintf(out, 11, "1970-01-01");
}

/* -------------------------------------------------------------- settings */

int kho_store_setting(char **out, kho_store *s, const char *key)
{
	sqlite3_stmt *st = bound(s, "SELECT value FROM settings WHERE key = ?1", "t", key);
	if (!st)
		return kho_error_last_code();
	int rc, src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = (*out = kho_strdup((const char *)sqlite3_column_text(st, 0))) ? KHO_OK : KHO_ENOMEM;
	else if (src == SQLITE_DONE)
		rc = kho_error_set(KHO_ENOTFOUND, "no setting '%s'", key);
	else
		rc = kho_store_error(s, src, "reading the settings");
	sqlite3_finalize(st);
	return rc;
}

int kho_store_setting_set(kho_store *s, const char *key, const char *value)
{
	if (!value)
		return done(s, bound(s, "DELETE FROM settings WHERE key = ?1", "t", key),
			"changing the settings");
	return done(s, bound(s, "INSERT INTO settings (key, value) VALUES (?1, ?2)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value", "tt", key, value),
		"changing the settings");
}

int kho_store_usage_settings(kho_usage_settings *out, kho_store *s)
{
	kho_usage_settings u = { .on = true, .k = KHO_USAGE_K_DEFAULT };
	char *v = NULL;
	int rc = kho_store_setting(&v, s, SETTING_ON);
	if (!rc)
		u.on = strcmp(v, "off") != 0;
	free(v);
	v = NULL;
	if (rc == KHO_ENOTFOUND || !rc)
		rc = kho_store_setting(&v, s, SETTING_K);
	if (!rc) {
		long k = strtol(v, NULL, 10);
		u.k = k >= 1 && k <= KHO_USAGE_K_MAX ? (int)k : KHO_USAGE_K_DEFAULT;
	}
	free(v);
	if (rc && rc != KHO_ENOTFOUND)
		return rc;
	kho_error_clear();
	*out = u;
	return KHO_OK;
}

static const char *const usage_tables[] = {
	"usage_queries", "usage_lessons", "usage_askers", "usage_last", "usage_key",
};

int kho_store_usage_enable(kho_store *s, bool on)
{
	int rc = kho_store_exec(s, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	rc = kho_store_setting_set(s, SETTING_ON, on ? "on" : "off");
	for (size_t i = 0; !rc && !on && i < sizeof usage_tables / sizeof usage_tables[0]; i++) {
		char sql[64];
		snprintf(sql, sizeof sql, "DELETE FROM %s;", usage_tables[i]);
		rc = kho_store_exec(s, sql);
	}
	if (rc) {
		sqlite3_exec(kho_store_db(s), "ROLLBACK;", NULL, NULL, NULL);
		return rc;
	}
	return kho_store_exec(s, "COMMIT;");
}

int kho_store_usage_set_k(kho_store *s, int k)
{
	if (k < 1 || k > KHO_USAGE_K_MAX)
		return kho_error_set(KHO_EINVALID, "k is a number of askers from 1 to %d",
			KHO_USAGE_K_MAX);
	char v[16];
	snprintf(v, sizeof v, "%d", k);
	return kho_store_setting_set(s, SETTING_K, v);
}

/* --------------------------------------------------------- normalising */

static bool is_space(utf8proc_int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
		c == UTF8PROC_CATEGORY_ZP || c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF;
}

int kho_usage_normalise(char **out, const char *query)
{
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)query, 0, &mapped,
		UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
	if (n < 0)
		return kho_error_set(n == UTF8PROC_ERROR_NOMEM ? KHO_ENOMEM : KHO_EINVALID,
			"a query: %s", utf8proc_errmsg(n));
	char *o = malloc((size_t)n + 1);
	if (!o) {
		free(mapped);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	size_t len = 0;
	bool space = false;
	for (utf8proc_ssize_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t step = utf8proc_iterate(mapped + i, n - i, &cp);
		if (step <= 0)
			break;
		if (is_space(cp)) {
			space = len > 0;
		} else {
			size_t need = (size_t)step + (space ? 1 : 0);
			if (len + need > KHO_USAGE_QUERY_MAX)
				break;
			if (space)
				o[len++] = ' ';
			memcpy(o + len, mapped + i, (size_t)step);
			len += (size_t)step;
			space = false;
		}
		i += step;
	}
	o[len] = '\0';
	free(mapped);
	*out = o;
	return KHO_OK;
}

/* ------------------------------------------------------------ recording */

/* One recording: the day, the asker's hash under the day's key, and the
 * transaction it runs in. */
typedef struct recording {
	kho_store *s;
	char day[11];
	unsigned char asker[ASKER_SIZE];
	bool off;
	bool counted;      /* the asker has their row of the day (usage_askers, query '') */
	int64_t queries;   /* distinct queries recorded for the asker today (that row's n) */
} recording;

/* The day's key, made when the day has none; older days' keys and the
 * askers' last searches of older days (hashed under them) go. */
static int day_key(unsigned char key[crypto_generichash_KEYBYTES], recording *r)
{
	sqlite3_stmt *st = bound(r->s, "SELECT key FROM usage_key WHERE day = ?1", "t", r->day);
	if (!st)
		return kho_error_last_code();
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_bytes(st, 0) == crypto_generichash_KEYBYTES) {
		memcpy(key, sqlite3_column_blob(st, 0), crypto_generichash_KEYBYTES);
		sqlite3_finalize(st);
		return KHO_OK;
	}
	sqlite3_finalize(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return kho_store_error(r->s, src, "reading the day's key");
	randombytes_buf(key, crypto_generichash_KEYBYTES);
	int rc = done(r->s, bound(r->s, "DELETE FROM usage_key", ""), "a new day's key");
	if (!rc)
		rc = done(r->s, bound(r->s, "DELETE FROM usage_last WHERE day <> ?1", "t", r->day),
			"a new day's key");
	sqlite3_stmt *ins = rc ? NULL : store_prepare(r->s,
		"INSERT INTO usage_key (day, key) VALUES (?1, ?2)");
	if (!rc && !ins)
		rc = kho_error_last_code();
	if (ins) {
		sqlite3_bind_text(ins, 1, r->day, -1, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 2, key, crypto_generichash_KEYBYTES, SQLITE_STATIC);
		rc = done(r->s, ins, "a new day's key");
	}
	return rc;
}

/* One number from a bound query (0 when it has no row). */
static int number(int64_t *out, recording *r, sqlite3_stmt *st)
{
	if (!st)
		return kho_error_last_code();
	int src = sqlite3_step(st);
	*out = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? KHO_OK
		: kho_store_error(r->s, src, "recording usage");
}

/* The asker's row of the day, which counts them among the day's askers
 * and holds how many distinct queries were recorded for them; made while
 * the day has room (KHO_USAGE_DAY_ASKER_ROWS), else r->counted is false. */
static int asker_row(recording *r)
{
	sqlite3_stmt *st = bound(r->s, "SELECT n FROM usage_askers WHERE day = ?1 AND query = ''"
		" AND asker = ?2", "tb", r->day, r->asker);
	if (!st)
		return kho_error_last_code();
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		r->counted = true;
		r->queries = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return kho_store_error(r->s, src, "recording usage");
	if (r->counted)
		return KHO_OK;
	int64_t rows = 0;
	int rc = number(&rows, r, bound(r->s, "SELECT COUNT(*) FROM usage_askers WHERE day = ?1",
		"t", r->day));
	if (rc || rows >= KHO_USAGE_DAY_ASKER_ROWS)
		return rc;
	rc = done(r->s, bound(r->s, "INSERT INTO usage_askers (day, query, asker, n)"
		" VALUES (?1, '', ?2, 0)", "tb", r->day, r->asker), "recording usage");
	r->counted = !rc;
	return rc;
}

static int end(recording *r, int rc);

/* Starts a recording: r->off when recording is off (nothing to do); on an
 * error, nothing is left open. */
static int begin(recording *r, kho_store *s, const char *who, int64_t now)
{
	*r = (recording){ .s = s };
	kho_usage_settings set;
	int rc = kho_store_usage_settings(&set, s);
	if (rc)
		return rc;
	if ((r->off = !set.on))
		return KHO_OK;
	kho_usage_day_of(r->day, now);
	sqlite3 *db = kho_store_db(s);
	/* figures may be lost to a power cut, and are not worth a wait */
	sqlite3_exec(db, "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL);
	sqlite3_busy_timeout(db, USAGE_BUSY_MS);
	int src = sqlite3_exec(db, "BEGIN IMMEDIATE;", NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		rc = kho_store_error(s, src, "recording usage");
		sqlite3_busy_timeout(db, STORE_BUSY_MS);
		sqlite3_exec(db, "PRAGMA synchronous = FULL;", NULL, NULL, NULL);
		return rc;
	}
	unsigned char key[crypto_generichash_KEYBYTES];
	rc = day_key(key, r);
	if (!rc)
		crypto_generichash(r->asker, sizeof r->asker, (const unsigned char *)who, strlen(who),
			key, sizeof key);
	sodium_memzero(key, sizeof key);
	if (!rc)
		rc = asker_row(r);
	return rc ? end(r, rc) : KHO_OK;
}

/* Ends a recording begun without error: commits when `rc` is 0. */
static int end(recording *r, int rc)
{
	sqlite3 *db = kho_store_db(r->s);
	if (!rc) {
		int src = sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
		if (src != SQLITE_OK)
			rc = kho_store_error(r->s, src, "recording usage");
	}
	if (rc)
		sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	sqlite3_exec(db, "PRAGMA synchronous = FULL;", NULL, NULL, NULL);
	return rc;
}

/* A search whose query was not recorded (past a limit) is counted in the
 * day's row of query '' (never a normalised query, which is not blank), and
 * is remembered as the asker's last search by a tag: NOT_RECORDED, then a
 * hash of the query keyed by the asker's hash (so, under the day's key), so
 * that its next page is the same search without its text being kept. */
#define NOT_RECORDED '\x01'
#define TAG_SIZE (1 + 2 * ASKER_SIZE + 1)

static void tag_of(char out[TAG_SIZE], const recording *r, const char *q)
{
	unsigned char h[ASKER_SIZE];
	crypto_generichash(h, sizeof h, (const unsigned char *)q, strlen(q), r->asker,
		sizeof r->asker);
	out[0] = NOT_RECORDED;
	sodium_bin2hex(out + 1, TAG_SIZE - 1, h, sizeof h);
}

/* The query of usage_queries that a last search (query or tag) counts in. */
static const char *row_of(const char *last)
{
	return last[0] == NOT_RECORDED ? "" : last;
}

/* The asker's last search (usage_last), when it is of today. */
typedef struct last_search {
	bool there;
	char *query;  /* the query, or its tag when it was not recorded */
	int64_t at;
	bool typing;
	int outcome;  /* 0 found nothing, 1 found and nothing opened yet, 2 opened */
} last_search;

static int read_last(last_search *out, recording *r)
{
	*out = (last_search){ 0 };
	sqlite3_stmt *st = bound(r->s, "SELECT query, at, typing, outcome FROM usage_last"
		" WHERE asker = ?1 AND day = ?2", "bt", r->asker, r->day);
	if (!st)
		return kho_error_last_code();
	int rc = KHO_OK, src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->there = true;
		out->at = sqlite3_column_int64(st, 1);
		out->typing = sqlite3_column_int(st, 2) != 0;
		out->outcome = sqlite3_column_int(st, 3);
		if (!(out->query = store_column_dup(st, 0)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	} else if (src != SQLITE_DONE) {
		rc = kho_store_error(r->s, src, "recording usage");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Takes back the asker's last search: it was being typed and this one
 * replaces it. A query no longer recorded for the asker frees one of their
 * KHO_USAGE_ASKER_QUERIES. */
static int undo_search(recording *r, const last_search *last)
{
	const char *q = row_of(last->query);
	int rc = done(r->s, bound(r->s, "UPDATE usage_queries SET searches = searches - 1,"
		" found_nothing = found_nothing - (?3 = 0), no_open = no_open - (?3 = 1)"
		" WHERE day = ?1 AND query = ?2", "tti", r->day, q, (int64_t)last->outcome),
		"recording usage");
	if (!rc)
		rc = done(r->s, bound(r->s, "DELETE FROM usage_queries WHERE day = ?1 AND query = ?2"
			" AND searches <= 0", "tt", r->day, q), "recording usage");
	if (rc || !*q)
		return rc;
	rc = done(r->s, bound(r->s, "UPDATE usage_askers SET n = n - 1 WHERE day = ?1"
		" AND query = ?2 AND asker = ?3", "ttb", r->day, q, r->asker), "recording usage");
	if (!rc)
		rc = done(r->s, bound(r->s, "DELETE FROM usage_askers WHERE day = ?1 AND query = ?2"
			" AND asker = ?3 AND n <= 0", "ttb", r->day, q, r->asker), "recording usage");
	if (!rc && sqlite3_changes(kho_store_db(r->s)) > 0) {
		r->queries--;
		rc = done(r->s, bound(r->s, "UPDATE usage_askers SET n = n - 1 WHERE day = ?1"
			" AND query = '' AND asker = ?2", "tb", r->day, r->asker), "recording usage");
	}
	return rc;
}

/* Whether the query `q` may be recorded for the asker: they made it today
 * already, or neither they nor the day has reached its limit. *fresh when
 * it is a new query for the asker. */
static int may_record(bool *out, bool *fresh, recording *r, const char *q)
{
	*out = *fresh = false;
	if (!r->counted)
		return KHO_OK;
	int64_t n = 0;
	int rc = number(&n, r, bound(r->s, "SELECT n FROM usage_askers WHERE day = ?1"
		" AND query = ?2 AND asker = ?3", "ttb", r->day, q, r->asker));
	if (rc || n > 0 || r->queries >= KHO_USAGE_ASKER_QUERIES) {
		*out = !rc && n > 0;
		return rc;
	}
	*fresh = true;
	/* -1: the day has the query already */
	rc = number(&n, r, bound(r->s, "SELECT CASE WHEN EXISTS (SELECT 1 FROM usage_queries"
		" WHERE day = ?1 AND query = ?2) THEN -1 ELSE (SELECT COUNT(*) FROM usage_queries"
		" WHERE day = ?1 AND query <> '') END", "tt", r->day, q));
	*out = !rc && n < KHO_USAGE_DAY_QUERIES;
	return rc;
}

static int count_asker(recording *r, const char *query)
{
	return done(r->s, bound(r->s, "INSERT INTO usage_askers (day, query, asker, n)"
		" VALUES (?1, ?2, ?3, 1) ON CONFLICT (day, query, asker) DO UPDATE SET n = n + 1",
		"ttb", r->day, query, r->asker), "recording usage");
}

static int search_in(recording *r, const char *q, bool found, bool typing, int64_t now)
{
	char tag[TAG_SIZE];
	tag_of(tag, r, q);
	last_search last;
	int rc = read_last(&last, r);
	int outcome = found ? 1 : 0;
	const char *kept = q; /* what usage_last keeps: the query, or its tag */
	if (!rc && last.there && now - last.at < KHO_USAGE_OPEN_WINDOW &&
	    (!strcmp(last.query, q) || !strcmp(last.query, tag))) {
		/* the same search again: another page, a filter, Enter after typing */
		kept = last.query;
		if (last.outcome == 0 && found)
			rc = done(r->s, bound(r->s, "UPDATE usage_queries SET found_nothing ="
				" found_nothing - 1, no_open = no_open + 1 WHERE day = ?1 AND query = ?2",
				"tt", r->day, row_of(last.query)), "recording usage");
		outcome = last.outcome == 0 ? outcome : last.outcome;
	} else if (!rc) {
		bool record = false, fresh = false;
		if (last.there && last.typing && last.outcome != 2 &&
		    now - last.at < KHO_USAGE_TYPING_WINDOW)
			rc = undo_search(r, &last);
		if (!rc)
			rc = may_record(&record, &fresh, r, q);
		kept = record ? q : tag;
		if (!rc)
			rc = done(r->s, bound(r->s, "INSERT INTO usage_queries (day, query, searches,"
				" found_nothing, no_open) VALUES (?1, ?2, 1, ?3, ?4)"
				" ON CONFLICT (day, query) DO UPDATE SET searches = searches + 1,"
				" found_nothing = found_nothing + excluded.found_nothing,"
				" no_open = no_open + excluded.no_open", "ttii", r->day, record ? q : "",
				(int64_t)!found, (int64_t)found), "recording usage");
		if (!rc && record)
			rc = count_asker(r, q);
		if (!rc && record && fresh)
			rc = done(r->s, bound(r->s, "UPDATE usage_askers SET n = n + 1 WHERE day = ?1"
				" AND query = '' AND asker = ?2", "tb", r->day, r->asker),
				"recording usage");
	}
	if (!rc && r->counted) /* an asker not counted leaves nothing behind */
		rc = done(r->s, bound(r->s, "INSERT OR REPLACE INTO usage_last (asker, day, query, at,"
			" typing, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "bttiii", r->asker, r->day,
			kept, now, (int64_t)typing, (int64_t)outcome), "recording usage");
	free(last.query);
	return rc;
}

int kho_store_usage_search(kho_store *s, const char *asker, const char *query, bool found,
	bool typing, int64_t now)
{
	char *q = NULL;
	int rc = kho_usage_normalise(&q, query);
	if (rc || !*q) { /* a blank search is not one */
		free(q);
		return rc;
	}
	recording r;
	if (!(rc = begin(&r, s, asker, now)) && !r.off)
		rc = end(&r, search_in(&r, q, found, typing, now));
	free(q);
	return rc;
}

static int lesson_in(recording *r, const char *pack, const char *lesson, bool open,
	int64_t now)
{
	int rc = done(r->s, bound(r->s, "INSERT INTO usage_lessons (day, pack_id, lesson_id, opens,"
		" favourites) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (day, pack_id, lesson_id)"
		" DO UPDATE SET opens = opens + excluded.opens,"
		" favourites = favourites + excluded.favourites", "tttii", r->day, pack, lesson,
		(int64_t)open, (int64_t)!open), "recording usage");
	if (!rc && open) /* the asker's last search led to this open */
		rc = done(r->s, bound(r->s, "UPDATE usage_queries SET no_open = no_open - 1"
			" WHERE (day, query) IN (SELECT day, CASE WHEN unicode(query) = 1 THEN ''"
			" ELSE query END FROM usage_last WHERE asker = ?1 AND day = ?2 AND at > ?3"
			" AND outcome = 1)", "bti", r->asker, r->day, now - KHO_USAGE_OPEN_WINDOW),
			"recording usage");
	if (!rc && open)
		rc = done(r->s, bound(r->s, "UPDATE usage_last SET outcome = 2 WHERE asker = ?1"
			" AND day = ?2 AND at > ?3 AND outcome = 1", "bti", r->asker, r->day,
			now - KHO_USAGE_OPEN_WINDOW), "recording usage");
	return rc;
}

static int record_lesson(kho_store *s, const char *asker, const char *pack, const char *lesson,
	bool open, int64_t now)
{
	recording r;
	int rc = begin(&r, s, asker, now);
	if (!rc && !r.off)
		rc = end(&r, lesson_in(&r, pack, lesson, open, now));
	return rc;
}

int kho_store_usage_open(kho_store *s, const char *asker, const char *pack, const char *lesson,
	int64_t now)
{
	return record_lesson(s, asker, pack, lesson, true, now);
}

int kho_store_usage_favourite(kho_store *s, const char *asker, const char *pack,
	const char *lesson, int64_t now)
{
	return record_lesson(s, asker, pack, lesson, false, now);
}

/* -------------------------------------------------------------- figures */

void kho_usage_free(kho_usage *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_lessons; i++) {
		free(u->lessons[i].pack);
		free(u->lessons[i].lesson);
	}
	for (size_t i = 0; i < u->n_queries; i++)
		free(u->queries[i].query);
	free(u->days);
	free(u->lessons);
	free(u->queries);
	free(u);
}

/* Grows `*items` (of `size` bytes each) to hold one more; NULL when out of
 * memory. */
static void *grow(void *items, size_t n, size_t size)
{
	if (n & (n - 1) && n)
		return items; /* room is left: capacities are powers of two */
	void *p = realloc(items, (n ? 2 * n : 1) * size);
	if (!p)
		kho_error_set(KHO_ENOMEM, "out of memory");
	return p;
}

static int64_t col(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);
	return v > 0 ? v : 0;
}

static int read_days(kho_usage *u, kho_store *s, const char *through)
{
	sqlite3_stmt *st = bound(s, "WITH d (day) AS (SELECT day FROM usage_queries"
		" UNION SELECT day FROM usage_lessons UNION SELECT day FROM usage_askers)"
		" SELECT d.day,"
		"  (SELECT SUM(searches) FROM usage_queries q WHERE q.day = d.day),"
		"  (SELECT SUM(opens) FROM usage_lessons l WHERE l.day = d.day),"
		"  (SELECT COUNT(DISTINCT asker) FROM usage_askers a WHERE a.day = d.day)"
		" FROM d WHERE ?1 IS NULL OR d.day <= ?1 ORDER BY d.day", "t", through);
	if (!st)
		return kho_error_last_code();
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_usage_day *d = grow(u->days, u->n_days, sizeof *d);
		if (!d)
			break;
		u->days = d;
		d += u->n_days++;
		snprintf(d->day, sizeof d->day, "%s", (const char *)sqlite3_column_text(st, 0));
		d->searches = col(st, 1);
		d->opens = col(st, 2);
		d->askers = col(st, 3);
	}
	sqlite3_finalize(st);
	if (src == SQLITE_ROW)
		return KHO_ENOMEM;
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(s, src, "reading usage");
}

static int read_lessons(kho_usage *u, kho_store *s, const char *through)
{
	sqlite3_stmt *st = bound(s, "SELECT pack_id, lesson_id, SUM(opens), SUM(favourites)"
		" FROM usage_lessons WHERE ?1 IS NULL OR day <= ?1 GROUP BY pack_id, lesson_id"
		" ORDER BY 3 DESC, 4 DESC, 1, 2", "t", through);
	if (!st)
		return kho_error_last_code();
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_usage_lesson *l = grow(u->lessons, u->n_lessons, sizeof *l);
		if (!l)
			break;
		u->lessons = l;
		l += u->n_lessons;
		*l = (kho_usage_lesson){ store_column_dup(st, 0), store_column_dup(st, 1), col(st, 2),
			col(st, 3) };
		u->n_lessons++;
		if (!l->pack || !l->lesson) {
			kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_finalize(st);
	if (src == SQLITE_ROW)
		return KHO_ENOMEM;
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(s, src, "reading usage");
}

static int read_queries(kho_usage *u, kho_store *s, const char *through, int k)
{
	sqlite3_stmt *st = bound(s, "SELECT query, SUM(searches), SUM(found_nothing),"
		" SUM(no_open) FROM usage_queries q WHERE (?1 IS NULL OR day <= ?1) AND query <> ''"
		" AND (?2 <= 0 OR"
		" (SELECT COUNT(*) FROM usage_askers a WHERE a.day = q.day AND a.query = q.query"
		"  AND a.n > 0) >= ?2) GROUP BY query ORDER BY 2 DESC, 1", "ti", through, (int64_t)k);
	if (!st)
		return kho_error_last_code();
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_usage_query *q = grow(u->queries, u->n_queries, sizeof *q);
		if (!q)
			break;
		u->queries = q;
		q += u->n_queries;
		*q = (kho_usage_query){ store_column_dup(st, 0), col(st, 1), col(st, 2), col(st, 3) };
		u->n_queries++;
		if (!q->query) {
			kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_finalize(st);
	if (src == SQLITE_ROW)
		return KHO_ENOMEM;
	return src == SQLITE_DONE ? KHO_OK : kho_store_error(s, src, "reading usage");
}

int kho_store_usage(kho_usage **out, kho_store *s, const char *through, int k)
{
	kho_usage *u = calloc(1, sizeof *u);
	if (!u)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	u->k = k > 0 ? k : 0;
	/* one snapshot for the three reads */
	int rc = kho_store_exec(s, "BEGIN;");
	if (!rc) {
		rc = read_days(u, s, through);
		if (!rc)
			rc = read_lessons(u, s, through);
		if (!rc)
			rc = read_queries(u, s, through, k);
		sqlite3_exec(kho_store_db(s), rc ? "ROLLBACK;" : "COMMIT;", NULL, NULL, NULL);
	}
	if (rc) {
		kho_usage_free(u);
		return rc;
	}
	if (u->n_days) {
		memcpy(u->from, u->days[0].day, sizeof u->from);
		memcpy(u->to, u->days[u->n_days - 1].day, sizeof u->to);
	}
	*out = u;
	return KHO_OK;
}

int kho_store_usage_forget(kho_store *s, const char *through)
{
	int rc = kho_store_exec(s, "BEGIN IMMEDIATE;");
	for (size_t i = 0; !rc && i < sizeof usage_tables / sizeof usage_tables[0]; i++) {
		char sql[96];
		snprintf(sql, sizeof sql, "DELETE FROM %s WHERE day <= ?1", usage_tables[i]);
		rc = done(s, bound(s, sql, "t", through), "forgetting reported usage");
	}
	if (rc) {
		sqlite3_exec(kho_store_db(s), "ROLLBACK;", NULL, NULL, NULL);
		return rc;
	}
	return kho_store_exec(s, "COMMIT;");
}
