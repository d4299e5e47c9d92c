/*
 * convert-html.c — the lesson pages the importers generate (from H5P JSON,
 * QTI quizzes, Common Cartridge discussions), and the sanitiser that lets
 * foreign HTML fragments into them. Generated pages are built from escaped
 * text and a short list of harmless elements; nothing that runs (script,
 * event handlers, javascript: URLs, SVG, frames, objects) is ever copied
 * into them. Files copied unchanged from a package are another matter: the
 * server serves every lesson file in a sandbox (FORMAT.md).
 */
#include <libxml/HTMLparser.h>

#include "convert-private.h"

/* Deeper elements than this in a fragment are dropped. */
#define MAX_DEPTH 64

int conv_html_escape(conv_buf *b, const char *s)
{
	int rc = KHO_OK;
	const char *run = s;
	for (const char *p = s; *p && !rc; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		rc = conv_buf_add(b, run, (size_t)(p - run));
		if (!rc)
			rc = conv_buf_str(b, rep);
		run = p + 1;
	}
	return rc ? rc : conv_buf_str(b, run);
}

int conv_html_begin(conv_buf *b, const char *title, const char *lang)
{
	int rc = conv_buf_str(b, "<!DOCTYPE html>\n<html");
	if (!rc && lang && conv_lang_ok(lang))
		rc = conv_buf_printf(b, " lang=\"%s\"", lang);
	if (!rc)
		rc = conv_buf_str(b, ">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	if (!rc)
		rc = conv_html_escape(b, title);
	if (!rc)
		rc = conv_buf_str(b, "</title>\n</head>\n<body>\n<h1>");
	if (!rc)
		rc = conv_html_escape(b, title);
	return rc ? rc : conv_buf_str(b, "</h1>\n");
}

int conv_html_end(conv_buf *b)
{
	return conv_buf_str(b, "</body>\n</html>\n");
}

/* Elements kept as they are (with the attributes below). */
static const char *const kept[] = {
	"a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
	"dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
	"h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
	"s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
	"th", "thead", "tr", "u", "ul", "var",
};

/* Elements dropped with everything inside them. */
static const char *const dropped[] = {
	"applet", "audio", "base", "button", "embed", "form", "frame", "frameset", "head",
	"iframe", "input", "link", "math", "meta", "noscript", "object", "script", "select",
	"style", "svg", "template", "textarea", "title", "video",
};

static const char *const void_elements[] = { "br", "col", "hr", "img" };

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}
#define IN(name, list) in_list(name, list, sizeof list / sizeof list[0])

typedef struct sanitizer {
	conv_buf *out;
	conv_link_fn link;
	void *payload;
	int rc;
} sanitizer;

/* Keeps a URL only when `link` maps it (or, without `link`, when it is a
 * plain relative path); never javascript:, data: or the like. */
static char *safe_url(sanitizer *s, const char *url, bool image)
{
	char *kept_url = NULL;
	if (s->link) {
		kept_url = s->link(s->payload, url, image);
	} else {
		char *resolved = conv_resolve("", url);
		if (resolved)
			kept_url = strdup(url);
		free(resolved);
	}
	if (kept_url && (strchr(kept_url, ':') && strncmp(kept_url, "http://", 7)
		&& strncmp(kept_url, "https://", 8) && strncmp(kept_url, "mailto:", 7))) {
		free(kept_url);
		kept_url = NULL;
	}
	return kept_url;
}

static void emit_attr(sanitizer *s, const char *name, const char *value)
{
	if (s->rc)
		return;
	s->rc = conv_buf_printf(s->out, " %s=\"", name);
	if (!s->rc)
		s->rc = conv_html_escape(s->out, value);
	if (!s->rc)
		s->rc = conv_buf_str(s->out, "\"");
}

static void emit_attrs(sanitizer *s, const xmlNode *n)
{
	const char *tag = (const char *)n->name;
	for (xmlAttr *a = n->properties; a && !s->rc; a = a->next) {
		const char *name = (const char *)a->name;
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		const char *value = v ? (const char *)v : "";
		if ((!strcmp(tag, "a") && !strcmp(name, "href"))
			|| (!strcmp(tag, "img") && !strcmp(name, "src"))) {
			char *url = safe_url(s, value, !strcmp(tag, "img"));
			if (url)
				emit_attr(s, name, url);
			free(url);
		} else if (!strcmp(name, "alt") || !strcmp(name, "title") || !strcmp(name, "lang")
			|| !strcmp(name, "dir") || !strcmp(name, "colspan") || !strcmp(name, "rowspan")
			|| !strcmp(name, "width") || !strcmp(name, "height")) {
			emit_attr(s, name, value);
		}
		xmlFree(v);
	}
}

static void walk(sanitizer *s, const xmlNode *first, int depth)
{
	for (const xmlNode *n = first; n && !s->rc; n = n->next) {
		if (n->type == XML_TEXT_NODE) {
			s->rc = conv_html_escape(s->out, (const char *)n->content);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE || depth > MAX_DEPTH)
			continue;
		const char *tag = (const char *)n->name;
		if (IN(tag, dropped))
			continue;
		if (!IN(tag, kept)) { /* html, body, font, unknown: keep the text */
			walk(s, n->children, depth + 1);
			continue;
		}
		s->rc = conv_buf_printf(s->out, "<%s", tag);
		emit_attrs(s, n);
		if (!s->rc)
			s->rc = conv_buf_str(s->out, ">");
		if (IN(tag, void_elements))
			continue;
		walk(s, n->children, depth + 1);
		if (!s->rc)
			s->rc = conv_buf_printf(s->out, "</%s>", tag);
	}
}

static htmlDocPtr parse_html(const char *html, size_t len)
{
	if (len > CONV_MAX_HTML)
		return NULL;
	return htmlReadMemory(html, (int)len, NULL, "UTF-8",
		HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
}

int conv_html_sanitize(conv_buf *out, const char *html, size_t len, conv_link_fn link,
	void *payload)
{
	if (!len)
		return KHO_OK;
	htmlDocPtr doc = parse_html(html, len);
	if (!doc)
		return KHO_OK; /* nothing readable: nothing kept */
	sanitizer s = { out, link, payload, KHO_OK };
	walk(&s, doc->children, 0);
	xmlFreeDoc(doc);
	return s.rc;
}

static xmlNode *find_element(xmlNode *n, const char *name, int depth)
{
	for (; n && depth < MAX_DEPTH; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)n->name, name))
			return n;
		xmlNode *found = find_element(n->children, name, depth + 1);
		if (found)
			return found;
	}
	return NULL;
}

char *conv_html_title(const char *html, size_t len)
{
	htmlDocPtr doc = parse_html(html, len);
	if (!doc)
		return NULL;
	char *title = NULL;
	static const char *const where[] = { "title", "h1", "h2", "h3" };
	for (size_t i = 0; i < sizeof where / sizeof where[0] && !title; i++)
		title = conv_xml_text(find_element(doc->children, where[i], 0));
	xmlFreeDoc(doc);
	return title;
}

char *conv_html_entry_title(conv *c, const char *path)
{
	long i = kho_archive_entry_find(c->ar, path);
	char *html = NULL, *title = NULL;
	size_t len = 0;
	if (i >= 0 && !kho_archive_entry_read_all(&html, &len, c->ar, (size_t)i, CONV_MAX_HTML))
		title = conv_html_title(html, len);
	free(html);
	return title;
}
