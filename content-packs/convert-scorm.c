/*
 * convert-scorm.c — SCORM 1.2 and 2004 packages (IMS Content Packaging with
 * ADL's extensions). imsmanifest.xml's default organisation gives the pack's
 * title and its tree of items: an item with children becomes a unit (deeper
 * levels are flattened into it), an item that launches a resource becomes a
 * lesson whose file is the resource's launch page, used as it is. The LOM
 * metadata gives a title, summary, keywords and language. Every file of the
 * package but the packaging schemas is copied. Sequencing, run-time
 * tracking and launch parameters have no place in kho and are dropped.
 */
#include "convert-private.h"

/* Text of a LOM element: langstring (1.2) or string (2004, CC), or itself. */
static char *lom_string(const xmlNode *n)
{
	if (!n)
		return NULL;
	xmlNode *s = conv_xml_child(n, "string");
	if (!s)
		s = conv_xml_child(n, "langstring");
	return conv_xml_text(s ? s : n);
}

void conv_lom(conv *c, const xmlNode *lom)
{
	const xmlNode *general = conv_xml_child(lom, "general");
	if (!general)
		return;
	if (!c->title)
		c->title = lom_string(conv_xml_child(general, "title"));
	if (!c->summary)
		c->summary = lom_string(conv_xml_child(general, "description"));
	if (!c->lang) {
		char *lang = conv_xml_text(conv_xml_child(general, "language"));
		if (conv_lang_ok(lang))
			c->lang = lang;
		else
			free(lang);
	}
	conv_buf words = { 0 };
	for (xmlNode *k = conv_xml_child(general, "keyword"); k; k = conv_xml_next(k, "keyword")) {
		char *w = lom_string(k);
		if (w && (words.len ? conv_buf_str(&words, ", ") : 0) == KHO_OK)
			conv_buf_str(&words, w);
		free(w);
	}
	if (words.len && !c->keywords)
		c->keywords = words.data;
	else
		conv_buf_free(&words);
}

typedef struct scorm {
	conv *c;
	xmlNode *resources;
	char *base;        /* xml:base of <resources>, resolved; "" for none */
} scorm;

static xmlNode *find_by_id(xmlNode *parent, const char *child, const char *id)
{
	for (xmlNode *n = conv_xml_child(parent, child); n; n = conv_xml_next(n, child)) {
		char *ident = conv_xml_attr(n, "identifier");
		bool same = ident && id && !strcmp(ident, id);
		free(ident);
		if (same)
			return n;
	}
	return NULL;
}

/* The launch page of a resource, as a path in the package; NULL (with a
 * warning) when there is none. */
static char *launch_path(scorm *s, xmlNode *res, const char *what)
{
	char *href = conv_xml_attr(res, "href");
	char *rbase = conv_xml_attr(res, "base");
	char *base = NULL, *path = NULL;
	if (!href) {
		conv_warn(s->c, "%s: its resource has no launch page (href)", what);
		goto done;
	}
	base = rbase ? conv_resolve(s->base, rbase) : strdup(s->base);
	path = conv_resolve(base ? base : s->base, href);
	if (!path)
		conv_warn(s->c, "%s: the launch page '%s' is outside the package; left out", what,
			href);
done:
	free(href);
	free(rbase);
	free(base);
	return path;
}

/* A lesson for one item that launches a resource; items without one add
 * nothing. */
static int item_lesson(scorm *s, xmlNode *item)
{
	char *ref = conv_xml_attr(item, "identifierref");
	char *id = conv_xml_attr(item, "identifier");
	char *title = conv_xml_text(conv_xml_child(item, "title"));
	char *params = conv_xml_attr(item, "parameters");
	char what[300];
	snprintf(what, sizeof what, "item '%s'", id ? id : "?");
	int rc = KHO_OK;
	if (ref) {
		xmlNode *res = find_by_id(s->resources, "resource", ref);
		char *path = res ? launch_path(s, res, what) : NULL;
		if (!res)
			conv_warn(s->c, "%s refers to the resource '%s', which the manifest does not "
				"have; left out", what, ref);
		if (path && params && *params)
			conv_warn(s->c, "%s: launch parameters '%s' dropped", what, params);
		if (path)
			rc = conv_lesson(s->c, id, path, title, NULL, NULL);
		free(path);
	}
	free(ref);
	free(id);
	free(title);
	free(params);
	return rc;
}

