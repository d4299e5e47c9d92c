/*
 * manifest.c — reads a pack's manifest.xml into a kho_manifest.
 *
 * The manifest comes from outside and is hostile until checked. It must be
 * UTF-8 without a DTD; libxml2 runs with no network, no entity substitution
 * and a loader that refuses every external resource, and keeps its default
 * nesting limit. The document is then validated against the RELAX NG schema
 * content-packs/kho-pack-1.rng (compiled into the binary) with each error
 * reported with its line, and last the checks a schema cannot express are
 * made (unique ids, hrefs that stay inside the pack). The format itself is
 * described in content-packs/FORMAT.md.
 */
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <pthread.h>

#include "core-private.h"

#define PACK_NS "urn:kho:pack:1"
#define MAX_REPORTED_ERRORS 20

extern const unsigned char kho_manifest_schema[];
extern const size_t kho_manifest_schema_len;

/* ------------------------------------------------------- error collection */

typedef struct errors {
	const char *name;
	kho_buf text;
	int count;
} errors;

static void add_error(errors *e, int line, const char *msg)
{
	e->count++;
	if (e->count > MAX_REPORTED_ERRORS)
		return;
	char head[512];
	size_t len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	if (line > 0)
		snprintf(head, sizeof head, "\n  %s:%d: ", e->name, line);
	else
		snprintf(head, sizeof head, "\n  %s: ", e->name);
	kho_buf_append(&e->text, head, strlen(head));
	kho_buf_append(&e->text, msg, len > 400 ? 400 : len);
}

static void on_xml_error(void *payload, xmlErrorPtr err)
{
	if (err && err->level >= XML_ERR_ERROR)
		add_error(payload, err->line, err->message ? err->message : "error");
}

static int report(errors *e, int code, const char *what)
{
	int rc = kho_error_set(code, "%s: %s (%d error%s)%s%s", e->name, what, e->count,
		e->count == 1 ? "" : "s", e->text.data ? e->text.data : "",
		e->count > MAX_REPORTED_ERRORS ? "\n  …" : "");
	return rc;
}

/* ------------------------------------------------------------ libxml setup */

static xmlParserInputPtr refuse_external(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)id;
	(void)ctxt;
	kho_log_warn("refused to load external resource %.200s", url ? url : "(unnamed)");
	return NULL;
}

static xmlRelaxNGPtr schema;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static void setup(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_external);
	xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewMemParserCtxt(
		(const char *)kho_manifest_schema, (int)kho_manifest_schema_len);
	if (pc) {
		schema = xmlRelaxNGParse(pc);
		xmlRelaxNGFreeParserCtxt(pc);
	}
}

/* Aborts parsing as soon as a DOCTYPE appears: no DTD, no entities. */
static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	(void)name;
	(void)ext;
	(void)sys;
	xmlParserCtxtPtr ctxt = ctx;
	xmlStopParser(ctxt);
	ctxt->_private = (void *)1;
}

/* ------------------------------------------------------------ the model */

static char *text_of(xmlNodePtr node)
{
	xmlChar *raw = xmlNodeGetContent(node);
	if (!raw)
		return kho_strdup("");
	/* trim, and fold every whitespace run into one space */
	size_t n = strlen((char *)raw);
	char *out = malloc(n + 1);
	if (!out) {
		xmlFree(raw);
		kho_error_set(KHO_ENOMEM, "out of memory");
		return NULL;
	}
	size_t j = 0;
	bool space = false;
	for (size_t i = 0; i < n; i++) {
		char c = (char)raw[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			space = j > 0;
			continue;
		}
		if (space)
			out[j++] = ' ';
		space = false;
		out[j++] = c;
	}
	out[j] = '\0';
	xmlFree(raw);
	return out;
}

static bool is(xmlNodePtr node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && node->ns
		&& !strcmp((const char *)node->ns->href, PACK_NS)
		&& !strcmp((const char *)node->name, name);
}

static char *attr(xmlNodePtr node, const char *name)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
	char *s = kho_strdup(v ? (const char *)v : "");
	xmlFree(v);
	return s;
}

