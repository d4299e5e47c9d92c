/*
 * convert-h5p.c — an H5P package (h5p.json, content/content.json and the
 * libraries that run it) as one lesson: the text a learner reads, taken
 * from content.json's content fields (task descriptions, questions,
 * answers, texts, captions — not the buttons' labels or settings), with the
 * images, audio and video it names. H5P's JavaScript libraries are not
 * copied: the lesson is a static page, and no script of the package reaches
 * it. Fields that hold HTML are sanitised; the drop-zone marks of Drag the
 * Words, Fill in the Blanks and Mark the Words (*answer:tip*) are resolved to
 * their answer. SVG images are dropped, since an SVG file can carry script.
 */
#include <jansson.h>

#include "convert-private.h"

#define MAX_DEPTH 64

/* Keys whose strings a learner reads. */
static const char *const text_keys[] = {
	"text", "textField", "taskDescription", "question", "questions", "greeting",
	"introduction", "description", "caption", "answer", "answers", "tip", "heading",
	"title", "statement", "statements", "summary", "label", "hint", "definition", "term",
};

/* Subtrees that hold settings, translations of the player or metadata. */
static const char *const skipped_keys[] = {
	"behaviour", "l10n", "metadata", "a11y", "overallFeedback", "copyright", "UI",
	"override", "confirmCheck", "confirmRetry", "library", "subContentId",
};

static bool in(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; key && i < n; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

typedef struct h5p {
	conv *c;
	conv_buf out;
	const char *library;  /* the machine name of the content being walked */
	int rc;
} h5p;

static bool marked_library(const char *lib)
{
	return lib && (!strncmp(lib, "H5P.DragText", 12) || !strncmp(lib, "H5P.Blanks", 10)
		|| !strncmp(lib, "H5P.MarkTheWords", 16));
}

/* "Berries are *blue:tip*." → "Berries are blue." ("*a/b*" → "a"). */
static char *resolve_marks(const char *s)
{
	char *out = strdup(s);
	if (!out)
		return NULL;
	size_t j = 0;
	for (const char *p = s; *p;) {
		const char *end = *p == '*' ? strchr(p + 1, '*') : NULL;
		if (!end) {
			out[j++] = *p++;
			continue;
		}
		size_t n = strcspn(p + 1, ":/*");
		memcpy(out + j, p + 1, n);
		j += n;
		p = end + 1;
	}
	out[j] = '\0';
	return out;
}

static void add_text(h5p *h, const char *key, const char *value)
{
	char *own = marked_library(h->library) ? resolve_marks(value) : NULL;
	const char *s = own ? own : value;
	if (strchr(s, '<')) {
		h->rc = conv_buf_str(&h->out, "<div>");
		if (!h->rc)
			h->rc = conv_html_sanitize(&h->out, s, strlen(s), NULL, NULL);
		if (!h->rc)
			h->rc = conv_buf_str(&h->out, "</div>\n");
	} else {
		char *clean = conv_clean_text(s);
		bool heading = !strcmp(key, "title") || !strcmp(key, "heading");
		if (clean) {
			h->rc = conv_buf_str(&h->out, heading ? "<h2>" : "<p>");
			if (!h->rc)
				h->rc = conv_html_escape(&h->out, clean);
			if (!h->rc)
				h->rc = conv_buf_str(&h->out, heading ? "</h2>\n" : "</p>\n");
		}
		free(clean);
	}
	free(own);
}

/* A media file object ({"path", "mime"}): copied and shown or linked. */
static void add_file(h5p *h, json_t *obj, const char *alt)
{
	const char *path = json_string_value(json_object_get(obj, "path"));
	const char *mime = json_string_value(json_object_get(obj, "mime"));
	if (!path)
		return;
	if (!mime) /* older content names no type: the extension says */
		mime = conv_has_ext(path, "svg") ? "image/svg+xml"
			: conv_has_ext(path, "jpg") || conv_has_ext(path, "jpeg") || conv_has_ext(path, "png")
			|| conv_has_ext(path, "gif") || conv_has_ext(path, "webp") ? "image/*"
			: "application/octet-stream";
	char *clean = strndup(path, strcspn(path, "#"));
	char *full = clean ? conv_resolve("content", clean) : NULL;
	free(clean);
	long i = full ? kho_archive_entry_find(h->c->ar, full) : -1;
	if (!full) {
		if (strncmp(path, "http", 4))
			conv_warn(h->c, "content.json: the file '%s' is outside the package; left out",
				path);
	} else if (strstr(mime, "svg") || conv_has_ext(full, "svg")) {
		conv_warn(h->c, "%s: SVG image dropped (an SVG file can carry script)", full);
	} else if (i < 0) {
		conv_warn(h->c, "content.json names the file '%s', which is not in the package", full);
	} else if (!(h->rc = conv_copy_entry(h->c, (size_t)i))) {
		bool image = !strncmp(mime, "image/", 6);
		h->rc = conv_buf_str(&h->out, image ? "<p><img src=\"" : "<p><a href=\"");
		if (!h->rc)
			h->rc = conv_html_escape(&h->out, full);
		if (!h->rc && image && alt) {
			h->rc = conv_buf_str(&h->out, "\" alt=\"");
			if (!h->rc)
				h->rc = conv_html_escape(&h->out, alt);
		}
		if (!h->rc)
			h->rc = conv_buf_str(&h->out, "\">");
		if (!h->rc && !image) {
			const char *slash = strrchr(full, '/');
			h->rc = conv_html_escape(&h->out, slash ? slash + 1 : full);
			if (!h->rc)
				h->rc = conv_buf_str(&h->out, "</a>");
		}
		if (!h->rc)
			h->rc = conv_buf_str(&h->out, "</p>\n");
	}
	free(full);
}

static void walk(h5p *h, const char *key, json_t *v, int depth, const char *alt)
{
	if (h->rc || depth > MAX_DEPTH)
		return;
	if (json_is_string(v)) {
		if (in(key, text_keys, sizeof text_keys / sizeof *text_keys))
			add_text(h, key, json_string_value(v));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item)
			walk(h, key, item, depth + 1, alt);
	} else if (json_is_object(v)) {
		if (json_is_string(json_object_get(v, "path"))) {
			add_file(h, v, alt);
			return;
		}
		/* sub-content: {"library": "H5P.Blanks 1.14", "params": {…}} */
		const char *saved = h->library;
		const char *lib = json_string_value(json_object_get(v, "library"));
		if (lib)
			h->library = lib;
		const char *own_alt = json_string_value(json_object_get(v, "alt"));
		const char *k;
		json_t *child;
		json_object_foreach(v, k, child) {
			if (!in(k, skipped_keys, sizeof skipped_keys / sizeof *skipped_keys))
				walk(h, k, child, depth + 1, own_alt ? own_alt : alt);
		}
		h->library = saved;
	}
}

