/*
 * server-account.c — teachers' accounts in the API (docs/api.md "Accounts"):
 * sign-in and -out, who is signed in, favourites. A session is a cookie
 * (HttpOnly, SameSite=Strict, 14 days) holding a random token; every
 * request that changes something (POST, DELETE) must also carry the
 * session's CSRF token in the X-CSRF-Token header. Failed sign-ins are
 * limited per client address: after five in a minute, 429 until the
 * minute is over.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "server.h"
#include "usage.h"

#define SESSION_SECONDS (14 * 24 * 3600)
#define MAX_FAILURES 5          /* failed sign-ins per address per minute */
#define ADDRESSES 256           /* addresses whose failures are remembered */

/* ------------------------------------------------------------ rate limit */

static struct {
	pthread_mutex_t lock;
	struct { char ip[48]; int64_t window; int failures; } slots[ADDRESSES];
} limiter = { .lock = PTHREAD_MUTEX_INITIALIZER };

void server_client_ip(server_request *r, char out[48])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, 48);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out, 48);
}

/* Counts a sign-in attempt of `ip` (`step` +1) before its password is
 * checked, so that attempts in flight count too, or takes back one that
 * succeeded (-1); whether the attempt may go on: at most MAX_FAILURES
 * counted in the minute. */
static bool attempt(const char *ip, int step)
{
	int64_t minute = (int64_t)time(NULL) / 60;
	pthread_mutex_lock(&limiter.lock);
	size_t slot = 0;
	for (size_t i = 0; i < ADDRESSES; i++) {
		if (!strcmp(limiter.slots[i].ip, ip)) {
			slot = i;
			break;
		}
		if (limiter.slots[i].window < limiter.slots[slot].window)
			slot = i; /* the stalest, to reuse */
	}
	if (strcmp(limiter.slots[slot].ip, ip) || limiter.slots[slot].window != minute) {
		snprintf(limiter.slots[slot].ip, sizeof limiter.slots[slot].ip, "%s", ip);
		limiter.slots[slot].window = minute;
		limiter.slots[slot].failures = 0;
	}
	limiter.slots[slot].failures += step;
	if (limiter.slots[slot].failures < 0)
		limiter.slots[slot].failures = 0;
	bool ok = limiter.slots[slot].failures <= MAX_FAILURES;
	pthread_mutex_unlock(&limiter.lock);
	return ok;
}

/* --------------------------------------------------------------- helpers */

static char *dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

kho_user *server_session_user(server_request *r, server_box *box, char csrf[65])
{
	const char *token = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "kho_session");
	kho_user *u = NULL;
	if (token && kho_store_session_get(&u, csrf, box->store, token))
		kho_error_clear();
	return u;
}

static bool csrf_ok(server_request *r, const char csrf[65])
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
	return h && strlen(h) == 64 && sodium_memcmp(h, csrf, 64) == 0;
}

static enum MHD_Result send_with_cookie(server_request *r, int status, char *json,
	const char *cookie)
{
	if (!json)
		return server_send_error(r, 500, "out of memory");
	size_t len = strlen(json);
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, json,
		free);
	if (!resp) {
		free(json);
		return MHD_NO;
	}
	r->bytes = len;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	return server_send(r, status, resp);
}

static json_t *user_json(const kho_user *u, const char *csrf)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", u->name, "role",
		u->admin ? "admin" : "teacher", "grades", u->grades, "subjects", u->subjects,
		"lang", u->lang, "csrf", csrf);
}

/* ---------------------------------------------------------------- routes */

static enum MHD_Result login(server_request *r, server_box *box)
{
	char ip[48];
	server_client_ip(r, ip);
	if (!attempt(ip, +1))
		return server_send_error(r, 429, "too many failed sign-ins: wait a minute");
	json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(in, "name"));
	const char *password = json_string_value(json_object_get(in, "password"));
	if (!name || !password) {
		json_decref(in);
		attempt(ip, -1); /* no password was tried */
		return server_send_error(r, 400, "send {\"name\": …, \"password\": …}");
	}
	kho_user *u = NULL;
	int rc = kho_store_user_check(&u, box->store, name, password);
	json_decref(in);
	if (rc != KHO_ENOTFOUND)
		attempt(ip, -1); /* only failures count */
	if (rc == KHO_ENOTFOUND) {
		kho_log_info("a failed sign-in from %s", ip);
		return server_send_error(r, 401, "wrong name or password");
	}
	char token[65], csrf[65];
	if (rc || kho_store_session_new(token, csrf, box->store, u->id, SESSION_SECONDS)) {
		kho_user_free(u);
		return server_send_failure(r);
	}
	char cookie[200];
	snprintf(cookie, sizeof cookie, "kho_session=%s; Path=/; HttpOnly; SameSite=Strict; "
		"Max-Age=%d", token, SESSION_SECONDS);
	sodium_memzero(token, sizeof token);
	char *json = dump(user_json(u, csrf));
	kho_user_free(u);
	return send_with_cookie(r, 200, json, cookie);
}

/* POST {"pack", "lesson"}: a lesson on the box added to the teacher's
 * favourites, or to their history (opened now). */
static enum MHD_Result add_lesson(server_request *r, server_box *box, const kho_user *u,
	bool favourite)
{
	json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *pack = json_string_value(json_object_get(in, "pack"));
	const char *lesson = json_string_value(json_object_get(in, "lesson"));
	kho_lesson_info *info = NULL;
	int rc = pack && lesson ? kho_store_lesson(&info, box->store, pack, lesson) : KHO_EINVALID;
	kho_lesson_info_free(info);
	if (!rc && favourite && !(rc = kho_store_favourite_add(box->store, u->id, pack, lesson)))
		server_usage_favourite(r, box, u, pack, lesson); /* a new one only */
	if (rc == KHO_EEXISTS) {
		kho_error_clear();
		rc = KHO_OK;
	}
	else if (!rc && !favourite && !(rc = kho_store_history_add(box->store, u->id, pack, lesson)))
		server_home_opened();
	json_decref(in);
	if (rc == KHO_EINVALID)
		return server_send_error(r, 400, "send {\"pack\": …, \"lesson\": …}");
	return rc ? server_send_failure(r) : server_send_json(r, 201, dump(json_pack("{s:b}",
		"ok", 1)));
}