static int push_string(char ***list, size_t *n, char *s)
{
	if (!s)
		return KHO_ENOMEM;
	char **p = realloc(*list, (*n + 1) * sizeof *p);
	if (!p) {
		free(s);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	p[(*n)++] = s;
	*list = p;
	return KHO_OK;
}

static int push_grade(int **list, size_t *n, xmlNodePtr node)
{
	char *s = text_of(node);
	if (!s)
		return KHO_ENOMEM;
	int g = atoi(s);
	free(s);
	int *p = realloc(*list, (*n + 1) * sizeof *p);
	if (!p)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	p[(*n)++] = g;
	*list = p;
	return KHO_OK;
}

static int copy_tags(kho_manifest_lesson *l, const kho_manifest *m)
{
	if (!l->n_subjects)
		for (size_t i = 0; i < m->n_subjects; i++)
			if (push_string(&l->subjects, &l->n_subjects, kho_strdup(m->subjects[i])))
				return KHO_ENOMEM;
	if (!l->n_grades && m->n_grades) {
		l->grades = malloc(m->n_grades * sizeof *l->grades);
		if (!l->grades)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		memcpy(l->grades, m->grades, m->n_grades * sizeof *l->grades);
		l->n_grades = m->n_grades;
	}
	return KHO_OK;
}

static int add_lesson(kho_manifest *m, xmlNodePtr node, long unit)
{
	kho_manifest_lesson *p = realloc(m->lessons, (m->n_lessons + 1) * sizeof *p);
	if (!p)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	m->lessons = p;
	kho_manifest_lesson *l = &m->lessons[m->n_lessons++];
	memset(l, 0, sizeof *l);
	l->unit = unit;
	l->line = (int)xmlGetLineNo(node);
	if (!(l->id = attr(node, "id")) || !(l->href = attr(node, "href")))
		return KHO_ENOMEM;
	for (xmlNodePtr c = node->children; c; c = c->next) {
		int rc = KHO_OK;
		if (is(c, "title"))
			rc = (l->title = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "keywords"))
			rc = (l->keywords = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "summary"))
			rc = (l->summary = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "subject"))
			rc = push_string(&l->subjects, &l->n_subjects, text_of(c));
		else if (is(c, "grade"))
			rc = push_grade(&l->grades, &l->n_grades, c);
		if (rc)
			return rc;
	}
	return KHO_OK;
}

static int add_unit(kho_manifest *m, xmlNodePtr node)
{
	kho_manifest_unit *p = realloc(m->units, (m->n_units + 1) * sizeof *p);
	if (!p)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	m->units = p;
	long index = (long)m->n_units++;
	kho_manifest_unit *u = &m->units[index];
	memset(u, 0, sizeof *u);
	if (!(u->id = attr(node, "id")))
		return KHO_ENOMEM;
	for (xmlNodePtr c = node->children; c; c = c->next) {
		int rc = KHO_OK;
		if (is(c, "title"))
			rc = (u->title = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "summary"))
			rc = (u->summary = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "lesson"))
			rc = add_lesson(m, c, index);
		if (rc)
			return rc;
	}
	return KHO_OK;
}

static int build_model(kho_manifest *m, xmlNodePtr root)
{
	int rc;
	char *version = NULL;
	if (!(m->id = attr(root, "id")) || !(version = attr(root, "version")))
		return KHO_ENOMEM;
	m->version = strtoll(version, NULL, 10);
	free(version);
	xmlChar *lang = xmlNodeGetLang(root);
	m->lang = kho_strdup(lang ? (const char *)lang : "und");
	xmlFree(lang);
	if (!m->lang)
		return KHO_ENOMEM;
	for (xmlNodePtr c = root->children; c; c = c->next) {
		rc = KHO_OK;
		if (is(c, "title"))
			rc = (m->title = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "summary"))
			rc = (m->summary = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "publisher"))
			rc = (m->publisher = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "license"))
			rc = (m->license = text_of(c)) ? KHO_OK : KHO_ENOMEM;
		else if (is(c, "subject"))
			rc = push_string(&m->subjects, &m->n_subjects, text_of(c));
		else if (is(c, "grade"))
			rc = push_grade(&m->grades, &m->n_grades, c);
		else if (is(c, "unit"))
			rc = add_unit(m, c);
		else if (is(c, "lesson"))
			rc = add_lesson(m, c, -1);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < m->n_lessons; i++)
		if ((rc = copy_tags(&m->lessons[i], m)))
			return rc;
	return KHO_OK;
}

