/*
 * lint.c — `kho pack lint`: what an author should fix before publishing a
 * pack (FORMAT.md, "Checking a pack"). Errors make a pack fail on a box or
 * show teachers something broken; warnings make it worse than it could be:
 *
 *   error    the manifest or a container check fails (kho_pack_open())
 *   error    a title that is empty or only spaces
 *   error    a link or resource in a lesson (href, src, CSS url()) to a file
 *            the pack does not hold, or that leaves the pack
 *   error    a file over KHO_LINT_MAX_FILE
 *   warning  a file over KHO_LINT_BIG_FILE (slow to sync, heavy for phones)
 *   warning  a file no lesson and no other file refers to
 *   warning  an image without alt text
 *   warning  text that is not in Unicode NFC (FORMAT.md asks for NFC)
 *   warning  a resource loaded from the internet (absent offline)
 */
#include "convert-private.h"

#include <libxml/HTMLparser.h>
#include <libxml/uri.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

typedef struct linter {
	kho_pack *pack;
	kho_lint_issue *items;
	size_t n;
	bool *used;        /* per pack entry: referred to */
	bool failed;       /* out of memory */
} linter;

static void issue(linter *l, bool error, const char *file, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	kho_lint_issue *grown = realloc(l->items, (l->n + 1) * sizeof *grown);
	if (!grown) {
		l->failed = true;
		return;
	}
	l->items = grown;
	grown[l->n] = (kho_lint_issue){ .error = error, .file = strdup(file ? file : ""),
		.message = strdup(msg) };
	if (!grown[l->n].file || !grown[l->n].message)
		l->failed = true;
	l->n++;
}

void kho_lint_free(kho_lint_issue *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		free(items[i].file);
		free(items[i].message);
	}
	free(items);
}

static bool blank(const char *s)
{
	return !s || !s[strspn(s, " \t\r\n")];
}

static bool is_nfc(const char *s, size_t len)
{
	utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)s);
	bool same = nfc && strlen((char *)nfc) == len && !memcmp(nfc, s, len);
	free(nfc);
	return same || !nfc;
}

/* --------------------------------------------------------------- links */

/* Marks the file `ref` points to from the entry `from` as used; reports it
 * when it is not in the pack. */
static void follow(linter *l, const char *from, const char *ref)
{
	char *path = NULL;
	long i = -1;
	switch (pack_link_resolve(&path, from, ref)) {
	case PACK_LINK_NONE:
		break;
	case PACK_LINK_INTERNET:
		issue(l, false, from, "loads %s from the internet: absent when the school is offline",
			ref);
		break;
	case PACK_LINK_INVALID:
		issue(l, true, from, "a link that is not a valid address: %s", ref);
		break;
	case PACK_LINK_OUTSIDE:
		issue(l, true, from, "the link %s leaves the pack", ref);
		break;
	case PACK_LINK_FILE:
		if ((i = kho_pack_entry_find(l->pack, path)) < 0)
			issue(l, true, from, "links to %s, which the pack does not hold", path);
		else
			l->used[i] = true;
		break;
	}
	free(path);
}

typedef struct link_ctx {
	linter *l;
	const char *file;
} link_ctx;

static void on_link(void *payload, const char *element, const char *ref)
{
	(void)element;
	link_ctx *ctx = payload;
	follow(ctx->l, ctx->file, ref);
}

static void walk(linter *l, const char *file, xmlNode *node)
{
	link_ctx ctx = { l, file };
	for (xmlNode *n = node; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		pack_links_of_element(n, on_link, &ctx);
		if (!strcasecmp((const char *)n->name, "img") && !xmlHasProp(n, (const xmlChar *)"alt")) {
			xmlChar *src = xmlGetProp(n, (const xmlChar *)"src");
			issue(l, false, file, "the image %s has no alt text (blind readers and slow "
				"phones show nothing)", src ? (const char *)src : "");
			xmlFree(src);
		}
		walk(l, file, n->children);
	}
}

