/*
 * convert-imscc.c — IMS Common Cartridge 1.0–1.3 (and Canvas's exports of
 * it). The organisation's modules become units and their items lessons:
 * web content and wiki pages are used as they are (Canvas's
 * $IMS-CC-FILEBASE$ links rewritten to the cartridge's files); discussion
 * topics, assignments and web links get a generated page from their title
 * and text; QTI quizzes a readable page of their questions (convert-qti.c).
 * LTI tools and Canvas's own settings have nothing to show and are left out.
 * A cartridge without modules gives one lesson per resource, in order.
 */
#include "convert-private.h"

#define FILEBASE "$IMS-CC-FILEBASE$"
#define FILEBASE_ENC "%24IMS-CC-FILEBASE%24"
/* Canvas puts the files that FILEBASE names here. */
#define WEB_RESOURCES "web_resources"

typedef struct cc {
	conv *c;
	xmlNode *resources;
} cc;

static bool keep_file(void *payload, const char *name)
{
	(void)payload;
	return strcmp(name, "imsmanifest.xml") && strncmp(name, "course_settings/", 16)
		&& strncmp(name, "non_cc_assessments/", 19) && !conv_has_ext(name, "xsd")
		&& !conv_is_html(name);
}

/* A FILEBASE link as a path in the cartridge, or NULL. */
static char *filebase_path(const char *url)
{
	const char *rest = NULL;
	if (!strncmp(url, FILEBASE, strlen(FILEBASE)))
		rest = url + strlen(FILEBASE);
	else if (!strncasecmp(url, FILEBASE_ENC, strlen(FILEBASE_ENC)))
		rest = url + strlen(FILEBASE_ENC);
	while (rest && *rest == '/')
		rest++;
	return rest ? conv_resolve(WEB_RESOURCES, rest) : NULL;
}

char *conv_cc_link(void *payload, const char *url, bool image)
{
	conv_cc_links *l = payload;
	if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8))
		return image ? NULL : strdup(url); /* an offline box shows no remote image */
	char *path = filebase_path(url);
	if (!path)
		path = conv_resolve(l->base, url);
	long i = path ? kho_archive_entry_find(l->c->ar, path) : -1;
	char *link = NULL;
	if (path && i < 0)
		conv_warn(l->c, "the file '%s' that a page links to is not in the package", path);
	if (i >= 0 && !conv_is_junk(path) && !conv_has_ext(path, "svg")
		&& conv_copy_entry(l->c, (size_t)i) == KHO_OK)
		link = conv_relative(l->page_dir, path);
	free(path);
	return link;
}

/* Copies a web page of the cartridge into the pack, its FILEBASE links
 * made relative to the page. */
static int copy_page(conv *c, const char *path)
{
	long i = kho_archive_entry_find(c->ar, path);
	if (i < 0 || conv_set_has(&c->files, path))
		return KHO_OK; /* missing: conv_lesson says so */
	char *html = NULL, *dir = conv_dirname(path), *prefix = NULL;
	size_t len = 0;
	int rc = dir ? kho_archive_entry_read_all(&html, &len, c->ar, (size_t)i, CONV_MAX_HTML)
		: KHO_ENOMEM;
	if (!rc && !(prefix = conv_relative(dir, WEB_RESOURCES)))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	conv_buf out = { 0 };
	for (const char *p = html; !rc && p && *p;) {
		const char *a = strstr(p, FILEBASE), *b = strcasestr(p, FILEBASE_ENC);
		const char *hit = a && (!b || a < b) ? a : b;
		if (!hit) {
			rc = conv_buf_add(&out, p, len - (size_t)(p - html));
			break;
		}
		rc = conv_buf_add(&out, p, (size_t)(hit - p));
		if (!rc)
			rc = conv_buf_str(&out, prefix);
		p = hit + (hit == a ? strlen(FILEBASE) : strlen(FILEBASE_ENC));
	}
	if (!rc)
		rc = conv_write_file(c, path, out.data ? out.data : "", out.len);
	conv_buf_free(&out);
	free(prefix);
	free(html);
	free(dir);
	return rc;
}

/* Writes a generated page for a lesson and adds the lesson. */
static int generated_lesson(conv *c, const char *id, const char *title, const conv_buf *content)
{
	char *name = conv_new_name(c, "kho-lessons", id ? id : "lesson", "html");
	conv_buf page = { 0 };
	int rc = name ? conv_html_begin(&page, title, c->lang) : kho_error_last_code();
	if (!rc)
		rc = conv_buf_add(&page, content->data ? content->data : "", content->len);
	if (!rc)
		rc = conv_html_end(&page);
	if (!rc)
		rc = conv_write_file(c, name, page.data, page.len);
	if (!rc)
		rc = conv_lesson(c, id, name, title, NULL, NULL);
	conv_buf_free(&page);
	free(name);
	return rc;
}

