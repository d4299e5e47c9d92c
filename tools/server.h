/*
 * server.h — `kho serve`: the HTTP server (libmicrohttpd) that gives teachers
 * the web app, the JSON API (docs/api.md) and the lesson files. Shared by the
 * server's files only:
 *
 *   server.c         the daemon: limits, threads, routing, logging, responses
 *   server-api.c     /api/…: search, suggest, lessons, browse, packs, info
 *   server-files.c   /files/… (a pack's files from the blob store) and the
 *                    app's own files (embedded): ETag, Range, gzip, CSP
 *   server-config.c  the configuration file (kho.conf)
 *   server-repo.c    /repo/…: this box's synced packs as a repository
 *   server-account.c /api/login, logout, me, favourites: teachers' accounts
 */
#ifndef KHO_SERVER_H
#define KHO_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#include "kho_core.h"
#include "kho_index.h"

/* ------------------------------------------------------- configuration */

/* What a school sets (server-config.c reads it; tools/kho.conf.example). */
typedef struct server_config {
	char *listen;        /* ADDR:PORT; default 127.0.0.1:8080 */
	char *name;          /* the school's name, shown in the app; NULL for none */
	unsigned threads;    /* request threads; 0: one per core, at most 4 */
	unsigned idle_timeout; /* seconds before an idle connection closes; 0: 30 */
} server_config;

/* Reads `path` into `cfg` (keys it does not name keep their value). A file
 * that does not exist is KHO_ENOTFOUND; a bad line is KHO_EINVALID naming
 * the line. */
int server_config_read(server_config *cfg, const char *path);
void server_config_free(server_config *cfg);

/* Splits "ADDR:PORT" ("[v6]:PORT" for IPv6) into a socket address. */
struct sockaddr_storage;
int server_parse_listen(struct sockaddr_storage *out, size_t *out_len, const char *listen);

/* -------------------------------------------------------------- server */

typedef struct server server;

/* Starts serving the box at `home` in threads of its own; *url gets the
 * address to open (malloc'd). */
int server_start(server **out, char **url, const char *home, const server_config *cfg);
/* Stops accepting, finishes the requests in flight, frees. */
void server_stop(server *s);

/* ---------------------------------------------- what the handlers share */

/* The box as one request thread sees it: each thread opens its own store
 * and index (a connection is used by one thread at a time). */
typedef struct server_box {
	kho_store *store;
	kho_index *index;
} server_box;

/* A request being answered. */
typedef struct server_request {
	struct MHD_Connection *conn;
	const server_config *cfg;
	const char *path;        /* decoded, without the query string */
	const char *method;      /* GET, HEAD, POST or DELETE (POST and DELETE: /api/ only) */
	const char *body;        /* a POST's body, NUL-terminated ("" when none) */
	size_t body_len;
	bool head;               /* HEAD: headers only */
	server_box *box;         /* this thread's box, opened on first use */
	int status;              /* what was answered, for the log */
	uint64_t bytes;          /* body bytes answered, for the log */
} server_request;

/* This thread's box, or NULL (the error is set) when it cannot be opened. */
server_box *server_box_get(server_request *r, const char *home);

/* The value of query parameter `key`: NULL when absent; *bad set when it is
 * present but not valid text (NUL, control characters or not UTF-8), or
 * longer than `max` bytes. */
const char *server_arg(server_request *r, const char *key, size_t max, bool *bad);

/* Queue a response and record it for the log; all return MHD_YES/MHD_NO. */
enum MHD_Result server_send(server_request *r, int status, struct MHD_Response *resp);
enum MHD_Result server_send_json(server_request *r, int status, char *json);
enum MHD_Result server_send_error(server_request *r, int status, const char *message);
/* The error of the last failed kho call: 404 for KHO_ENOTFOUND, else 500. */
enum MHD_Result server_send_failure(server_request *r);

/* Adds the headers every answer carries (nosniff, referrer policy). */
void server_common_headers(struct MHD_Response *resp);

/* True when the client accepts gzip. */
bool server_accepts_gzip(server_request *r);

/* A gzip copy of `len` bytes (malloc'd, *out_len), or NULL when it would not
 * be smaller or memory ran out. */
unsigned char *server_gzip(const void *data, size_t len, size_t *out_len);

/* server-api.c: answers a path under /api/. */
enum MHD_Result server_api(server_request *r, const char *home);
/* The "/lesson/PACK/LESSON" address of a lesson in the app, as JSON. */
struct json_t *server_lesson_url(const char *pack, const char *lesson);

/* server-account.c: what needs a teacher's session — sign-in, sign-out, the
 * signed-in teacher, favourites, history, collections, home page, school:
 * `p` is the path after /api/, one for which server_is_account_path(). */
bool server_is_account_path(const char *p);
enum MHD_Result server_account(server_request *r, const char *home, const char *p);
/* server-collections.c: /api/collections…, `rest` the path after it ("",
 * "ID", "ID/items", "ID/export", "ID/outbox"), for the signed-in `u`. */
enum MHD_Result server_collections(server_request *r, server_box *box, const kho_user *u,
	const char *rest);
/* server-home.c: GET /api/home, the signed-in teacher's home page;
 * server_home_opened() says a lesson was opened (what the school opens
 * most is kept until then). */
enum MHD_Result server_home(server_request *r, server_box *box, const kho_user *u);
void server_home_opened(void);
/* server-school.c: /api/school/…, `rest` the path after it; admins only. */
enum MHD_Result server_school(server_request *r, server_box *box, const kho_user *u,
	const char *rest);
/* The client's address as text ("" when unknown). */
void server_client_ip(server_request *r, char out[48]);
/* The signed-in teacher (free with kho_user_free) and the session's CSRF
 * token, or NULL: no session cookie, or an unknown or expired one. */
kho_user *server_session_user(server_request *r, server_box *box, char csrf[65]);

/* server-repo.c: answers a path under /repo/ (this box as a repository). */
enum MHD_Result server_repo(server_request *r, const char *home);

/* server-files.c: answers a path under /files/; the app's files; whether
 * `path` is one of the app's pages (answered with index.html). */
enum MHD_Result server_pack_file(server_request *r, const char *home);
enum MHD_Result server_app_file(server_request *r, const char *name);

#endif
