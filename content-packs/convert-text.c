/*
 * convert-text.c — small helpers of the importers: a growable buffer, a set
 * of strings, cleaning foreign text for the manifest, slugs for pack ids,
 * and resolving a package's relative links to paths inside it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <utf8proc.h>

#include "convert-private.h"

/* --------------------------------------------------------------- buffer */

int conv_buf_add(conv_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		b->data = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return KHO_OK;
}

int conv_buf_str(conv_buf *b, const char *s)
{
	return conv_buf_add(b, s, strlen(s));
}

int conv_buf_printf(conv_buf *b, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	int rc = conv_buf_add(b, text, (size_t)n);
	free(text);
	return rc;
}

void conv_buf_free(conv_buf *b)
{
	free(b->data);
	*b = (conv_buf){ 0 };
}

/* ------------------------------------------------------------------ set */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

bool conv_set_has(const conv_set *s, const char *key)
{
	if (!s->cap)
		return false;
	for (size_t i = hash_str(key) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i])
			return false;
		if (!strcmp(s->slots[i], key))
			return true;
	}
}

int conv_set_add(conv_set *s, const char *key)
{
	if (conv_set_has(s, key))
		return KHO_OK;
	if ((s->count + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **slots = calloc(cap, sizeof *slots);
		if (!slots)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i])
				continue;
			size_t j = hash_str(s->slots[i]) & (cap - 1);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	char *copy = strdup(key);
	if (!copy)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	size_t j = hash_str(key) & (s->cap - 1);
	while (s->slots[j])
		j = (j + 1) & (s->cap - 1);
	s->slots[j] = copy;
	s->count++;
	return KHO_OK;
}

void conv_set_free(conv_set *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	*s = (conv_set){ 0 };
}

/* ----------------------------------------------------------------- text */

char *conv_clean_text(const char *s)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	char *out = malloc(len + 1);
	if (!out) {
		kho_error_set(KHO_ENOMEM, "out of memory");
		return NULL;
	}
	size_t j = 0;
	bool space = false;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	while (len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
		if (n <= 0) { /* invalid UTF-8: skip one byte */
			p++;
			len--;
			continue;
		}
		bool ws = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0;
		bool bad = cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0xfffe
			|| cp == 0xffff;
		if (ws) {
			space = j > 0;
		} else if (!bad) {
			if (space)
				out[j++] = ' ';
			space = false;
			memcpy(out + j, p, (size_t)n);
			j += (size_t)n;
		}
		p += n;
		len -= (size_t)n;
	}
	out[j] = '\0';
	if (!j) {
		free(out);
		return NULL;
	}
	return out;
}

void conv_cut_chars(char *s, size_t max)
{
	size_t chars = 0;
	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && chars++ == max) {
			*p = '\0';
			return;
		}
	}
}

char *conv_slug(const char *s, size_t max)
{
	utf8proc_uint8_t *folded = NULL;
	char *out = malloc(max + 1);
	if (!out) {
		kho_error_set(KHO_ENOMEM, "out of memory");
		return NULL;
	}
	size_t j = 0;
	/* Decompose and drop the marks: "đường" → "đuong"; đ is no mark. */
	if (s && utf8proc_map((const utf8proc_uint8_t *)s, 0, &folded,
		UTF8PROC_NULLTERM | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD) >= 0) {
		bool dash = false;
		const utf8proc_uint8_t *p = folded;
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;
		while (*p && (n = utf8proc_iterate(p, -1, &cp)) > 0 && j < max) {
			p += n;
			if (cp == 0x111 || cp == 0x110)
				cp = 'd';
			if (cp < 0x80 && isalnum(cp)) {
				if (dash && j && j + 1 < max)
					out[j++] = '-';
				dash = false;
				out[j++] = (char)tolower(cp);
			} else {
				dash = true;
			}
		}
	}
	free(folded);
	while (j && out[j - 1] == '-')
		j--;
	out[j] = '\0';
	return out;
}