/* The XML file of a resource: its href, else its first <file>. */
static char *resource_file(xmlNode *res)
{
	char *href = conv_xml_attr(res, "href");
	if (!href)
		href = conv_xml_attr(conv_xml_child(res, "file"), "href");
	char *base = conv_xml_attr(res, "base");
	char *path = href ? conv_resolve(base ? base : "", href) : NULL;
	free(href);
	free(base);
	return path;
}

/* A discussion topic, an assignment or a web link: title and text. */
static int text_lesson(cc *s, const char *id, const char *title, const char *path)
{
	xmlDoc *doc = NULL;
	int rc = conv_xml_read(&doc, s->c, path);
	if (rc == KHO_ENOTFOUND || rc == KHO_EINVALID || rc == KHO_EUNSAFE) {
		conv_warn(s->c, "%s", kho_error_last());
		return KHO_OK;
	}
	if (rc)
		return rc;
	xmlNode *root = xmlDocGetRootElement(doc);
	char *own_title = conv_xml_text(conv_xml_child(root, "title"));
	xmlNode *text = conv_xml_child(root, "text");
	if (!text)
		text = conv_xml_child(root, "description");
	char *dir = conv_dirname(path);
	conv_cc_links links = { s->c, dir ? dir : "", "kho-lessons" };
	conv_buf content = { 0 };
	xmlChar *raw = text ? xmlNodeGetContent(text) : NULL;
	if (raw)
		rc = conv_html_sanitize(&content, (const char *)raw, strlen((const char *)raw),
			conv_cc_link, &links);
	xmlNode *url = conv_xml_child(root, "url");
	char *href = conv_xml_attr(url, "href");
	if (!rc && href && (!strncmp(href, "http://", 7) || !strncmp(href, "https://", 8))) {
		rc = conv_buf_str(&content, "<p><a href=\"");
		if (!rc)
			rc = conv_html_escape(&content, href);
		if (!rc)
			rc = conv_buf_str(&content, "\">");
		if (!rc)
			rc = conv_html_escape(&content, href);
		if (!rc)
			rc = conv_buf_str(&content, "</a></p>\n");
	}
	if (!rc)
		rc = generated_lesson(s->c, id, title ? title : own_title, &content);
	xmlFree(raw);
	free(href);
	conv_buf_free(&content);
	free(dir);
	free(own_title);
	xmlFreeDoc(doc);
	return rc;
}

static int quiz_lesson(cc *s, const char *id, const char *title, const char *path)
{
	xmlDoc *doc = NULL;
	int rc = conv_xml_read(&doc, s->c, path);
	if (rc == KHO_ENOTFOUND || rc == KHO_EINVALID || rc == KHO_EUNSAFE) {
		conv_warn(s->c, "%s", kho_error_last());
		return KHO_OK;
	}
	if (rc)
		return rc;
	char *dir = conv_dirname(path);
	conv_cc_links links = { s->c, dir ? dir : "", "kho-lessons" };
	conv_buf content = { 0 };
	size_t questions = 0;
	rc = conv_qti_page(&content, &links, doc, &questions);
	if (rc == KHO_EINVALID) {
		conv_warn(s->c, "%s: %s; left out", path, kho_error_last());
		rc = KHO_OK;
	} else if (!rc && !questions) {
		conv_warn(s->c, "%s: a quiz without questions; left out", path);
	} else if (!rc) {
		xmlNode *assessment = conv_xml_child(xmlDocGetRootElement(doc), "assessment");
		char *own_title = conv_xml_attr(assessment, "title");
		rc = generated_lesson(s->c, id, title ? title : own_title, &content);
		free(own_title);
	}
	conv_buf_free(&content);
	free(dir);
	xmlFreeDoc(doc);
	return rc;
}

static xmlNode *find_resource(cc *s, const char *ref)
{
	for (xmlNode *r = conv_xml_child(s->resources, "resource"); r;
		r = conv_xml_next(r, "resource")) {
		char *id = conv_xml_attr(r, "identifier");
		bool same = id && !strcmp(id, ref);
		free(id);
		if (same)
			return r;
	}
	return NULL;
}

/* One resource as a lesson titled `title` (NULL: its own); `quiet` skips,
 * without a warning, the kinds that are no lesson (settings, files). */
