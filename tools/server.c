/*
 * server.c — the daemon behind `kho serve`. libmicrohttpd listens in its own
 * threads (a small pool, one per core), each of which opens the box once for
 * the requests it answers. Everything a client sends is hostile until
 * checked: only GET and HEAD, no bodies, bounded URIs and headers, a cap on
 * connections in all and per address, and a timeout for idle ones. Each
 * request is logged on one line at info level: method, path (never the query
 * string: what teachers search stays on the box), status, bytes, time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <jansson.h>

#include "cli.h"
#include "server.h"

/* Limits on what clients may send and hold (docs/serve.md). */
#define MAX_CONNECTIONS 512      /* in all */
#define MAX_PER_ADDRESS 64       /* from one address (a school NAT is one) */
#define IDLE_TIMEOUT 30          /* seconds before an idle connection closes (default) */
#define MEMORY_PER_CONNECTION (64 * 1024) /* request line and headers fit in it */
#define MAX_URI 4096             /* bytes of a request's URI */
#define STOP_WAIT 10.0           /* seconds a stop waits for requests in flight */
#define MAX_BODY 65536           /* bytes of a request body (POST to /api/ only) */

/* Words searched once in each box before teachers do (kho_index_common_words). */
#define WARM_WORDS 32

struct server {
	struct MHD_Daemon *daemon;
	char *home;
	const server_config *cfg;
	pthread_t warmer;
	unsigned threads;
	bool warming;   /* the warmer thread was started */
};

/* What MHD keeps for a request between its callbacks (*con_cls). */
typedef struct request_state {
	double started;
	char method[16];  /* for the log */
	bool bad_uri;   /* an encoded NUL, or longer than MAX_URI */
	bool too_long;
	bool called;    /* the handler has seen it once */
	bool too_big;   /* a body over MAX_BODY arrived */
	char *body;     /* malloc'd as it arrives (at most MAX_BODY), or NULL */
	server_request r;
} request_state;

/* --------------------------------------------------------- the thread's box */

static pthread_key_t box_key;
static pthread_once_t box_once = PTHREAD_ONCE_INIT;

static void box_free(void *p)
{
	server_box *b = p;
	if (!b)
		return;
	kho_index_free(b->index);
	kho_store_free(b->store);
	free(b);
}

static void make_box_key(void)
{
	pthread_key_create(&box_key, box_free);
}

/* Boxes opened and warmed ahead by the warmer thread, for request threads
 * to take on their first request: the first searches of a large index read
 * each lesson's facet values and the lesson sets of its common words (up to
 * a second at a million lessons), which teachers should not wait for. */
static struct {
	pthread_mutex_t lock;
	server_box *boxes[64];
	size_t n;
	unsigned claimed; /* request threads that have a box, warm or not */
	bool stop;   /* the server is stopping: the warmer ends early */
} warm = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A warm box for a request thread that has none (NULL: it opens its own). */
static server_box *claim_box(void)
{
	pthread_mutex_lock(&warm.lock);
	server_box *b = warm.n ? warm.boxes[--warm.n] : NULL;
	warm.claimed++;
	pthread_mutex_unlock(&warm.lock);
	return b;
}

/* Whether a request thread still lacks a box that is warm or being warmed. */
static bool box_wanted(unsigned threads)
{
	pthread_mutex_lock(&warm.lock);
	bool wanted = !warm.stop && warm.claimed + warm.n < threads;
	pthread_mutex_unlock(&warm.lock);
	return wanted;
}

static bool warm_stopping(void)
{
	pthread_mutex_lock(&warm.lock);
	bool stop = warm.stop;
	pthread_mutex_unlock(&warm.lock);
	return stop;
}

