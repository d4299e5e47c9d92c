/*
 * transport.c — fetching one file of a repository: from a folder (a USB
 * stick, a network share) or over HTTP(S) with libcurl. A file is written
 * under a temporary name and renamed only when whole, so that an
 * interrupted fetch leaves nothing that looks finished.
 */
#include "sync-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool sync_is_url(const char *source)
{
	return !strncasecmp(source, "http://", 7) || !strncasecmp(source, "https://", 8);
}

typedef struct sink {
	FILE *f;
	uint64_t got, max;
	bool too_large;    /* stopped at `max` */
} sink;

static size_t on_data(char *data, size_t size, size_t n, void *payload)
{
	sink *s = payload;
	size_t len = size * n;
	if (s->got + len > s->max) {
		s->too_large = true;
		return 0; /* larger than it may be: curl stops */
	}
	s->got += len;
	return fwrite(data, 1, len, s->f);
}

/* One GET of `url`, appended to `f` from byte `offset` (a Range request
 * when > 0). KHO_EBUSY for what may pass if tried again (a dropped or
 * stalled connection, a 5xx); KHO_EVERSION when the server will not resume
 * (start again from 0). */
static long stall_seconds(void);

static int fetch_http(const char *url, FILE *f, uint64_t offset, uint64_t max, uint64_t rate)
{
	pthread_once(&curl_once, curl_start);
	CURL *c = curl_easy_init();
	if (!c)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	sink s = { f, offset, max, false };
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled link: under 100 bytes/s for STALL_SECONDS */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 100L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)stall_seconds());
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kho-sync");
	if (offset)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)offset);
	else /* JSON compresses well; objects are zstd already and servers leave them */
		curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (rate)
		curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)rate);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc == CURLE_OK)
		return KHO_OK;
	if (status == 404)
		return kho_error_set(KHO_ENOTFOUND, "%s: not found (404)", url);
	if (cc == CURLE_RANGE_ERROR || status == 416)
		return kho_error_set(KHO_EVERSION, "%s: the server does not resume", url);
	if (cc == CURLE_WRITE_ERROR && s.too_large)
		return kho_error_set(KHO_ELIMIT, "%s: larger than %llu bytes", url,
			(unsigned long long)max);
	bool transient = status >= 500 || status == 408 || status == 429 ||
		cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
		cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
		cc == CURLE_GOT_NOTHING || cc == CURLE_COULDNT_RESOLVE_HOST;
	return kho_error_set(transient ? KHO_EBUSY : KHO_EIO, "%s: %s", url,
		err[0] ? err : curl_easy_strerror(cc));
}

/* Sleeps so that `done` bytes since `t0` stay under `rate` bytes/s. */
static void throttle(uint64_t done, uint64_t rate, const struct timespec *t0)
{
	if (!rate)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double spent = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
	double due = (double)done / (double)rate;
	if (due > spent) {
		double wait = due - spent;
		struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static int fetch_local(const char *path, FILE *f, uint64_t max, uint64_t rate)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a stick is hostile too: no symbolic link out of it, no FIFO to hang on */
	FILE *in = sync_open_regular(path, true);
	if (!in && (errno == ELOOP || errno == EINVAL))
		return kho_error_set(KHO_EUNSAFE, "%s: %s", path, errno == ELOOP ?
			"a symbolic link (refused)" : "not a regular file (refused)");
	if (!in)
		return kho_error_set(errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "%s: %s", path,
			strerror(errno));
	char buf[65536];
	uint64_t got = 0;
	size_t n;
	int rc = KHO_OK;
	while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0) {
		got += n;
		if (got > max)
			rc = kho_error_set(KHO_ELIMIT, "%s: larger than %llu bytes", path,
				(unsigned long long)max);
		else if (fwrite(buf, 1, n, f) != n)
			rc = kho_error_set(KHO_EIO, "cannot write: %s", strerror(errno));
		throttle(got, rate, &t0);
	}
	if (!rc && ferror(in))
		rc = kho_error_set(KHO_EIO, "%s: cannot read it", path);
	fclose(in);
	return rc;
}

/* Seconds without progress after which a transfer is given up (and tried
 * again): $KHO_SYNC_STALL_SECONDS, else 60. */
static long stall_seconds(void)
{
	const char *env = getenv("KHO_SYNC_STALL_SECONDS");
	long v = env ? strtol(env, NULL, 10) : 0;
	return v > 0 && v < 3600 ? v : 60;
}

/* DEST.part-XXXXXXXX: where a fetch of `dest` from `source` collects its
 * bytes. Named after the source, because only the same source serves the
 * same bytes of an object (a neighbour box compresses it at another level
 * than the centre): a transfer is resumed only from where it started. */
static char *part_name(const char *dest, const char *source)
{
	kho_hash h;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_buffer(&h, source, strlen(source));
	kho_hash_to_hex(hex, &h);
	size_t m = strlen(dest) + 16;
	char *tmp = malloc(m);
	if (tmp)
		snprintf(tmp, m, "%s.part-%.8s", dest, hex);
	return tmp;
}

int sync_fetch_file(const char *source, const char *rel, const char *dest, uint64_t max,
	uint64_t rate)
{
	if (!source[0])
		return kho_error_set(KHO_EINVALID, "no repository named (an empty source)");
	size_t n = strlen(source) + strlen(rel) + 2;
	char *from = malloc(n), *tmp = part_name(dest, source);
	if (!from || !tmp) {
		free(from);
		free(tmp);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	bool url = sync_is_url(source);
	/* only objects are resumed: their content never changes under their name */
	bool resumable = url && !strncmp(rel, "objects/", 8);
	snprintf(from, n, "%s%s%s", source, source[strlen(source) - 1] == '/' ? "" : "/", rel);
	int rc = KHO_OK;
	/* Over HTTP, a transfer cut off is resumed where it stopped (a Range
	 * request from what .part holds), and tried again after 1, 2, 4 and
	 * 8 seconds; the .part stays for the next sync if all attempts fail. */
	for (int attempt = 0;; attempt++) {
		struct stat st;
		uint64_t offset = resumable && stat(tmp, &st) == 0 ? (uint64_t)st.st_size : 0;
		FILE *f = fopen(tmp, offset ? "ab" : "wb");
		rc = f ? KHO_OK : kho_error_set(KHO_EIO, "cannot write %s: %s", tmp, strerror(errno));
		if (!rc)
			rc = url ? fetch_http(from, f, offset, max, rate) : fetch_local(from, f, max, rate);
		if (f && (fflush(f) || fsync(fileno(f))) && (!rc || rc == KHO_EBUSY))
			rc = kho_error_set(errno == ENOSPC ? KHO_ENOSPACE : KHO_EIO, "cannot write %s: %s",
				tmp, strerror(errno));
		if (f && fclose(f) && !rc)
			rc = kho_error_set(KHO_EIO, "cannot write %s", tmp);
		if (rc == KHO_EVERSION) { /* no resuming: from the start, at once */
			unlink(tmp);
			if (attempt < 5)
				continue;
		}
		if (rc != KHO_EBUSY || attempt >= 4)
			break;
		kho_log_info("%s: %s; trying again in %d s", rel, kho_error_last(), 1 << attempt);
		sleep(1u << attempt);
	}
	if (!rc && rename(tmp, dest))
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	if (rc && rc != KHO_EBUSY)
		unlink(tmp);
	if (rc == KHO_EBUSY)
		rc = kho_error_set(KHO_EIO, "%s (tried 5 times; the next sync resumes it)",
			kho_error_last());
	free(from);
	free(tmp);
	return rc;
}