static int resource_lesson(cc *s, xmlNode *res, const char *id, const char *title, bool quiet)
{
	char *type = conv_xml_attr(res, "type");
	char *path = resource_file(res);
	const char *t = type ? type : "";
	int rc = KHO_OK;
	if (!path) {
		if (!quiet)
			conv_warn(s->c, "resource '%s' (%s) names no file; left out", id, t);
	} else if (conv_is_html(path) && !strncmp(path, "course_settings/", 16)) {
		/* Canvas's syllabus and settings pages */
	} else if (conv_is_html(path)) {
		char *own = title ? NULL : conv_html_entry_title(s->c, path);
		rc = copy_page(s->c, path);
		if (!rc)
			rc = conv_lesson(s->c, id, path, title ? title : own, NULL, NULL);
		free(own);
	} else if (strstr(t, "imsqti_") && !strstr(t, "question-bank")) {
		rc = quiz_lesson(s, id, title, path);
	} else if (!strncmp(t, "imsdt_", 6) || !strncmp(t, "imswl_", 6)
		|| !strncmp(t, "assignment_", 11)) {
		rc = text_lesson(s, id, title, path);
	} else if (!quiet) {
		conv_warn(s->c, "resource '%s' (%s): nothing kho can show; left out", id, t);
	}
	free(type);
	free(path);
	return rc;
}

static int item_lesson(cc *s, xmlNode *item)
{
	char *ref = conv_xml_attr(item, "identifierref");
	char *id = conv_xml_attr(item, "identifier");
	char *title = conv_xml_text(conv_xml_child(item, "title"));
	int rc = KHO_OK;
	if (ref) {
		xmlNode *res = find_resource(s, ref);
		if (!res)
			conv_warn(s->c, "item '%s' (%s) refers to the resource '%s', which the manifest "
				"does not have; left out", id ? id : "?", title ? title : "", ref);
		else
			rc = resource_lesson(s, res, id, title, false);
	}
	free(ref);
	free(id);
	free(title);
	return rc;
}

static int flatten(cc *s, xmlNode *parent, int depth)
{
	int rc = KHO_OK;
	for (xmlNode *it = conv_xml_child(parent, "item"); it && !rc && depth < 32;
		it = conv_xml_next(it, "item")) {
		rc = item_lesson(s, it);
		if (!rc)
			rc = flatten(s, it, depth + 1);
	}
	return rc;
}

/* The modules: the organisation's root item (Canvas's "LearningModules",
 * untitled) holds them. */
static int modules(cc *s, xmlNode *org)
{
	xmlNode *top = org;
	xmlNode *only = conv_xml_child(org, "item");
	if (only && !conv_xml_next(only, "item") && !conv_xml_child(only, "title"))
		top = only;
	int rc = KHO_OK;
	for (xmlNode *it = conv_xml_child(top, "item"); it && !rc; it = conv_xml_next(it, "item")) {
		if (!conv_xml_child(it, "item")) {
			rc = item_lesson(s, it);
			continue;
		}
		char *id = conv_xml_attr(it, "identifier");
		char *title = conv_xml_text(conv_xml_child(it, "title"));
		rc = conv_unit_begin(s->c, id, title);
		if (!rc)
			rc = item_lesson(s, it);
		if (!rc)
			rc = flatten(s, it, 0);
		conv_unit_end(s->c);
		free(id);
		free(title);
	}
	return rc;
}

/* Files that a lesson page does not reference but that belong to the
 * cartridge (pages outside the modules) are kept too. */
static int copy_rest(conv *c)
{
	size_t n = kho_archive_entry_count(c->ar);
	int rc = KHO_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *name = kho_archive_entry_name(c->ar, i);
		if (conv_is_html(name) && !conv_is_junk(name) && strncmp(name, "course_settings/", 16))
			rc = copy_page(c, name);
	}
	return rc;
}

int conv_imscc(conv *c)
{
	xmlDoc *doc = NULL;
	int rc = conv_xml_read(&doc, c, "imsmanifest.xml");
	if (rc)
		return rc;
	xmlNode *root = xmlDocGetRootElement(doc);
	cc s = { c, NULL };
	if (!conv_xml_is(root, "manifest")) {
		rc = kho_error_set(KHO_EINVALID, "%s: imsmanifest.xml has <%s> at its root, not "
			"<manifest>", kho_archive_source(c->ar), (const char *)root->name);
		goto done;
	}
	s.resources = conv_xml_child(root, "resources");
	xmlNode *lom = conv_xml_find(conv_xml_child(root, "metadata"), "lom");
	if (lom)
		conv_lom(c, lom);
	char *ident = conv_xml_attr(root, "identifier");
	if (!c->title)
		c->title = ident ? conv_clean_text(ident) : NULL;
	rc = conv_set_pack_id(c, "imscc", c->title, ident);
	free(ident);
	if (!rc)
		rc = conv_copy_all(c, keep_file, NULL);
	xmlNode *org = conv_xml_child(conv_xml_child(root, "organizations"), "organization");
	if (!rc && org)
		rc = modules(&s, org);
	if (!rc && !c->lessons) {
		for (xmlNode *r = conv_xml_child(s.resources, "resource"); r && !rc;
			r = conv_xml_next(r, "resource")) {
			char *id = conv_xml_attr(r, "identifier");
			rc = resource_lesson(&s, r, id, NULL, true);
			free(id);
		}
	}
	if (!rc)
		rc = copy_rest(c);
done:
	xmlFreeDoc(doc);
	return rc;
}
