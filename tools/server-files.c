/*
 * server-files.c — files: a pack's own (/files/PACK/VERSION/PATH, read from
 * the blob store by the hash the store gives for that path, so a request
 * never names a file of the disk) and the app's (embedded in the binary by
 * embed-web.py). Every answer has an ETag from the content hash and honours
 * If-None-Match; pack files also answer single-range requests (audio, video,
 * PDF) and are gzip-compressed for clients that accept it when they are
 * text. A pack's files are untrusted: each carries a CSP sandbox without
 * allow-same-origin, so that a lesson's scripts run in an opaque origin and
 * reach neither the app's pages nor its API with the teacher's cookies.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "web-assets.h"

/* Text files up to this size are compressed, per request, when the client
 * accepts gzip; larger ones are sent as they are (from the file, without
 * holding it in memory), so that no request can make the server compress
 * megabytes for every client. */
#define MAX_GZIP (256u << 10)

static const char lesson_csp[] =
	"sandbox allow-scripts allow-popups allow-forms allow-modals; "
	"default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; frame-ancestors 'self'";

static const char app_csp[] =
	"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
	"script-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
	"form-action 'self'; frame-ancestors 'none'";

/* ------------------------------------------------------------ MIME types */

static const struct {
	const char *ext, *mime;
	bool text;  /* worth compressing */
} mime_types[] = {
	{ "html", "text/html; charset=utf-8", true }, { "htm", "text/html; charset=utf-8", true },
	{ "xhtml", "application/xhtml+xml", true }, { "css", "text/css; charset=utf-8", true },
	{ "js", "text/javascript; charset=utf-8", true }, { "mjs", "text/javascript", true },
	{ "json", "application/json", true }, { "xml", "application/xml", true },
	{ "txt", "text/plain; charset=utf-8", true }, { "csv", "text/csv; charset=utf-8", true },
	{ "svg", "image/svg+xml", true }, { "png", "image/png", false },
	{ "jpg", "image/jpeg", false }, { "jpeg", "image/jpeg", false },
	{ "gif", "image/gif", false }, { "webp", "image/webp", false },
	{ "ico", "image/x-icon", false }, { "mp3", "audio/mpeg", false },
	{ "ogg", "audio/ogg", false }, { "oga", "audio/ogg", false }, { "wav", "audio/wav", false },
	{ "m4a", "audio/mp4", false }, { "mp4", "video/mp4", false }, { "webm", "video/webm", false },
	{ "ogv", "video/ogg", false }, { "pdf", "application/pdf", false },
	{ "woff", "font/woff", false }, { "woff2", "font/woff2", false },
	{ "ttf", "font/ttf", false }, { "otf", "font/otf", false },
	{ "vtt", "text/vtt; charset=utf-8", true }, { "wasm", "application/wasm", false },
};

static const char *mime_of(const char *path, bool *text)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	*text = false;
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
			if (!strcasecmp(dot + 1, mime_types[i].ext)) {
				*text = mime_types[i].text;
				return mime_types[i].mime;
			}
	return "application/octet-stream";
}

/* ---------------------------------------------------------------- shared */

/* True when If-None-Match names `etag` (or is "*"). */
static bool not_modified(server_request *r, const char *etag)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_IF_NONE_MATCH);
	return inm && (!strcmp(inm, "*") || strstr(inm, etag));
}

static enum MHD_Result send_not_modified(server_request *r, const char *etag,
	const char *cache)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	return server_send(r, 304, resp);
}

/* The ETag of the gzip body of a file whose own ETag is `etag`
 * ("\"hash\"" → "\"hash-gz\""): another body, another tag, so that a
 * range of one is never spliced onto the other. */
static void gzip_etag(char *out, size_t size, const char *etag)
{
	snprintf(out, size, "%.*s-gz\"", (int)strlen(etag) - 1, etag);
}

/* Parses a Range header for a file of `size` bytes: 0 when it is absent or
 * not one byte range (answer the whole file), 1 with [*first, *last] for a
 * satisfiable one, -1 for an unsatisfiable one. */
static int parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (!h || strncasecmp(h, "bytes=", 6) || strchr(h, ','))
		return 0;
	const char *s = h + 6, *dash = strchr(s, '-');
	if (!dash)
		return 0;
	char *end;
	if (s == dash) { /* suffix: the last N bytes */
		if (!dash[1] || dash[1] < '0' || dash[1] > '9')
			return 0;
		errno = 0;
		uint64_t n = strtoull(dash + 1, &end, 10);
		if (errno || *end)
			return 0;
		if (n == 0 || size == 0)
			return -1;
		*first = n >= size ? 0 : size - n;
		*last = size - 1;
		return 1;
	}
	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	uint64_t a = strtoull(s, &end, 10);
	if (errno || end != dash)
		return 0;
	uint64_t b = size ? size - 1 : 0;
	if (dash[1]) {
		if (dash[1] < '0' || dash[1] > '9')
			return 0;
		b = strtoull(dash + 1, &end, 10);
		if (*end || (errno && errno != ERANGE) || b < a)
			return 0;
		if (errno == ERANGE || b >= size) /* past the end: to the end */
			b = size ? size - 1 : 0;
		errno = 0;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = b;
	return 1;
}

/* ----------------------------------------------------------- pack files */

/* Splits "PACK/VERSION/PATH"; false when it is not that shape or a segment
 * of PATH is empty, "." or "..". */