/* ------------------------------------------------------ semantic checks */

static int compare_ids(const void *a, const void *b)
{
	const kho_manifest_lesson *x = *(const kho_manifest_lesson *const *)a;
	const kho_manifest_lesson *y = *(const kho_manifest_lesson *const *)b;
	return strcmp(x->id, y->id);
}

static int compare_unit_ids(const void *a, const void *b)
{
	return strcmp(((const kho_manifest_unit *)a)->id, ((const kho_manifest_unit *)b)->id);
}

static void check_model(const kho_manifest *m, errors *e)
{
	char msg[1400];
	for (size_t i = 0; i < m->n_lessons; i++) {
		const kho_manifest_lesson *l = &m->lessons[i];
		if (!kho_path_is_safe(l->href) || strpbrk(l->href, "#?")) {
			snprintf(msg, sizeof msg, "lesson '%s': href '%.1000s' is not a plain relative "
				"path inside the pack", l->id, l->href);
			add_error(e, l->line, msg);
		} else if (!strcmp(l->href, "manifest.xml")) {
			snprintf(msg, sizeof msg, "lesson '%s': href names the manifest", l->id);
			add_error(e, l->line, msg);
		}
	}
	const kho_manifest_lesson **sorted = malloc(m->n_lessons * sizeof *sorted + 1);
	if (sorted) {
		for (size_t i = 0; i < m->n_lessons; i++)
			sorted[i] = &m->lessons[i];
		qsort(sorted, m->n_lessons, sizeof *sorted, compare_ids);
		for (size_t i = 1; i < m->n_lessons; i++)
			if (!strcmp(sorted[i]->id, sorted[i - 1]->id)) {
				snprintf(msg, sizeof msg, "lesson id '%s' is used twice (also on line %d)",
					sorted[i]->id, sorted[i - 1]->line);
				add_error(e, sorted[i]->line, msg);
			}
		free(sorted);
	}
	kho_manifest_unit *units = malloc(m->n_units * sizeof *units + 1);
	if (units) {
		if (m->n_units)
			memcpy(units, m->units, m->n_units * sizeof *units);
		qsort(units, m->n_units, sizeof *units, compare_unit_ids);
		for (size_t i = 1; i < m->n_units; i++)
			if (!strcmp(units[i].id, units[i - 1].id)) {
				snprintf(msg, sizeof msg, "unit id '%s' is used twice", units[i].id);
				add_error(e, 0, msg);
			}
		free(units);
	}
}

/* Explains the attribute errors that the schema validator only reports as
 * "failed to validate attributes", naming the value and the rule. */
static bool pack_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n < 3 || n > 128 || id[0] == '.' || id[0] == '-' || id[n - 1] == '.' || strstr(id, ".."))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

static bool local_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n < 1 || n > 128 || strstr(id, "..") || !strcmp(id, "."))
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void explain_id(xmlNodePtr node, errors *e, bool pack)
{
	char msg[600];
	xmlChar *id = xmlGetProp(node, (const xmlChar *)"id");
	if (id && pack && !pack_id_ok((const char *)id)) {
		snprintf(msg, sizeof msg, "pack id '%.200s' is not allowed: use 3-128 lower-case "
			"letters, digits, '-' and single '.' between them", id);
		add_error(e, (int)xmlGetLineNo(node), msg);
	} else if (id && !pack && !local_id_ok((const char *)id)) {
		snprintf(msg, sizeof msg, "%s id '%.200s' is not allowed: use letters, digits, '_', "
			"'-' and single '.'", (const char *)node->name, id);
		add_error(e, (int)xmlGetLineNo(node), msg);
	}
	xmlFree(id);
}