static void *warmer(void *arg)
{
	server *s = arg;
	unsigned threads = s->threads;
	double t0 = kho_log_clock();
	unsigned made = 0;
	while (made < 64 && box_wanted(threads)) {
		server_box *b = calloc(1, sizeof *b);
		if (!b || kho_store_open(&b->store, s->home) || kho_index_open(&b->index, b->store)) {
			box_free(b);
			break;
		}
		char **words = NULL;
		size_t n = 0;
		if (!kho_index_common_words(&words, &n, b->index, WARM_WORDS))
			for (size_t w = 0; w <= n && !warm_stopping(); w++) {
				/* the first search reads the facet values, even of no word */
				kho_search_query q = { .text = w < n ? words[w] : "", .limit = 10 };
				kho_search_result *res = NULL;
				if (!kho_index_search(&res, b->index, &q))
					kho_search_result_free(res);
			}
		kho_index_words_free(words, n);
		/* kept only while a request thread has none yet */
		pthread_mutex_lock(&warm.lock);
		bool keep = !warm.stop && warm.claimed + warm.n < threads;
		if (keep)
			warm.boxes[warm.n++] = b;
		pthread_mutex_unlock(&warm.lock);
		if (!keep)
			box_free(b);
		made += keep;
	}
	kho_log_info("warmed %u of %u request threads' boxes in %.0f ms", made, threads,
		(kho_log_clock() - t0) * 1e3);
	return NULL;
}

server_box *server_box_get(server_request *r, const char *home)
{
	if (r->box)
		return r->box;
	pthread_once(&box_once, make_box_key);
	server_box *b = pthread_getspecific(box_key);
	static _Thread_local bool claimed; /* this thread asked for a warm box */
	if (!b && !claimed) {
		claimed = true;
		if ((b = claim_box()))
			pthread_setspecific(box_key, b);
	}
	if (!b) {
		b = calloc(1, sizeof *b);
		if (!b) {
			kho_error_set(KHO_ENOMEM, "out of memory");
			return NULL;
		}
		if (kho_store_open(&b->store, home) || kho_index_open(&b->index, b->store)) {
			box_free(b);
			return NULL;
		}
		pthread_setspecific(box_key, b);
	}
	return r->box = b;
}

/* ------------------------------------------------------------- responses */

void server_common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

enum MHD_Result server_send(server_request *r, int status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	server_common_headers(resp);
	r->status = status;
	enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ok;
}

bool server_accepts_gzip(server_request *r)
{
	const char *p = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_ACCEPT_ENCODING);
	/* a list of codings, each maybe with ";q=WEIGHT"; q=0 refuses one */
	while (p && *p) {
		p += strspn(p, " \t,");
		size_t name = strcspn(p, " \t;,");
		const char *end = p + strcspn(p, ",");
		if (name == 4 && !strncasecmp(p, "gzip", 4)) {
			const char *q = p + name;
			while (q < end && (q = strchr(q, ';')) && q < end) {
				q++;
				q += strspn(q, " \t");
				if (q[0] == 'q' || q[0] == 'Q') {
					const char *eq = q + 1 + strspn(q + 1, " \t");
					if (*eq == '=')
						return strtod(eq + 1 + strspn(eq + 1, " \t"), NULL) > 0.0;
				}
			}
			return true;
		}
		p = end;
	}
	return false;
}

unsigned char *server_gzip(const void *data, size_t len, size_t *out_len)
{
	if (len > UINT32_MAX)
		return NULL;
	z_stream z = { 0 };
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	uLong cap = deflateBound(&z, (uLong)len);
	unsigned char *out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int zrc = deflate(&z, Z_FINISH);
	size_t n = z.total_out;
	deflateEnd(&z);
	if (zrc != Z_STREAM_END || n >= len) {
		free(out);
		return NULL;
	}
	*out_len = n;
	return out;
}