static int read_json(json_t **out, conv *c, const char *name)
{
	long i = kho_archive_entry_find(c->ar, name);
	if (i < 0)
		return kho_error_set(KHO_EINVALID, "%s: an H5P package without %s",
			kho_archive_source(c->ar), name);
	char *data = NULL;
	size_t len = 0;
	int rc = kho_archive_entry_read_all(&data, &len, c->ar, (size_t)i, CONV_MAX_DOC);
	if (rc)
		return rc;
	json_error_t err;
	json_t *j = json_loadb(data, len, 0, &err);
	free(data);
	if (!j)
		return kho_error_set(KHO_EINVALID, "%s: %s is not valid JSON (line %d: %s)",
			kho_archive_source(c->ar), name, err.line, err.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return kho_error_set(KHO_EINVALID, "%s: %s is not a JSON object",
			kho_archive_source(c->ar), name);
	}
	*out = j;
	return KHO_OK;
}

/* H5P's licence codes ("CC BY" and "4.0") as SPDX identifiers. */
static char *spdx_license(json_t *meta)
{
	const char *code = json_string_value(json_object_get(meta, "license"));
	const char *version = json_string_value(json_object_get(meta, "licenseVersion"));
	if (!code || !strcmp(code, "U"))
		return NULL;
	if (!strcmp(code, "CC0 1.0"))
		return strdup("CC0-1.0");
	if (!strcmp(code, "PD"))
		return NULL;
	if (strncmp(code, "CC ", 3) || !version)
		return NULL;
	char *spdx = NULL;
	if (asprintf(&spdx, "CC-%s-%s", code + 3, version) < 0)
		return NULL;
	for (char *p = spdx; *p; p++)
		if (*p == ' ')
			*p = '-';
	return spdx;
}

int conv_h5p(conv *c)
{
	json_t *meta = NULL, *content = NULL;
	h5p h = { c, { 0 }, NULL, KHO_OK };
	char *name = NULL;
	int rc = read_json(&meta, c, "h5p.json");
	if (!rc)
		rc = read_json(&content, c, "content/content.json");
	if (rc)
		goto done;
	const char *title = json_string_value(json_object_get(meta, "title"));
	const char *main = json_string_value(json_object_get(meta, "mainLibrary"));
	if (!title || !main) {
		rc = kho_error_set(KHO_EINVALID, "%s: h5p.json has no %s", kho_archive_source(c->ar),
			title ? "mainLibrary" : "title");
		goto done;
	}
	c->title = conv_clean_text(title);
	const char *lang = json_string_value(json_object_get(meta, "language"));
	if (lang && strcmp(lang, "und") && conv_lang_ok(lang))
		c->lang = strdup(lang);
	c->license = spdx_license(meta);
	json_t *authors = json_object_get(meta, "authors");
	const char *author = json_string_value(json_object_get(json_array_get(authors, 0), "name"));
	if (author)
		c->publisher = conv_clean_text(author);
	char seed[1100];
	snprintf(seed, sizeof seed, "%s\n%s", title, main);
	if ((rc = conv_set_pack_id(c, "h5p", c->title, seed)))
		goto done;
	h.library = main;
	walk(&h, NULL, content, 0, NULL);
	if ((rc = h.rc))
		goto done;
	conv_buf page = { 0 };
	name = conv_new_name(c, "", "lesson", "html");
	rc = name ? conv_html_begin(&page, c->title ? c->title : "H5P", c->lang) : KHO_ENOMEM;
	if (!rc)
		rc = conv_buf_add(&page, h.out.data ? h.out.data : "", h.out.len);
	if (!rc)
		rc = conv_html_end(&page);
	if (!rc)
		rc = conv_write_file(c, name, page.data, page.len);
	conv_buf_free(&page);
	if (!rc)
		rc = conv_lesson(c, "content", name, c->title, NULL, NULL);
done:
	free(name);
	conv_buf_free(&h.out);
	json_decref(meta);
	json_decref(content);
	return rc;
}