static void lint_entry(linter *l, size_t i)
{
	const char *name = kho_pack_entry_name(l->pack, i);
	uint64_t size = kho_pack_entry_size(l->pack, i);
	if (size > KHO_LINT_MAX_FILE)
		issue(l, true, name, "%.1f MB: larger than a box accepts (%.0f MB)", (double)size / 1e6,
			(double)KHO_LINT_MAX_FILE / 1e6);
	else if (size > KHO_LINT_BIG_FILE)
		issue(l, false, name, "%.1f MB: slow to sync and heavy for phones; compress it or "
			"split it", (double)size / 1e6);
	const char *dot = strrchr(name, '.');
	bool html = dot && (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm") ||
		!strcasecmp(dot, ".xhtml"));
	bool css = dot && !strcasecmp(dot, ".css"), xml = dot && !strcasecmp(dot, ".xml");
	if ((!html && !css && !xml) || size > KHO_LINT_BIG_FILE)
		return;
	char *data = NULL;
	size_t len = 0;
	if (kho_pack_entry_read_all(&data, &len, l->pack, i, KHO_LINT_BIG_FILE)) {
		issue(l, true, name, "%s", kho_error_last());
		return;
	}
	if (!is_nfc(data, len))
		issue(l, false, name, "text not in Unicode NFC (e.g. accents typed as separate "
			"marks); convert it to NFC");
	if (css) {
		link_ctx ctx = { l, name };
		pack_links_of_css(data, on_link, &ctx);
	} else if (html) {
		htmlDocPtr doc = htmlReadMemory(data, (int)len, name, "UTF-8", HTML_PARSE_NONET |
			HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
		if (doc)
			walk(l, name, xmlDocGetRootElement(doc));
		else
			issue(l, true, name, "cannot be read as HTML");
		xmlFreeDoc(doc);
	}
	free(data);
}

int kho_lint(kho_lint_issue **out, size_t *out_count, const char *path)
{
	*out = NULL;
	*out_count = 0;
	linter l = { 0 };
	int rc = kho_pack_open(&l.pack, path);
	if (rc == KHO_ENOMEM || rc == KHO_ENOTFOUND)
		return rc;
	if (rc) {
		issue(&l, true, "manifest.xml", "%s", kho_error_last());
		kho_error_clear();
	} else {
		const kho_manifest *m = kho_pack_manifest(l.pack);
		size_t n = kho_pack_entry_count(l.pack);
		l.used = calloc(n ? n : 1, sizeof *l.used);
		if (!l.used) {
			kho_pack_free(l.pack);
			return kho_error_set(KHO_ENOMEM, "out of memory");
		}
		if (blank(m->title))
			issue(&l, true, "manifest.xml", "the pack's title is empty");
		for (size_t u = 0; u < m->n_units; u++)
			if (blank(m->units[u].title))
				issue(&l, true, "manifest.xml", "unit %s has an empty title", m->units[u].id);
		for (size_t k = 0; k < m->n_lessons; k++) {
			if (blank(m->lessons[k].title))
				issue(&l, true, "manifest.xml", "lesson %s (line %d) has an empty title",
					m->lessons[k].id, m->lessons[k].line);
			long e = kho_pack_entry_find(l.pack, m->lessons[k].href);
			if (e >= 0)
				l.used[e] = true;
		}
		long manifest = kho_pack_entry_find(l.pack, "manifest.xml");
		if (manifest >= 0)
			l.used[manifest] = true;
		for (size_t i = 0; i < n && !l.failed; i++)
			lint_entry(&l, i);
		for (size_t i = 0; i < n && !l.failed; i++)
			if (!l.used[i])
				issue(&l, false, kho_pack_entry_name(l.pack, i), "no lesson or file refers to "
					"it: remove it, or link it");
	}
	free(l.used);
	kho_pack_free(l.pack);
	if (l.failed) {
		kho_lint_free(l.items, l.n);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	*out = l.items;
	*out_count = l.n;
	return KHO_OK;
}