enum MHD_Result server_send_json(server_request *r, int status, char *json)
{
	if (!json)
		return server_send_error(r, 500, "out of memory");
	size_t len = strlen(json);
	struct MHD_Response *resp;
	size_t zlen;
	unsigned char *z = len >= 1024 && server_accepts_gzip(r) ? server_gzip(json, len, &zlen) :
		NULL;
	if (z) {
		free(json);
		resp = MHD_create_response_from_buffer_with_free_callback(zlen, z, free);
		if (!resp)
			free(z);
		else
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
		r->bytes = zlen;
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(len, json, free);
		if (!resp)
			free(json);
		r->bytes = len;
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	return server_send(r, status, resp);
}

enum MHD_Result server_send_error(server_request *r, int status, const char *message)
{
	/* the message may quote what the client sent, cut anywhere: jansson
	 * escapes it, and cli_json_text() mends bytes that are not UTF-8 */
	json_t *root = json_pack("{s:o}", "error", cli_json_text(message));
	char *json = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return server_send_json(r, status, json);
}

enum MHD_Result server_send_failure(server_request *r)
{
	int code = kho_error_last_code();
	const char *msg = kho_error_last();
	if (code == KHO_ENOTFOUND)
		return server_send_error(r, 404, msg);
	kho_log_error("%s: %s", r->path, msg);
	return server_send_error(r, code == KHO_EBUSY ? 503 : 500,
		code == KHO_EBUSY ? "the box is busy; try again" : "the box could not answer");
}

/* -------------------------------------------------------- request checks */

/* True when `s` (`len` bytes) is UTF-8 text without control characters
 * (C0, DEL, or C1: U+0080–U+009F, encoded C2 80–C2 9F). */
static bool clean_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f ||
		    (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] < 0xA0))
			return false;
	}
	return kho_utf8_valid(s, len);
}

const char *server_arg(server_request *r, const char *key, size_t max, bool *bad)
{
	const char *value = NULL;
	size_t len = 0;
	if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &value,
		&len) != MHD_YES || !value)
		return NULL;
	if (len > max || strlen(value) != len || !clean_text(value, len)) {
		*bad = true;
		return NULL;
	}
	return value;
}

#define MAX_PARAMS 16

/* What check_arg() has seen of a request's parameters. */
typedef struct arg_check {
	const char *keys[MAX_PARAMS];
	size_t n;
	const char *problem; /* NULL while all is well */
} arg_check;

/* Every query parameter must be clean text too, named or not, and given
 * once: which of two values counts would be a guess. */
static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
	size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	arg_check *c = cls;
	if (!key || strlen(key) != key_size || !clean_text(key, key_size) ||
	    (value && (strlen(value) != value_size || !clean_text(value, value_size)))) {
		c->problem = "a parameter is not valid UTF-8 text";
		return MHD_NO;
	}
	for (size_t i = 0; i < c->n; i++)
		if (!strcasecmp(c->keys[i], key)) { /* MHD finds them without case */
			c->problem = "a parameter is given twice";
			return MHD_NO;
		}
	if (c->n == MAX_PARAMS) {
		c->problem = "too many parameters";
		return MHD_NO;
	}
	c->keys[c->n++] = key;
	return MHD_YES;
}

/* ----------------------------------------------------------------- routing */

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Paths of the app's pages: each is answered with index.html. */
static bool app_page(const char *path)
{
	return !strcmp(path, "/") || has_prefix(path, "/lesson/") || !strcmp(path, "/browse") ||
		has_prefix(path, "/browse/") || !strcmp(path, "/search") || !strcmp(path, "/signin") ||
		!strcmp(path, "/me") || has_prefix(path, "/me/");
}

