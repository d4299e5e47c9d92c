/*
 * convert-qti.c — an IMS QTI 1.2 quiz (the assessments and question banks
 * of Common Cartridge) as a lesson page a teacher can read: each question's
 * text, then its choices as a list. Scoring, feedback rules and the answer
 * key are left out (the page is for reading, not for taking the quiz).
 * Question text is HTML or plain text in <mattext>; HTML is sanitised.
 */
#include "convert-private.h"

#define MAX_DEPTH 48

typedef struct qti {
	conv_buf *out;
	conv_cc_links *links;
	size_t questions;
	int rc;
} qti;

/* Appends one <mattext> (or <mattextxhtml>) as a paragraph. */
static void material_text(qti *q, const xmlNode *mattext)
{
	char *type = conv_xml_attr(mattext, "texttype");
	xmlChar *raw = xmlNodeGetContent(mattext);
	const char *text = raw ? (const char *)raw : "";
	bool html = (type && strstr(type, "html")) || conv_xml_is(mattext, "mattextxhtml");
	if (html) {
		q->rc = conv_buf_str(q->out, "<div>");
		if (!q->rc)
			q->rc = conv_html_sanitize(q->out, text, strlen(text), conv_cc_link, q->links);
		if (!q->rc)
			q->rc = conv_buf_str(q->out, "</div>\n");
	} else {
		char *clean = conv_clean_text(text);
		if (clean) {
			q->rc = conv_buf_str(q->out, "<p>");
			if (!q->rc)
				q->rc = conv_html_escape(q->out, clean);
			if (!q->rc)
				q->rc = conv_buf_str(q->out, "</p>\n");
		}
		free(clean);
	}
	xmlFree(raw);
	free(type);
}

/* The question's own text: every <mattext> below `node` except those of the
 * choices, which `choices` lists. */
static void question_parts(qti *q, const xmlNode *node, int depth, conv_buf *choices)
{
	for (const xmlNode *n = node->children; n && !q->rc && depth < MAX_DEPTH; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (conv_xml_is(n, "response_label")) {
			qti sub = { choices, q->links, 0, KHO_OK };
			size_t before = choices->len;
			sub.rc = conv_buf_str(choices, "<li>");
			question_parts(&sub, n, depth + 1, choices);
			if (!sub.rc && choices->len == before + 4) /* a choice without text */
				choices->data[choices->len = before] = '\0';
			else if (!sub.rc)
				sub.rc = conv_buf_str(choices, "</li>\n");
			q->rc = sub.rc;
		} else if (conv_xml_is(n, "mattext") || conv_xml_is(n, "mattextxhtml")) {
			material_text(q, n);
		} else if (!conv_xml_is(n, "itemmetadata") && !conv_xml_is(n, "resprocessing")
			&& !conv_xml_is(n, "itemfeedback") && !conv_xml_is(n, "qticomment")) {
			question_parts(q, n, depth + 1, choices);
		}
	}
}

static void item(qti *q, const xmlNode *it)
{
	q->questions++;
	char *title = conv_xml_attr(it, "title");
	char *clean = conv_clean_text(title);
	q->rc = conv_buf_str(q->out, "<section>\n<h2>");
	if (!q->rc)
		q->rc = clean ? conv_html_escape(q->out, clean)
			: conv_buf_printf(q->out, "Question %zu", q->questions);
	if (!q->rc)
		q->rc = conv_buf_str(q->out, "</h2>\n");
	conv_buf choices = { 0 };
	if (!q->rc)
		question_parts(q, conv_xml_child(it, "presentation"), 0, &choices);
	if (!q->rc && choices.len) {
		q->rc = conv_buf_str(q->out, "<ol type=\"a\">\n");
		if (!q->rc)
			q->rc = conv_buf_add(q->out, choices.data, choices.len);
		if (!q->rc)
			q->rc = conv_buf_str(q->out, "</ol>\n");
	}
	if (!q->rc)
		q->rc = conv_buf_str(q->out, "</section>\n");
	conv_buf_free(&choices);
	free(clean);
	free(title);
}

/* Every <item> below `node` in document order (sections nest). */
static void items(qti *q, const xmlNode *node, int depth)
{
	for (const xmlNode *n = node->children; n && !q->rc && depth < MAX_DEPTH; n = n->next) {
		if (conv_xml_is(n, "item") && conv_xml_child(n, "presentation"))
			item(q, n);
		else if (n->type == XML_ELEMENT_NODE)
			items(q, n, depth + 1);
	}
}

int conv_qti_page(conv_buf *out, conv_cc_links *links, xmlDoc *doc, size_t *questions)
{
	qti q = { out, links, 0, KHO_OK };
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!conv_xml_is(root, "questestinterop"))
		return kho_error_set(KHO_EINVALID, "<%s> is no QTI quiz (questestinterop)",
			(const char *)root->name);
	xmlNode *assessment = conv_xml_child(root, "assessment");
	char *desc = conv_xml_text(conv_xml_find(assessment, "rubric"));
	if (desc) {
		q.rc = conv_buf_str(out, "<p>");
		if (!q.rc)
			q.rc = conv_html_escape(out, desc);
		if (!q.rc)
			q.rc = conv_buf_str(out, "</p>\n");
		free(desc);
	}
	if (!q.rc)
		items(&q, root, 0);
	*questions = q.questions;
	return q.rc;
}
