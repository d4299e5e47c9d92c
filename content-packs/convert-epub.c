/*
 * convert-epub.c — EPUB 3 and 2 books. The container (convert-ocf.c) and
 * META-INF/container.xml lead to the package document (OPF): its metadata
 * gives the pack's title, language, publisher, summary and keywords (and,
 * from dcterms:modified, a version that grows with each edition); each
 * linear XHTML document of its spine becomes a lesson, in reading order,
 * used as it is. The table of contents (EPUB 3 nav, else EPUB 2 NCX) names
 * the lessons, and a top-level entry that spans several documents becomes a
 * unit. Every file but the container's own is copied.
 */
#include <libxml/HTMLparser.h>

#include "convert-private.h"

#define MAX_DEPTH 32

typedef struct nav_entry {
	char *label;
	char *path;     /* the document, without #fragment; NULL when none */
	size_t top;     /* index of its top-level entry */
} nav_entry;

typedef struct epub {
	conv *c;
	char *opf_dir;
	xmlNode *manifest;
	nav_entry *nav;
	size_t n_nav, cap_nav;
} epub;

static int add_nav(epub *e, const char *label, const char *href, const char *base, size_t top)
{
	if (e->n_nav == e->cap_nav) {
		size_t cap = e->cap_nav ? e->cap_nav * 2 : 32;
		nav_entry *n = cap < 100000 ? realloc(e->nav, cap * sizeof *n) : NULL;
		if (!n)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		e->nav = n;
		e->cap_nav = cap;
	}
	nav_entry *n = &e->nav[e->n_nav++];
	n->label = conv_clean_text(label);
	n->path = href ? conv_resolve(base, href) : NULL;
	n->top = top;
	return KHO_OK;
}

/* EPUB 3: <nav epub:type="toc"><ol><li><a href>label</a><ol>…</ol></li>. */
static int nav_list(epub *e, xmlNode *ol, const char *base, int depth, size_t top)
{
	int rc = KHO_OK;
	for (xmlNode *li = conv_xml_child(ol, "li"); li && !rc && depth < MAX_DEPTH;
		li = conv_xml_next(li, "li")) {
		xmlNode *a = conv_xml_child(li, "a");
		if (!a)
			a = conv_xml_child(li, "span");
		char *label = conv_xml_text(a);
		char *href = conv_xml_attr(a, "href");
		size_t me = depth ? top : e->n_nav;
		rc = add_nav(e, label, href, base, me);
		free(label);
		free(href);
		if (!rc)
			rc = nav_list(e, conv_xml_child(li, "ol"), base, depth + 1, me);
	}
	return rc;
}

static xmlNode *find_toc(xmlNode *n, int depth)
{
	for (; n && depth < MAX_DEPTH; n = n->next) {
		if (conv_xml_is(n, "nav")) {
			char *type = conv_xml_attr(n, "epub:type");
			if (!type)
				type = conv_xml_attr(n, "type");
			bool toc = type && strstr(type, "toc");
			free(type);
			if (toc)
				return n;
		}
		xmlNode *found = n->type == XML_ELEMENT_NODE ? find_toc(n->children, depth + 1) : NULL;
		if (found)
			return found;
	}
	return NULL;
}

static int read_nav3(epub *e, const char *path)
{
	long i = kho_archive_entry_find(e->c->ar, path);
	if (i < 0) {
		conv_warn(e->c, "the navigation document '%s' is not in the book", path);
		return KHO_OK;
	}
	char *html = NULL;
	size_t len = 0;
	int rc = kho_archive_entry_read_all(&html, &len, e->c->ar, (size_t)i, CONV_MAX_DOC);
	if (rc)
		return rc;
	htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_PARSE_NONET
		| HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
	free(html);
	xmlNode *toc = doc ? find_toc(doc->children, 0) : NULL;
	char *base = conv_dirname(path);
	if (toc && base)
		rc = nav_list(e, conv_xml_child(toc, "ol"), base, 0, 0);
	free(base);
	xmlFreeDoc(doc);
	return rc;
}

/* EPUB 2: <navMap><navPoint><navLabel><text/></navLabel><content src/>. */
static int ncx_points(epub *e, xmlNode *parent, const char *base, int depth, size_t top)
{
	int rc = KHO_OK;
	for (xmlNode *p = conv_xml_child(parent, "navPoint"); p && !rc && depth < MAX_DEPTH;
		p = conv_xml_next(p, "navPoint")) {
		char *label = conv_xml_text(conv_xml_path(p, "navLabel/text"));
		char *src = conv_xml_attr(conv_xml_child(p, "content"), "src");
		size_t me = depth ? top : e->n_nav;
		rc = add_nav(e, label, src, base, me);
		free(label);
		free(src);
		if (!rc)
			rc = ncx_points(e, p, base, depth + 1, me);
	}
	return rc;
}