static void explain_attributes(xmlNodePtr root, errors *e)
{
	char msg[600];
	explain_id(root, e, true);
	xmlChar *version = xmlGetProp(root, (const xmlChar *)"version");
	if (version) {
		const char *v = (const char *)version;
		char *end = NULL;
		long long n = strtoll(v, &end, 10);
		if (!*v || *end || n < 1 || n > 2147483647 || strspn(v, "+0123456789") != strlen(v)) {
			snprintf(msg, sizeof msg, "pack version '%.200s' is not allowed: use a whole number "
				"from 1 to 2147483647", v);
			add_error(e, (int)xmlGetLineNo(root), msg);
		}
	}
	xmlFree(version);
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (is(c, "lesson"))
			explain_id(c, e, false);
		if (is(c, "unit")) {
			explain_id(c, e, false);
			for (xmlNodePtr l = c->children; l; l = l->next)
				if (is(l, "lesson"))
					explain_id(l, e, false);
		}
	}
}

/* ------------------------------------------------------------- parsing */

int kho_manifest_parse(kho_manifest **out, const char *xml, size_t len, const char *name)
{
	errors e = { .name = name ? name : "manifest.xml" };
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlRelaxNGValidCtxtPtr vctxt = NULL;
	kho_manifest *m = NULL;
	int rc;

	pthread_once(&setup_once, setup);
	if (!schema)
		return kho_error_set(KHO_ERROR, "the built-in manifest schema does not load");
	if (len > KHO_MANIFEST_MAX_SIZE)
		return kho_error_set(KHO_ELIMIT, "%s: %zu bytes, more than the %u allowed",
			e.name, len, KHO_MANIFEST_MAX_SIZE);
	if (len == 0)
		return kho_error_set(KHO_EINVALID, "%s: the file is empty", e.name);
	if (!kho_utf8_valid(xml, len))
		return kho_error_set(KHO_EINVALID, "%s: not valid UTF-8 text", e.name);

	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	ctxt->sax->internalSubset = refuse_dtd;
	ctxt->sax->externalSubset = refuse_dtd;
	xmlSetStructuredErrorFunc(&e, on_xml_error);
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, e.name, "UTF-8",
		XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS);
	if (ctxt->_private) {
		rc = kho_error_set(KHO_EUNSAFE, "%s: has a DOCTYPE; manifests may not declare a DTD "
			"or entities", e.name);
		goto done;
	}
	if (!doc || !ctxt->wellFormed || e.count) {
		rc = report(&e, KHO_EINVALID, "not well-formed XML");
		goto done;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || !is(root, "pack")) {
		rc = kho_error_set(KHO_EINVALID, "%s: the root element must be <pack xmlns=\"%s\">",
			e.name, PACK_NS);
		goto done;
	}

	vctxt = xmlRelaxNGNewValidCtxt(schema);
	if (!vctxt) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto done;
	}
	xmlRelaxNGSetValidStructuredErrors(vctxt, on_xml_error, &e);
	if (xmlRelaxNGValidateDoc(vctxt, doc) != 0 || e.count) {
		explain_attributes(root, &e);
		if (!e.count)
			add_error(&e, 0, "does not match the schema");
		rc = report(&e, KHO_EINVALID, "does not follow the pack format (content-packs/FORMAT.md)");
		goto done;
	}

	m = calloc(1, sizeof *m);
	if (!m) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = build_model(m, root)))
		goto done;
	check_model(m, &e);
	if (e.count) {
		rc = report(&e, KHO_EINVALID, "invalid manifest");
		goto done;
	}
	*out = m;
	m = NULL;
	rc = KHO_OK;
done:
	xmlSetStructuredErrorFunc(NULL, NULL);
	kho_manifest_free(m);
	xmlRelaxNGFreeValidCtxt(vctxt);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	kho_buf_free(&e.text);
	return rc;
}

static void free_strings(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void kho_manifest_free(kho_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_lessons; i++) {
		kho_manifest_lesson *l = &m->lessons[i];
		free(l->id);
		free(l->href);
		free(l->title);
		free(l->keywords);
		free(l->summary);
		free_strings(l->subjects, l->n_subjects);
		free(l->grades);
	}
	for (size_t i = 0; i < m->n_units; i++) {
		free(m->units[i].id);
		free(m->units[i].title);
		free(m->units[i].summary);
	}
	free(m->lessons);
	free(m->units);
	free(m->id);
	free(m->lang);
	free(m->title);
	free(m->summary);
	free(m->publisher);
	free(m->license);
	free_strings(m->subjects, m->n_subjects);
	free(m->grades);
	free(m);
}