/* True when a segment of `path` is empty, "." or ".." (after the first "/"). */
static bool odd_segments(const char *path)
{
	for (const char *seg = path + 1;;) {
		size_t n = strcspn(seg, "/");
		if ((n == 0 && seg[n]) || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		if (!seg[n])
			return false;
		seg += n + 1;
	}
}

static enum MHD_Result route(server_request *r, const char *home)
{
	if (r->path[0] != '/' || odd_segments(r->path) || strchr(r->path, '\\'))
		return server_send_error(r, 400, "an address must not hold empty, '.' or '..' parts");
	if (has_prefix(r->path, "/api/"))
		return server_api(r, home);
	if (has_prefix(r->path, "/files/"))
		return server_pack_file(r, home);
	if (has_prefix(r->path, "/repo/"))
		return server_repo(r, home);
	if (has_prefix(r->path, "/app/"))
		return server_app_file(r, r->path + strlen("/app/"));
	if (app_page(r->path))
		return server_app_file(r, "index.html");
	if (!strcmp(r->path, "/favicon.ico"))
		return server_app_file(r, "icon.svg");
	return server_send_error(r, 404, "no such page");
}

/* Whether a change comes from the box's own pages: browsers say where a
 * request comes from (Sec-Fetch-Site, Origin); a page of another site must
 * not sign a teacher in, nor change anything (with the CSRF token, this
 * covers the sign-in, which has no session yet). Clients that send neither
 * header (scripts, old browsers) are not pages of another site. */
static bool same_origin(struct MHD_Connection *conn)
{
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return false;
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	if (!origin)
		return true;
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *rest = has_prefix(origin, "http://") ? origin + 7 :
		has_prefix(origin, "https://") ? origin + 8 : NULL;
	return rest && host && !strcmp(rest, host);
}

/* A body sent as JSON: a form of another site cannot send that without
 * asking first (CORS), and the box never says yes. */
static bool json_body(struct MHD_Connection *conn)
{
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE);
	return type && has_prefix(type, "application/json") &&
		(!type[16] || type[16] == ';' || type[16] == ' ');
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data, size_t *upload_size,
	void **con_cls)
{
	(void)version;
	(void)upload_data;
	server *s = cls;
	request_state *st = *con_cls;
	if (!st)
		return MHD_NO; /* the URI callback always makes one */
	server_request *r = &st->r;
	if (r->status) {
		/* a body arrived after the answer was queued: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	/* POST and DELETE change a teacher's things, under /api/ only, with a
	 * small JSON body (collected over the calls that bring it) */
	bool write = !strcmp(method, MHD_HTTP_METHOD_POST) || !strcmp(method, MHD_HTTP_METHOD_DELETE);
	bool api_write = write && has_prefix(url, "/api/");
	if (*upload_size > 0) {
		if (!api_write || r->body_len + *upload_size > MAX_BODY)
			st->too_big = true;
		else {
			char *grown = realloc(st->body, r->body_len + *upload_size + 1);
			if (!grown)
				return MHD_NO;
			st->body = grown;
			memcpy(st->body + r->body_len, upload_data, *upload_size);
			r->body_len += *upload_size;
			st->body[r->body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	r->conn = conn;
	r->cfg = s->cfg;
	r->path = url;
	r->method = st->method;
	r->body = st->body ? st->body : "";
	r->head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	snprintf(st->method, sizeof st->method, "%s", method);
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *chunked = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_TRANSFER_ENCODING);
	bool body = (length && strcmp(length, "0")) || chunked;
	bool body_ok = api_write && length && !chunked && strtoull(length, NULL, 10) <= MAX_BODY;
	/* A request without a body is answered on the second call: answered on
	 * the first, libmicrohttpd closes the connection after it (no
	 * keep-alive). Bad requests are answered at once, and closed. */
	if (!st->called && (!body || body_ok) && !st->too_long && !st->bad_uri) {
		st->called = true;
		return MHD_YES;
	}
	if (st->too_long)
		return server_send_error(r, 414, "the address is too long");
	if (st->bad_uri)
		return server_send_error(r, 400, "the address holds a NUL byte");
	if (!r->head && strcmp(method, MHD_HTTP_METHOD_GET) && !api_write) {
		static const char only[] = "{\"error\":\"the box answers GET and HEAD only "
			"(and POST and DELETE to its API)\"}\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof only - 1,
			(void *)(uintptr_t)only, MHD_RESPMEM_PERSISTENT);
		if (resp) {
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");

			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json; charset=utf-8");
		}
		return server_send(r, 405, resp);
	}
	if ((body && !body_ok) || st->too_big)
		return server_send_error(r, 413, api_write ? "a request body is at most 64 KiB of "
			"JSON" : "requests to the box carry no body");
	if (api_write && !same_origin(conn))
		return server_send_error(r, 403, "changes come from the box's own pages only");
	if (api_write && body && !json_body(conn))
		return server_send_error(r, 415, "send the body as application/json");
	if (!clean_text(url, strlen(url)))
		return server_send_error(r, 400, "the address is not valid UTF-8 text");
	arg_check args = { .n = 0 };
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, check_arg, &args);
	if (args.problem)
		return server_send_error(r, 400, args.problem);
	return route(r, s->home);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	request_state *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->started = kho_log_clock();
	size_t len = strlen(uri);
	st->too_long = len > MAX_URI;
	for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%'))
		if (p[1] == '0' && p[2] == '0')
			st->bad_uri = true;
	return st;
}

/* `s` for a log line: control characters, C1 controls and bytes of invalid
 * UTF-8 as \xNN; cut to `size`. */
static void log_escape(char *out, size_t size, const char *s)
{
	size_t len = strlen(s), o = 0;
	bool utf8 = kho_utf8_valid(s, len);
	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		bool c1 = c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] < 0xA0;
		if (c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && !utf8) || c1) {
			o += (size_t)snprintf(out + o, size - o, "\\x%02X", c);
			if (c1)
				o += (size_t)snprintf(out + o, size - o, "\\x%02X", (unsigned char)s[++i]);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	request_state *st = *con_cls;
	if (!st)
		return;
	const server_request *r = &st->r;
	if (r->path) {
		/* what the client sent is escaped: no forged lines, no terminal codes */
		char path[512], method[64];
		log_escape(path, sizeof path, r->path);
		log_escape(method, sizeof method, st->method);
		kho_log_info("%s %s %d %llu B %.1f ms%s", method, path, r->status,
			(unsigned long long)r->bytes, (kho_log_clock() - st->started) * 1e3,
			why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
	}
	free(st->body);
	free(st);
	*con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	kho_log_debug("http: %s", line);
}

/* ---------------------------------------------------------------- start */

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

int server_start(server **out, char **url, const char *home, const server_config *cfg)
{
	*out = NULL;
	*url = NULL;
	struct sockaddr_storage addr;
	size_t addr_len;
	int rc = server_parse_listen(&addr, &addr_len, cfg->listen ? cfg->listen :
		"127.0.0.1:8080");
	if (rc)
		return rc;
	server *s = calloc(1, sizeof *s);
	if (!s || !(s->home = strdup(home))) {
		free(s);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	s->cfg = cfg;
	unsigned threads = cfg->threads ? cfg->threads : default_threads();
	s->threads = threads;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
		MHD_USE_ITC;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_ADDRESS,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout ? cfg->idle_timeout : (unsigned)IDLE_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_PER_CONNECTION,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
		MHD_OPTION_END);
	if (!s->daemon) {
		free(s->home);
		free(s);
		return kho_error_set(KHO_EIO, "cannot listen on %s (in use, or not an address of "
			"this machine?)", cfg->listen ? cfg->listen : "127.0.0.1:8080");
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon,
		MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : 0;
	char host[INET6_ADDRSTRLEN + 2] = "";
	if (addr.ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, a, sizeof a);
		snprintf(host, sizeof host, "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, sizeof host);
	}
	size_t n = strlen(host) + 32;
	if (!(*url = malloc(n))) {
		server_stop(s);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	snprintf(*url, n, "http://%s:%u/", host, port);
	pthread_mutex_lock(&warm.lock);
	warm.stop = false;
	pthread_mutex_unlock(&warm.lock);
	s->warming = !pthread_create(&s->warmer, NULL, warmer, s);
	*out = s;
	return KHO_OK;
}

void server_stop(server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&warm.lock);
	warm.stop = true;
	pthread_mutex_unlock(&warm.lock);
	if (s->warming)
		pthread_join(s->warmer, NULL);
	if (s->daemon) {
		/* Stop accepting, let the requests in flight finish (idle
		 * keep-alive connections would wait for their timeout: not longer
		 * than STOP_WAIT), then close what is left. */
		MHD_socket listen = MHD_quiesce_daemon(s->daemon);
		if (listen != MHD_INVALID_SOCKET)
			close(listen);
		for (double t0 = kho_log_clock(); kho_log_clock() - t0 < STOP_WAIT;) {
			const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon,
				MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (!info || info->num_connections == 0)
				break;
			usleep(50000);
		}
		MHD_stop_daemon(s->daemon);
	}
	pthread_mutex_lock(&warm.lock);
	while (warm.n)
		box_free(warm.boxes[--warm.n]);
	warm.claimed = 0;
	pthread_mutex_unlock(&warm.lock);
	free(s->home);
	free(s);
}