static int read_ncx(epub *e, const char *path)
{
	xmlDoc *doc = NULL;
	int rc = conv_xml_read(&doc, e->c, path);
	if (rc == KHO_ENOTFOUND || rc == KHO_EINVALID) {
		conv_warn(e->c, "%s; the lessons are named from their own titles", kho_error_last());
		return KHO_OK;
	}
	char *base = rc ? NULL : conv_dirname(path);
	if (base)
		rc = ncx_points(e, conv_xml_child(xmlDocGetRootElement(doc), "navMap"), base, 0, 0);
	free(base);
	xmlFreeDoc(doc);
	return rc;
}

static xmlNode *manifest_item(epub *e, const char *id)
{
	for (xmlNode *it = conv_xml_child(e->manifest, "item"); it && id;
		it = conv_xml_next(it, "item")) {
		char *own = conv_xml_attr(it, "id");
		bool same = own && !strcmp(own, id);
		free(own);
		if (same)
			return it;
	}
	return NULL;
}

static bool has_property(xmlNode *item, const char *prop)
{
	char *props = conv_xml_attr(item, "properties");
	bool found = false;
	for (char *tok = props ? strtok(props, " \t\n") : NULL; tok; tok = strtok(NULL, " \t\n"))
		found |= !strcmp(tok, prop);
	free(props);
	return found;
}

static char *item_path(epub *e, xmlNode *item)
{
	char *href = conv_xml_attr(item, "href");
	char *path = href ? conv_resolve(e->opf_dir, href) : NULL;
	free(href);
	return path;
}

/* The table of contents: the EPUB 3 nav document, else the NCX. */
static int read_toc(epub *e, xmlNode *spine)
{
	for (xmlNode *it = conv_xml_child(e->manifest, "item"); it; it = conv_xml_next(it, "item")) {
		if (has_property(it, "nav")) {
			char *path = item_path(e, it);
			int rc = path ? read_nav3(e, path) : KHO_OK;
			free(path);
			if (rc || e->n_nav)
				return rc;
		}
	}
	char *toc = conv_xml_attr(spine, "toc");
	xmlNode *ncx = manifest_item(e, toc);
	free(toc);
	char *path = ncx ? item_path(e, ncx) : NULL;
	int rc = path ? read_ncx(e, path) : KHO_OK;
	free(path);
	return rc;
}

static const nav_entry *nav_for(epub *e, const char *path)
{
	for (size_t i = 0; i < e->n_nav; i++)
		if (e->nav[i].path && !strcmp(e->nav[i].path, path))
			return &e->nav[i];
	return NULL;
}

/* How many spine documents the top-level entry `top` spans. */
static size_t top_span(epub *e, size_t top, char **paths, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const nav_entry *ne = paths[i] ? nav_for(e, paths[i]) : NULL;
		count += ne && ne->top == top;
	}
	return count;
}

static int spine_lessons(epub *e, xmlNode *spine)
{
	size_t n = 0;
	for (xmlNode *r = conv_xml_child(spine, "itemref"); r; r = conv_xml_next(r, "itemref"))
		n++;
	char **paths = calloc(n ? n : 1, sizeof *paths);
	char **ids = calloc(n ? n : 1, sizeof *ids);
	if (!paths || !ids) {
		free(paths);
		free(ids);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	size_t k = 0;
	for (xmlNode *r = conv_xml_child(spine, "itemref"); r; r = conv_xml_next(r, "itemref"), k++) {
		char *idref = conv_xml_attr(r, "idref");
		char *linear = conv_xml_attr(r, "linear");
		xmlNode *item = manifest_item(e, idref);
		char *type = conv_xml_attr(item, "media-type");
		if (!item)
			conv_warn(e->c, "the spine names the item '%s', which the manifest does not have",
				idref ? idref : "?");
		else if ((!linear || strcmp(linear, "no")) && !has_property(item, "nav") && type
			&& (strstr(type, "html")))
			paths[k] = item_path(e, item);
		ids[k] = idref;
		free(linear);
		free(type);
	}
	int rc = KHO_OK;
	size_t unit_top = (size_t)-1;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!paths[i])
			continue;
		const nav_entry *ne = nav_for(e, paths[i]);
		if (ne && ne->top != unit_top) {
			conv_unit_end(e->c);
			unit_top = (size_t)-1;
			if (top_span(e, ne->top, paths, n) > 1) {
				unit_top = ne->top;
				rc = conv_unit_begin(e->c, e->nav[ne->top].label, e->nav[ne->top].label);
			}
		}
		char *title = ne && ne->label ? NULL : conv_html_entry_title(e->c, paths[i]);
		if (!rc)
			rc = conv_lesson(e->c, ids[i], paths[i], ne && ne->label ? ne->label : title, NULL,
				NULL);
		free(title);
	}
	conv_unit_end(e->c);
	for (size_t i = 0; i < n; i++) {
		free(paths[i]);
		free(ids[i]);
	}
	free(paths);
	free(ids);
	return rc;
}

