/*
 * convert-xml.c — reading a package's XML (imsmanifest.xml, OPF, NCX,
 * container.xml, QTI, discussions) safely with libxml2: no network, no
 * external DTD, and no entities at all — a document that declares one is
 * refused, so that nothing can expand (billion laughs) or read a file. Then
 * small namespace-blind lookups by local name, because foreign packages
 * spell their namespaces in many ways (SCORM 1.2 vs 2004, CC 1.1 vs 1.3).
 */
#include <libxml/parser.h>

#include "convert-private.h"

int conv_xml_parse(xmlDoc **out, const char *data, size_t len, const char *name)
{
	if (len > CONV_MAX_DOC || len > (size_t)INT32_MAX)
		return kho_error_set(KHO_ELIMIT, "%s: %zu bytes, more than the %u allowed", name, len,
			CONV_MAX_DOC);
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, data, (int)len, name, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	int rc = KHO_OK;
	if (!doc || !xmlDocGetRootElement(doc)) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char reason[300] = "no root element";
		if (e && e->message) {
			snprintf(reason, sizeof reason, "%s", e->message);
			size_t n = strlen(reason);
			while (n && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
				reason[--n] = '\0';
		}
		rc = kho_error_set(KHO_EINVALID, "%s: not well-formed XML (line %d: %s)", name,
			e ? e->line : 0, reason);
	} else if (doc->intSubset && (doc->intSubset->entities || doc->intSubset->pentities)) {
		rc = kho_error_set(KHO_EUNSAFE, "%s: declares XML entities, which kho refuses "
			"(they can expand without end or read other files)", name);
	}
	xmlFreeParserCtxt(ctxt);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return KHO_OK;
}

int conv_xml_read(xmlDoc **out, conv *c, const char *name)
{
	long i = kho_archive_entry_find(c->ar, name);
	if (i < 0)
		return kho_error_set(KHO_ENOTFOUND, "%s: no '%s' in the package",
			kho_archive_source(c->ar), name);
	char *data = NULL, *shown = NULL;
	size_t len = 0;
	int rc = kho_archive_entry_read_all(&data, &len, c->ar, (size_t)i, CONV_MAX_DOC);
	if (!rc && asprintf(&shown, "%s: %s", kho_archive_source(c->ar), name) < 0) {
		shown = NULL;
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = conv_xml_parse(out, data, len, shown);
	free(shown);
	free(data);
	return rc;
}

bool conv_xml_is(const xmlNode *node, const char *local)
{
	return node && node->type == XML_ELEMENT_NODE && !strcmp((const char *)node->name, local);
}

xmlNode *conv_xml_next(const xmlNode *node, const char *local)
{
	for (xmlNode *n = node ? node->next : NULL; n; n = n->next)
		if (conv_xml_is(n, local))
			return n;
	return NULL;
}

xmlNode *conv_xml_child(const xmlNode *parent, const char *local)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (conv_xml_is(n, local))
			return n;
	return NULL;
}

xmlNode *conv_xml_path(const xmlNode *node, const char *path)
{
	char part[64];
	const xmlNode *cur = node;
	while (cur && *path) {
		size_t n = strcspn(path, "/");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		cur = conv_xml_child(cur, part);
		path += n + (path[n] == '/');
	}
	return (xmlNode *)cur;
}

xmlNode *conv_xml_find(const xmlNode *node, const char *local)
{
	/* iterative depth-first walk: documents may nest deeply */
	const xmlNode *n = node ? node->children : NULL;
	while (n) {
		if (conv_xml_is(n, local))
			return (xmlNode *)n;
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n && !n->next && n != node)
			n = n->parent;
		if (!n || n == node)
			return NULL;
		n = n->next;
	}
	return NULL;
}

char *conv_xml_text(const xmlNode *node)
{
	if (!node)
		return NULL;
	xmlChar *content = xmlNodeGetContent(node);
	if (!content)
		return NULL;
	char *text = conv_clean_text((const char *)content);
	xmlFree(content);
	return text;
}

char *conv_xml_attr(const xmlNode *node, const char *name)
{
	if (!node || node->type != XML_ELEMENT_NODE)
		return NULL;
	/* by local name, whatever the namespace (adlcp:scormtype, xml:lang) */
	for (xmlAttr *a = node->properties; a; a = a->next) {
		if (strcmp((const char *)a->name, name))
			continue;
		xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
		char *copy = v ? strdup((const char *)v) : NULL;
		xmlFree(v);
		return copy;
	}
	return NULL;
}