static bool visible(xmlNode *item)
{
	char *v = conv_xml_attr(item, "isvisible");
	bool hidden = v && !strcmp(v, "false");
	free(v);
	return !hidden;
}

/* Every visible item below `parent`, depth first, as lessons. */
static int flatten(scorm *s, xmlNode *parent, int depth)
{
	if (depth > 32)
		return KHO_OK;
	int rc = KHO_OK;
	for (xmlNode *it = conv_xml_child(parent, "item"); it && !rc; it = conv_xml_next(it, "item")) {
		if (!visible(it))
			continue;
		rc = item_lesson(s, it);
		if (!rc)
			rc = flatten(s, it, depth + 1);
	}
	return rc;
}

static int organization(scorm *s, xmlNode *org)
{
	int rc = KHO_OK;
	for (xmlNode *it = conv_xml_child(org, "item"); it && !rc; it = conv_xml_next(it, "item")) {
		if (!visible(it))
			continue;
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

/* Without a usable organisation: one lesson per resource's HTML launch page. */
static int from_resources(scorm *s)
{
	int rc = KHO_OK;
	for (xmlNode *res = conv_xml_child(s->resources, "resource"); res && !rc;
		res = conv_xml_next(res, "resource")) {
		char *id = conv_xml_attr(res, "identifier");
		char what[300];
		snprintf(what, sizeof what, "resource '%s'", id ? id : "?");
		char *path = launch_path(s, res, what);
		if (path && conv_is_html(path)) {
			char *title = conv_html_entry_title(s->c, path);
			rc = conv_lesson(s->c, id, path, title ? title : id, NULL, NULL);
			free(title);
		}
		free(path);
		free(id);
	}
	return rc;
}

/* The organisation the manifest names as default, else its first. */
static xmlNode *pick_organization(conv *c, xmlNode *orgs)
{
	char *def = conv_xml_attr(orgs, "default");
	xmlNode *org = def ? find_by_id(orgs, "organization", def) : NULL;
	if (def && !org)
		conv_warn(c, "imsmanifest.xml: the default organization '%s' does not exist; the "
			"first one is used", def);
	free(def);
	return org ? org : conv_xml_child(orgs, "organization");
}

static bool keep_file(void *payload, const char *name)
{
	(void)payload;
	return strcmp(name, "imsmanifest.xml") && !conv_has_ext(name, "xsd")
		&& !conv_has_ext(name, "dtd");
}

int conv_scorm(conv *c, kho_convert_format format)
{
	(void)format;
	xmlDoc *doc = NULL;
	int rc = conv_xml_read(&doc, c, "imsmanifest.xml");
	if (rc)
		return rc;
	xmlNode *root = xmlDocGetRootElement(doc);
	scorm s = { c, NULL, NULL };
	if (!conv_xml_is(root, "manifest")) {
		rc = kho_error_set(KHO_EINVALID, "%s: imsmanifest.xml has <%s> at its root, not "
			"<manifest>", kho_archive_source(c->ar), (const char *)root->name);
		goto done;
	}
	s.resources = conv_xml_child(root, "resources");
	char *rbase = conv_xml_attr(s.resources, "base");
	s.base = rbase ? conv_resolve("", rbase) : NULL;
	free(rbase);
	if (!s.base && !(s.base = strdup(""))) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto done;
	}
	xmlNode *org = pick_organization(c, conv_xml_child(root, "organizations"));
	if (org)
		c->title = conv_xml_text(conv_xml_child(org, "title"));
	xmlNode *lom = conv_xml_find(conv_xml_child(root, "metadata"), "lom");
	if (lom)
		conv_lom(c, lom);
	char *ident = conv_xml_attr(root, "identifier");
	if (!c->title)
		c->title = ident ? conv_clean_text(ident) : NULL;
	rc = conv_set_pack_id(c, "scorm", c->title, ident);
	free(ident);
	if (!rc)
		rc = conv_copy_all(c, keep_file, NULL);
	if (!rc && org)
		rc = organization(&s, org);
	if (!rc && !c->lessons) {
		conv_warn(c, "imsmanifest.xml: no organization gives a lesson; the resources' launch "
			"pages are used instead");
		rc = from_resources(&s);
	}
	if (!rc && !c->lessons)
		rc = kho_error_set(KHO_EINVALID, "%s: imsmanifest.xml names no launch page that is in "
			"the package", kho_archive_source(c->ar));
done:
	free(s.base);
	xmlFreeDoc(doc);
	return rc;
}