/* Dublin Core metadata; `unique` is the package's unique-identifier. */
static char *metadata(epub *e, xmlNode *meta, const char *unique)
{
	conv *c = e->c;
	c->title = conv_xml_text(conv_xml_child(meta, "title"));
	char *lang = conv_xml_text(conv_xml_child(meta, "language"));
	if (conv_lang_ok(lang))
		c->lang = lang;
	else
		free(lang);
	c->summary = conv_xml_text(conv_xml_child(meta, "description"));
	c->publisher = conv_xml_text(conv_xml_child(meta, "publisher"));
	if (!c->publisher)
		c->publisher = conv_xml_text(conv_xml_child(meta, "creator"));
	conv_buf words = { 0 };
	for (xmlNode *s = conv_xml_child(meta, "subject"); s; s = conv_xml_next(s, "subject")) {
		char *w = conv_xml_text(s);
		if (w && (!words.len || !conv_buf_str(&words, ", ")))
			conv_buf_str(&words, w);
		free(w);
	}
	c->keywords = words.data;
	char *seed = NULL;
	for (xmlNode *m = meta ? meta->children : NULL; m; m = m->next) {
		char *id = conv_xml_attr(m, "id"), *prop = conv_xml_attr(m, "property");
		if (conv_xml_is(m, "identifier") && !seed && (!unique || (id && !strcmp(id, unique))))
			seed = conv_xml_text(m);
		if (conv_xml_is(m, "meta") && prop && !strcmp(prop, "dcterms:modified")) {
			/* 2010-02-17T04:39:13Z → version 2010021704 */
			char *v = conv_xml_text(m);
			int y, mo, d, h = 0;
			if (v && sscanf(v, "%4d-%2d-%2dT%2d", &y, &mo, &d, &h) >= 3 && y >= 1000
				&& y < 2100 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24)
				c->version = ((long long)y * 10000 + mo * 100 + d) * 100 + h;
			free(v);
		}
		free(id);
		free(prop);
	}
	return seed;
}

static bool keep_file(void *payload, const char *name)
{
	(void)payload;
	return strcmp(name, "mimetype") && strncmp(name, "META-INF/", 9);
}

static char *rootfile(conv *c)
{
	xmlDoc *doc = NULL;
	if (conv_xml_read(&doc, c, "META-INF/container.xml"))
		return NULL;
	xmlNode *rf = conv_xml_path(xmlDocGetRootElement(doc), "rootfiles/rootfile");
	char *full = conv_xml_attr(rf, "full-path");
	char *path = full ? conv_resolve("", full) : NULL;
	if (!path)
		kho_error_set(KHO_EINVALID, "%s: META-INF/container.xml names no package document "
			"(rootfile full-path)", kho_archive_source(c->ar));
	free(full);
	xmlFreeDoc(doc);
	return path;
}

int conv_epub(conv *c)
{
	int rc = conv_epub_check_ocf(c);
	if (rc)
		return rc;
	char *opf = rootfile(c);
	if (!opf)
		return kho_error_last_code() ? kho_error_last_code() : KHO_EINVALID;
	epub e = { c, conv_dirname(opf), NULL, NULL, 0, 0 };
	xmlDoc *doc = NULL;
	char *seed = NULL;
	rc = e.opf_dir ? conv_xml_read(&doc, c, opf) : KHO_ENOMEM;
	if (rc)
		goto done;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!conv_xml_is(root, "package")) {
		rc = kho_error_set(KHO_EINVALID, "%s: %s has <%s> at its root, not <package>",
			kho_archive_source(c->ar), opf, (const char *)root->name);
		goto done;
	}
	e.manifest = conv_xml_child(root, "manifest");
	xmlNode *spine = conv_xml_child(root, "spine");
	char *unique = conv_xml_attr(root, "unique-identifier");
	seed = metadata(&e, conv_xml_child(root, "metadata"), unique);
	free(unique);
	if (!(rc = conv_set_pack_id(c, "epub", c->title, seed)))
		rc = conv_copy_all(c, keep_file, NULL);
	if (!rc)
		rc = read_toc(&e, spine);
	if (!rc)
		rc = spine_lessons(&e, spine);
	if (!rc && !c->lessons)
		rc = kho_error_set(KHO_EINVALID, "%s: the spine of %s names no XHTML document that "
			"is in the book", kho_archive_source(c->ar), opf);
done:
	for (size_t i = 0; i < e.n_nav; i++) {
		free(e.nav[i].label);
		free(e.nav[i].path);
	}
	free(e.nav);
	free(e.opf_dir);
	free(seed);
	free(opf);
	xmlFreeDoc(doc);
	return rc;
}
