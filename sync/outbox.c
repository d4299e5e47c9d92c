/*
 * outbox.c — what goes back to the centre (docs/sync.md): files queued in
 * $KHO_HOME/outbox/ (usage reports, teacher-made packs: the personalisation
 * work fills it), each named by its content hash so that sending one twice
 * is harmless. `kho push --to URL|DIR` sends each to URL/BOX_ID/NAME with an
 * HTTP PUT (WebDAV, or an S3-style store that accepts PUT) or copies it to
 * DIR/BOX_ID/NAME (a USB stick), then moves it to outbox/sent/. One file
 * failing leaves it queued for the next push; the others still go.
 */
#include "sync-private.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* The box's id: 16 random hex digits in $KHO_HOME/box-id, made once. */
int kho_box_id(char out[17], kho_store *store)
{
	char *path = join(kho_store_home(store), "box-id");
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	FILE *f = fopen(path, "r");
	int rc = KHO_OK;
	if (f) {
		if (!fgets(out, 17, f) || strlen(out) != 16 || strspn(out, "0123456789abcdef") != 16)
			rc = kho_error_set(KHO_ECORRUPT, "%s is damaged: remove it to make a new id", path);
		fclose(f);
	} else {
		unsigned char raw[8];
		randombytes_buf(raw, sizeof raw);
		for (int i = 0; i < 8; i++)
			snprintf(out + 2 * i, 3, "%02x", raw[i]);
		char text[18];
		snprintf(text, sizeof text, "%s\n", out);
		char rel[] = "box-id";
		rc = sync_write_file(kho_store_home(store), rel, text);
	}
	free(path);
	return rc;
}

int kho_outbox_add(char **name, kho_store *store, const char *file)
{
	*name = NULL;
	FILE *f = fopen(file, "rb");
	if (!f)
		return kho_error_set(errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "cannot read %s: %s",
			file, strerror(errno));
	kho_hasher h;
	kho_hasher_init(&h);
	unsigned char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		kho_hasher_update(&h, buf, n);
	fclose(f);
	kho_hash hash;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hasher_final(&h, &hash);
	kho_hash_to_hex(hex, &hash);
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	const char *dot = strrchr(base, '.');
	char rel[KHO_HASH_HEX_SIZE + 64];
	snprintf(rel, sizeof rel, "outbox/%.16s%s", hex, dot && strlen(dot) < 12 ? dot : "");
	char *dest = join(kho_store_home(store), rel);
	int rc = dest ? sync_make_dirs(kho_store_home(store), rel) :
		kho_error_set(KHO_ENOMEM, "out of memory");
	if (!rc) /* a local "repository" rooted at / or at the current folder */
		rc = file[0] == '/' ? sync_fetch_file("/", file + 1, dest, UINT64_MAX, 0) :
			sync_fetch_file(".", file, dest, UINT64_MAX, 0);
	if (!rc && !(*name = strdup(rel + 7)))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	free(dest);
	return rc;
}

int kho_outbox_drop(kho_store *store, const char *name)
{
	if (!name || !*name || strchr(name, '/') || name[0] == '.')
		return kho_error_set(KHO_EINVALID, "not a name of the outbox: %s", name ? name : "");
	char rel[128];
	if (snprintf(rel, sizeof rel, "outbox/%s", name) >= (int)sizeof rel)
		return kho_error_set(KHO_EINVALID, "not a name of the outbox: %s", name);
	char *path = join(kho_store_home(store), rel);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	int rc = unlink(path) == 0 || errno == ENOENT ? KHO_OK :
		kho_error_set(KHO_EIO, "cannot remove %s: %s", path, strerror(errno));
	free(path);
	return rc;
}

static size_t no_body(char *data, size_t size, size_t n, void *payload)
{
	(void)data;
	(void)payload;
	return size * n;
}

static int put_http(const char *url, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st)) {
		if (f)
			fclose(f);
		return kho_error_set(KHO_EIO, "cannot read %s", path);
	}
	CURL *c = curl_easy_init();
	if (!c) {
		fclose(f);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, no_body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 100L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kho-push");
	CURLcode cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	fclose(f);
	return cc == CURLE_OK ? KHO_OK : kho_error_set(KHO_EIO, "%s: %s", url,
		err[0] ? err : curl_easy_strerror(cc));
}

int kho_outbox_push(kho_push_report *out, kho_store *store, const char *to)
{
	*out = (kho_push_report){ 0 };
	if (!to[0])
		return kho_error_set(KHO_EINVALID, "no destination named (an empty --to)");
	char id[17];
	int rc = kho_box_id(id, store);
	char *outbox = rc ? NULL : join(kho_store_home(store), "outbox");
	if (!rc && !outbox)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	DIR *d = rc ? NULL : opendir(outbox);
	struct dirent *e;
	int first_error = KHO_OK;
	char first_message[1024] = "";
	while (d && (e = readdir(d))) {
		char *path = join(outbox, e->d_name);
		struct stat st;
		if (!path || e->d_name[0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode) ||
		    strstr(e->d_name, ".part")) {
			free(path);
			continue;
		}
		size_t n = strlen(to) + strlen(id) + strlen(e->d_name) + 4;
		char *target = malloc(n);
		int one = target ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
		if (!one) {
			snprintf(target, n, "%s%s%s/%s", to, to[strlen(to) - 1] == '/' ? "" : "/", id,
				e->d_name);
			if (sync_is_url(to)) {
				one = put_http(target, path);
			} else {
				char rel[300];
				snprintf(rel, sizeof rel, "%s/%s", id, e->d_name);
				one = sync_make_dirs(to, rel);
				if (!one)
					one = sync_fetch_file(outbox, e->d_name, target, UINT64_MAX, 0);
			}
		}
		if (!one) {
			char rel[300];
			snprintf(rel, sizeof rel, "sent/%s", e->d_name);
			char *sent = join(outbox, rel);
			one = sent ? sync_make_dirs(outbox, rel) : KHO_ENOMEM;
			if (!one && rename(path, sent))
				one = kho_error_set(KHO_EIO, "cannot move %s to sent/", e->d_name);
			free(sent);
		}
		if (one) {
			out->failed++;
			if (!first_error) {
				first_error = one;
				snprintf(first_message, sizeof first_message, "%s", kho_error_last());
			}
		} else {
			out->sent++;
			out->bytes += (uint64_t)st.st_size;
		}
		free(target);
		free(path);
	}
	if (d)
		closedir(d);
	free(outbox);
	if (!rc && first_error)
		rc = kho_error_set(first_error, "%zu file%s not sent (kept for the next push): %s",
			out->failed, out->failed == 1 ? "" : "s", first_message);
	return rc;
}