static bool split_file_path(const char *rest, char *pack, size_t pack_size, int64_t *version,
	const char **path)
{
	const char *a = strchr(rest, '/');
	if (!a || a == rest || (size_t)(a - rest) >= pack_size)
		return false;
	snprintf(pack, pack_size, "%.*s", (int)(a - rest), rest);
	const char *b = strchr(a + 1, '/');
	if (!b || b == a + 1 || b - a > 19 || strspn(a + 1, "0123456789") != (size_t)(b - a - 1))
		return false;
	*version = strtoll(a + 1, NULL, 10);
	*path = b + 1;
	for (const char *seg = *path;;) {
		size_t n = strcspn(seg, "/");
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!seg[n])
			break;
		seg += n + 1;
	}
	return !strchr(*path, '\\');
}

static enum MHD_Result send_gzipped_file(server_request *r, int fd, uint64_t size,
	const char *mime, const char *etag)
{
	unsigned char *data = malloc(size ? size : 1);
	size_t got = 0;
	while (data && got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!data || got != size) {
		free(data);
		return server_send_error(r, 500, "the file could not be read");
	}
	size_t zlen = 0;
	unsigned char *z = server_gzip(data, size, &zlen);
	if (z)
		free(data);
	struct MHD_Response *resp = z ?
		MHD_create_response_from_buffer_with_free_callback(zlen, z, free) :
		MHD_create_response_from_buffer_with_free_callback(size, data, free);
	if (!resp) {
		free(z ? (void *)z : (void *)data);
		return MHD_NO;
	}
	char gz_etag[KHO_HASH_HEX_SIZE + 16];
	gzip_etag(gz_etag, sizeof gz_etag, etag);
	r->bytes = z ? zlen : size;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		"public, max-age=31536000, immutable");
	if (z) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, gz_etag);
	} else {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	}
	MHD_add_response_header(resp, "Content-Security-Policy", lesson_csp);
	return server_send(r, 200, resp);
}

enum MHD_Result server_pack_file(server_request *r, const char *home)
{
	char pack[256];
	int64_t version;
	const char *path;
	if (!split_file_path(r->path + strlen("/files/"), pack, sizeof pack, &version, &path))
		return server_send_error(r, 400, "a file's address is /files/PACK/VERSION/PATH, "
			"without empty, '.' or '..' parts");
	server_box *box = server_box_get(r, home);
	kho_hash hash;
	uint64_t size;
	if (!box || kho_store_file(&hash, &size, box->store, pack, version, path))
		return server_send_failure(r);
	char hex[KHO_HASH_HEX_SIZE], etag[KHO_HASH_HEX_SIZE + 8];
	kho_hash_to_hex(hex, &hash);
	snprintf(etag, sizeof etag, "\"%.32s\"", hex);
	static const char cache[] = "public, max-age=31536000, immutable";
	bool text;
	const char *mime = mime_of(path, &text);
	bool gz = text && size <= MAX_GZIP && size >= 256 && !r->head && server_accepts_gzip(r);
	char gz_etag[KHO_HASH_HEX_SIZE + 16];
	gzip_etag(gz_etag, sizeof gz_etag, etag);
	if (not_modified(r, gz ? gz_etag : etag))
		return send_not_modified(r, gz ? gz_etag : etag, cache);

	char *file = kho_blobs_path(kho_store_blobs(box->store), &hash);
	int fd = file ? open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(file);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) || (uint64_t)sb.st_size != size) {
		if (fd >= 0)
			close(fd);
		kho_log_error("%s: the blob %s is missing or damaged", r->path, hex);
		return server_send_error(r, 500, "the file is missing from the box");
	}
	const char *range_h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_RANGE);
	const char *if_range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_IF_RANGE);
	if (if_range && strcmp(if_range, etag))
		range_h = NULL;
	uint64_t first = 0, last = size ? size - 1 : 0;
	int range = parse_range(range_h, size, &first, &last);
	if (range < 0) {
		close(fd);
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL,
			MHD_RESPMEM_PERSISTENT);
		char cr[64];
		snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		return server_send(r, 416, resp); /* no body: a client resuming reads the header */
	}
	if (!range && gz)
		return send_gzipped_file(r, fd, size, mime, etag);

	uint64_t len = range ? last - first + 1 : size;
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd,
		range ? first : 0);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	r->bytes = len;
	if (range) {
		char cr[96];
		snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	if (text)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	MHD_add_response_header(resp, "Content-Security-Policy", lesson_csp);
	return server_send(r, range ? 206 : 200, resp);
}

/* ------------------------------------------------------------ app files */

enum MHD_Result server_app_file(server_request *r, const char *name)
{
	const web_asset *a = NULL;
	for (size_t i = 0; i < web_assets_count && !a; i++)
		if (!strcmp(web_assets[i].name, name))
			a = &web_assets[i];
	if (!a)
		return server_send_error(r, 404, "no such file of the app");
	/* index.html names the others with ?v=HASH (embed-web.py): those are
	 * cached for good; the page itself is revalidated each time */
	bool bad = false;
	const char *v = server_arg(r, "v", 32, &bad);
	const char *cache = v && !bad && strcmp(name, "index.html") ?
		"public, max-age=31536000, immutable" : "no-cache";
	bool gz = a->gz && !r->head && server_accepts_gzip(r);
	char gz_etag[64];
	gzip_etag(gz_etag, sizeof gz_etag, a->etag);
	const char *etag = gz ? gz_etag : a->etag;
	if (not_modified(r, etag))
		return send_not_modified(r, etag, cache);
	struct MHD_Response *resp = MHD_create_response_from_buffer(gz ? a->gz_len : a->len,
		(void *)(uintptr_t)(gz ? a->gz : a->data), MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->bytes = gz ? a->gz_len : a->len;
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(resp, "Content-Security-Policy", app_csp);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	return server_send(r, 200, resp);
}
