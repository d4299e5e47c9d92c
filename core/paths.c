/*
 * paths.c — where the box keeps its files, and the checks every path that
 * comes from outside (a zip entry, a manifest href) must pass.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core-private.h"

char *kho_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	size_t n = la;
	if (la && a[la - 1] != '/')
		s[n++] = '/';
	memcpy(s + n, b, lb + 1);
	return s;
}

int kho_home_resolve(char **out, const char *flag)
{
	const char *env;
	char *home = NULL;
	if (flag && *flag)
		home = strdup(flag);
	else if ((env = getenv("KHO_HOME")) && *env)
		home = strdup(env);
	else if ((env = getenv("XDG_DATA_HOME")) && *env)
		home = kho_path_join(env, "kho");
	else if ((env = getenv("HOME")) && *env)
		home = kho_path_join(env, ".local/share/kho");
	else
		return kho_error_set(KHO_EINVALID,
			"no home folder: pass --home DIR or set KHO_HOME");
	if (!home)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	*out = home;
	return KHO_OK;
}

int kho_mkdir_p(const char *path, unsigned mode)
{
	if (!*path)
		return kho_error_set(KHO_EINVALID, "an empty folder name");
	char *copy = strdup(path);
	if (!copy)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	int rc = KHO_OK;
	for (char *p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(copy, mode) != 0 && errno != EEXIST) {
				rc = kho_error_set(errno == ENOSPC ? KHO_ENOSPACE : KHO_EIO,
					"cannot create folder %s: %s", copy, strerror(errno));
				break;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	struct stat st;
	if (rc == KHO_OK && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = kho_error_set(KHO_EIO, "%s is not a folder", path);
	free(copy);
	return rc;
}

bool kho_next_word(const char **p, char *word, size_t size)
{
	while (*p && **p) {
		*p += strspn(*p, " ");
		size_t n = strcspn(*p, " ");
		const char *start = *p;
		*p += n;
		if (n && n < size) {
			memcpy(word, start, n);
			word[n] = '\0';
			return true;
		}
	}
	return false;
}

bool kho_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned c = *p;
		if (c < 0x80) {
			/* Text and markup are mostly ASCII: skip it eight bytes at a time. */
			if (end - p >= 8) {
				uint64_t word;
				memcpy(&word, p, 8);
				if (!(word & 0x8080808080808080ull) && !((word - 0x0101010101010101ull)
					& ~word & 0x8080808080808080ull)) {
					p += 8;
					continue;
				}
			}
			if (c == 0)
				return false;
			p++;
			continue;
		}
		/* The well-formed sequences of the Unicode standard (table 3-7):
		 * no overlong forms, no surrogates, nothing above U+10FFFF. */
		size_t avail = (size_t)(end - p);
		if (c < 0xC2 || c > 0xF4)
			return false;
		if (c < 0xE0) {
			if (avail < 2 || (p[1] & 0xC0) != 0x80)
				return false;
			p += 2;
		} else if (c < 0xF0) {
			if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80
			    || (c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
				return false;
			p += 3;
		} else {
			if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80
			    || (p[3] & 0xC0) != 0x80 || (c == 0xF0 && p[1] < 0x90)
			    || (c == 0xF4 && p[1] >= 0x90))
				return false;
			p += 4;
		}
	}
	return true;
}

bool kho_path_is_safe(const char *path)
{
	size_t len = strlen(path);
	if (len == 0 || len > 1024 || path[0] == '/' || !kho_utf8_valid(path, len))
		return false;
	const char *seg = path;
	for (const char *p = path;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/' || c == '\0') {
			size_t n = (size_t)(p - seg);
			if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (c == '\0')
				return true;
			seg = p + 1;
		} else if (c < 0x20 || c == 0x7f || c == '\\' || c == ':') {
			return false;
		}
	}
}

int kho_buf_append(kho_buf *buf, const void *data, size_t len)
{
	if (buf->len + len + 1 > buf->cap) {
		size_t cap = buf->cap ? buf->cap : 256;
		while (cap < buf->len + len + 1)
			cap *= 2;
		char *p = realloc(buf->data, cap);
		if (!p)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		buf->data = p;
		buf->cap = cap;
	}
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return KHO_OK;
}

void kho_buf_free(kho_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

char *kho_strdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		kho_error_set(KHO_ENOMEM, "out of memory");
	return d;
}

void kho_printable(char *out, size_t size, const char *name)
{
	bool utf8 = kho_utf8_valid(name, strlen(name));
	size_t j = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && j + 5 < size; p++) {
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8))
			j += (size_t)snprintf(out + j, size - j, "\\x%02x", *p);
		else
			out[j++] = (char)*p;
	}
	out[j] = '\0';
}