static enum MHD_Result favourites(server_request *r, server_box *box, const kho_user *u,
	const char *rest)
{
	if (!strcmp(r->method, "GET") || r->head) {
		kho_favourite *f = NULL;
		size_t n = 0;
		if (kho_store_favourites(&f, &n, box->store, u->id))
			return server_send_failure(r);
		json_t *list = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "pack", f[i].pack,
				"lesson", f[i].lesson, "added_at", (json_int_t)f[i].added_at));
		kho_favourites_free(f, n);
		return server_send_json(r, 200, dump(json_pack("{s:o}", "favourites", list)));
	}
	if (!strcmp(r->method, "POST") && !*rest)
		return add_lesson(r, box, u, true);
	const char *slash = strchr(rest, '/');
	if (!strcmp(r->method, "DELETE") && slash && slash != rest && slash[1]) {
		char pack[256];
		snprintf(pack, sizeof pack, "%.*s", (int)(slash - rest), rest);
		if (kho_store_favourite_remove(box->store, u->id, pack, slash + 1))
			return server_send_failure(r);
		return server_send_json(r, 200, dump(json_pack("{s:b}", "ok", 1)));
	}
	return server_send_error(r, 405, "GET or POST /api/favourites, DELETE /api/favourites/PACK/LESSON");
}

/* GET: the lessons the teacher opened, last first ("continue where you
 * left off"); POST {"pack", "lesson"}: one more opened. */
static enum MHD_Result history(server_request *r, server_box *box, const kho_user *u)
{
	if (!strcmp(r->method, "POST"))
		return add_lesson(r, box, u, false);
	if (strcmp(r->method, "GET") && !r->head)
		return server_send_error(r, 405, "GET or POST /api/history");
	kho_favourite *h = NULL;
	size_t n = 0;
	if (kho_store_history(&h, &n, box->store, u->id, 50))
		return server_send_failure(r);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "pack", h[i].pack,
			"lesson", h[i].lesson, "opened_at", (json_int_t)h[i].added_at));
	kho_favourites_free(h, n);
	return server_send_json(r, 200, dump(json_pack("{s:o}", "history", list)));
}

/* `p` without its first segment when that is `name`: "" for the segment
 * alone, what follows its "/" otherwise; NULL when `p` is elsewhere. */
static const char *under(const char *p, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(p, name, n))
		return NULL;
	return !p[n] ? p + n : p[n] == '/' ? p + n + 1 : NULL;
}

bool server_is_account_path(const char *p)
{
	static const char *const paths[] = { "login", "logout", "me", "favourites", "history",
		"collections", "home", "school" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (under(p, paths[i]))
			return true;
	return false;
}

enum MHD_Result server_account(server_request *r, const char *home, const char *p)
{
	server_box *box = server_box_get(r, home);
	if (!box)
		return server_send_failure(r);
	bool write = !strcmp(r->method, "POST") || !strcmp(r->method, "DELETE");
	if (!strcmp(p, "login"))
		return !strcmp(r->method, "POST") ? login(r, box) :
			server_send_error(r, 405, "sign in with POST");
	char csrf[65] = "";
	kho_user *u = server_session_user(r, box, csrf);
	if (!u)
		return server_send_error(r, 401, "sign in first");
	enum MHD_Result res;
	if (write && !csrf_ok(r, csrf))
		res = server_send_error(r, 403, "the X-CSRF-Token header is missing or wrong");
	else if (!strcmp(p, "logout") && !strcmp(r->method, "POST")) {
		const char *token = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "kho_session");
		if (token)
			kho_store_session_end(box->store, token);
		res = send_with_cookie(r, 200, dump(json_pack("{s:b}", "ok", 1)),
			"kho_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	} else if (!strcmp(p, "me") && !write) {
		res = server_send_json(r, 200, dump(user_json(u, csrf)));
	} else if (!strcmp(p, "me") && !strcmp(r->method, "POST")) {
		json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
		int rc = !json_is_object(in) ? kho_error_set(KHO_EINVALID, "send a JSON object") :
			kho_store_user_profile(box->store, u->id,
				json_string_value(json_object_get(in, "grades")),
				json_string_value(json_object_get(in, "subjects")),
				json_string_value(json_object_get(in, "lang")));
		json_decref(in);
		kho_user *now = NULL;
		char again[65];
		if (rc == KHO_EINVALID)
			res = server_send_error(r, 400, kho_error_last());
		else if (rc || !(now = server_session_user(r, box, again)))
			res = server_send_failure(r);
		else
			res = server_send_json(r, 200, dump(user_json(now, csrf)));
		kho_user_free(now);
	} else if (!strcmp(p, "history"))
		res = history(r, box, u);
	else if (!strcmp(p, "favourites") || !strncmp(p, "favourites/", 11))
		res = favourites(r, box, u, p[10] == '/' ? p + 11 : "");
	else if (under(p, "collections"))
		res = server_collections(r, box, u, under(p, "collections"));
	else if (!strcmp(p, "home"))
		res = server_home(r, box, u);
	else if (under(p, "school"))
		res = server_school(r, box, u, under(p, "school"));
	else
		res = server_send_error(r, 404, "no such API (see docs/api.md)");
	kho_user_free(u);
	return res;
}