/* ---------------------------------------------------------------- paths */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

char *conv_resolve(const char *base, const char *href)
{
	if (!href)
		return NULL;
	/* a scheme ("http:", "javascript:") or an absolute path stays outside */
	size_t k = strspn(href, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	if ((k && href[k] == ':') || href[0] == '/' || href[0] == '\\')
		return NULL;
	size_t hlen = strcspn(href, "?#");
	size_t blen = base ? strlen(base) : 0;
	char *joined = malloc(blen + hlen + 2);
	if (!joined)
		return NULL;
	size_t j = 0;
	if (blen) {
		memcpy(joined, base, blen);
		j = blen;
		joined[j++] = '/';
	}
	for (size_t i = 0; i < hlen; i++) {
		if (href[i] == '%' && i + 2 < hlen + 1 && hexval(href[i + 1]) >= 0
			&& hexval(href[i + 2]) >= 0) {
			joined[j++] = (char)(hexval(href[i + 1]) * 16 + hexval(href[i + 2]));
			i += 2;
		} else {
			joined[j++] = href[i];
		}
	}
	joined[j] = '\0';
	/* normalise the segments: drop "" and ".", pop on ".." */
	char *out = malloc(j + 1);
	if (!out) {
		free(joined);
		return NULL;
	}
	size_t o = 0;
	bool ok = true;
	for (char *seg = joined, *next; seg; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		if (!*seg || !strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			if (!o) {
				ok = false;
				break;
			}
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			continue;
		}
		if (o)
			out[o++] = '/';
		size_t sl = strlen(seg);
		memcpy(out + o, seg, sl);
		o += sl;
	}
	out[o] = '\0';
	free(joined);
	if (!ok || !o || !kho_path_is_safe(out)) {
		free(out);
		return NULL;
	}
	return out;
}

char *conv_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path)) : strdup("");
}

char *conv_relative(const char *from, const char *to)
{
	/* skip the common folders, then climb out of the rest of `from` */
	size_t common = 0;
	for (size_t i = 0;; i++) {
		bool from_end = from[i] == '\0', to_sep = to[i] == '/';
		if (from_end && to_sep) {
			common = i + 1;
			break;
		}
		if (from[i] != to[i] || from_end || to[i] == '\0')
			break;
		if (from[i] == '/')
			common = i + 1;
	}
	if (!*from)
		common = 0;
	size_t ups = 0;
	if (*from) {
		const char *rest = from + common;
		ups = *rest ? 1 : 0;
		for (const char *p = rest; *p; p++)
			ups += *p == '/';
	}
	const char *tail = to + common;
	char *out = malloc(ups * 3 + strlen(tail) + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < ups; i++) {
		memcpy(out + o, "../", 3);
		o += 3;
	}
	strcpy(out + o, tail);
	return out;
}

bool conv_has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && name[n - e - 1] == '.' && !strcasecmp(name + n - e, ext);
}

bool conv_is_html(const char *name)
{
	return conv_has_ext(name, "html") || conv_has_ext(name, "htm") || conv_has_ext(name, "xhtml");
}

bool conv_lang_ok(const char *lang)
{
	/* [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})* */
	if (!lang || !*lang)
		return false;
	size_t run = 0;
	bool first = true;
	for (const char *p = lang;; p++) {
		if (*p == '-' || !*p) {
			if (!run)
				return false;
			if (!*p)
				return true;
			run = 0;
			first = false;
		} else if (isalpha((unsigned char)*p) || (!first && isdigit((unsigned char)*p))) {
			if (++run > 8)
				return false;
		} else {
			return false;
		}
	}
}

bool conv_is_junk(const char *name)
{
	if (!strncmp(name, "__MACOSX/", 9))
		return true;
	for (const char *seg = name; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL) {
		if (*seg == '.')
			return true;
		if (!strncasecmp(seg, "Thumbs.db", 9) && (seg[9] == '\0' || seg[9] == '/'))
			return true;
	}
	return false;
}
