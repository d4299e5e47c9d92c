/*
 * convert-writer.c — writes the native pack an importer makes: files copied
 * from the foreign package or generated, then manifest.xml built from the
 * units and lessons added in order. Every text that reaches the manifest is
 * cleaned (white space, control characters, invalid UTF-8), cut to the
 * schema's lengths and escaped; ids are made to fit the schema and unique.
 * A dry run (out_dir NULL) does everything but write, for the fuzz targets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "convert-private.h"

/* Longest id made from a foreign identifier (the schema allows 128). */
#define ID_MAX 100

void conv_warn(conv *c, const char *fmt, ...)
{
	kho_convert_report *r = c->report;
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char **w = r->n_warnings < 1000 ? realloc(r->warnings, (r->n_warnings + 1) * sizeof *w)
		: NULL;
	if (!w) {
		free(text);
		return;
	}
	r->warnings = w;
	r->warnings[r->n_warnings++] = text;
}

int conv_set_pack_id(conv *c, const char *prefix, const char *title, const char *seed)
{
	char *slug = conv_slug(title, 48);
	if (!slug)
		return KHO_ENOMEM;
	kho_hash h;
	const char *s = seed && *seed ? seed : title ? title : "";
	kho_hash_buffer(&h, s, strlen(s));
	free(c->pack_id);
	c->pack_id = NULL;
	int n = asprintf(&c->pack_id, "%s.%s%s%02x%02x%02x%02x", prefix, slug, *slug ? "-" : "",
		h.bytes[0], h.bytes[1], h.bytes[2], h.bytes[3]);
	free(slug);
	if (n < 0) {
		c->pack_id = NULL;
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	return KHO_OK;
}

/* ---------------------------------------------------------------- files */

/* Opens out_dir/name for writing, making its folders; -1 with the error set. */
static int create_file(conv *c, const char *name)
{
	char *path = kho_path_join(c->out_dir, name);
	char *dir = path ? conv_dirname(path) : NULL;
	int fd = -1;
	if (!dir)
		kho_error_set(KHO_ENOMEM, "out of memory");
	else if (kho_mkdir_p(dir, 0755) == KHO_OK) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			kho_error_set(errno == ENOSPC ? KHO_ENOSPACE : KHO_EIO, "cannot write %s: %s",
				path, strerror(errno));
	}
	free(dir);
	free(path);
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kho_error_set(errno == ENOSPC ? KHO_ENOSPACE : KHO_EIO,
				"cannot write the pack: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return KHO_OK;
}

static int fd_sink(void *payload, const void *data, size_t len)
{
	return write_all(*(int *)payload, data, len);
}

int conv_write_file(conv *c, const char *name, const void *data, size_t len)
{
	if (!kho_path_is_safe(name))
		return kho_error_set(KHO_EUNSAFE, "cannot write '%s' in a pack", name);
	int rc = conv_set_add(&c->files, name);
	if (rc || !c->out_dir)
		return rc;
	int fd = create_file(c, name);
	if (fd < 0)
		return kho_error_last_code();
	rc = write_all(fd, data, len);
	if (close(fd) != 0 && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", name, strerror(errno));
	return rc;
}

int conv_copy_entry(conv *c, size_t i)
{
	const char *name = kho_archive_entry_name(c->ar, i);
	if (!name)
		return kho_error_set(KHO_ENOTFOUND, "no entry %zu", i);
	if (conv_set_has(&c->files, name))
		return KHO_OK;
	int rc = conv_set_add(&c->files, name);
	if (rc || !c->out_dir)
		return rc;
	int fd = create_file(c, name);
	if (fd < 0)
		return kho_error_last_code();
	rc = kho_archive_entry_read(c->ar, i, fd_sink, &fd);
	if (close(fd) != 0 && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", name, strerror(errno));
	return rc;
}

int conv_copy_all(conv *c, bool (*keep)(void *payload, const char *name), void *payload)
{
	size_t n = kho_archive_entry_count(c->ar);
	for (size_t i = 0; i < n; i++) {
		const char *name = kho_archive_entry_name(c->ar, i);
		if (conv_is_junk(name) || (keep && !keep(payload, name)))
			continue;
		if (!strcmp(name, "manifest.xml")) {
			conv_warn(c, "manifest.xml: the package's own file of that name is left out "
				"(the pack's manifest takes its place)");
			continue;
		}
		int rc = conv_copy_entry(c, i);
		if (rc)
			return rc;
	}
	return KHO_OK;
}

char *conv_new_name(conv *c, const char *dir, const char *base, const char *ext)
{
	for (int n = 1; n < 100000; n++) {
		char *name = NULL;
		char suffix[16] = "";
		if (n > 1)
			snprintf(suffix, sizeof suffix, "-%d", n);
		if (asprintf(&name, "%s%s%s%s.%s", dir ? dir : "", dir && *dir ? "/" : "", base,
			suffix, ext) < 0) {
			kho_error_set(KHO_ENOMEM, "out of memory");
			return NULL;
		}
		if (!conv_set_has(&c->files, name) && kho_archive_entry_find(c->ar, name) < 0
			&& strcmp(name, "manifest.xml"))
			return name;
		free(name);
	}
	kho_error_set(KHO_ELIMIT, "no free file name for %s", base);
	return NULL;
}

/* ------------------------------------------------------------- manifest */

/* An id from a foreign identifier: [A-Za-z0-9_-], unique in the pack. */
static char *make_id(conv *c, const char *hint, const char *fallback)
{
	char base[ID_MAX + 1];
	size_t j = 0;
	bool dash = false;
	for (const char *p = hint ? hint : ""; *p && j < ID_MAX; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
			|| ch == '_') {
			if (dash && j)
				base[j++] = '-';
			dash = false;
			if (j < ID_MAX)
				base[j++] = (char)ch;
		} else {
			dash = true;
		}
	}
	base[j] = '\0';
	if (!j)
		snprintf(base, sizeof base, "%s", fallback);
	char *id = NULL;
	for (int n = 1; n < 1000000; n++) {
		if ((n == 1 ? asprintf(&id, "%s", base) : asprintf(&id, "%s-%d", base, n)) < 0) {
			kho_error_set(KHO_ENOMEM, "out of memory");
			return NULL;
		}
		if (!conv_set_has(&c->ids, id)) {
			if (conv_set_add(&c->ids, id)) {
				free(id);
				return NULL;
			}
			return id;
		}
		free(id);
	}
	kho_error_set(KHO_ELIMIT, "too many ids like '%s'", base);
	return NULL;
}

/* Appends <name>text</name> with `text` cleaned and cut; nothing when the
 * text is empty. */
static int add_element(conv_buf *b, const char *indent, const char *name, const char *text,
	size_t max)
{
	char *clean = conv_clean_text(text);
	if (!clean)
		return KHO_OK;
	conv_cut_chars(clean, max);
	int rc = conv_buf_printf(b, "%s<%s>", indent, name);
	if (!rc)
		rc = conv_html_escape(b, clean);
	if (!rc)
		rc = conv_buf_printf(b, "</%s>\n", name);
	free(clean);
	return rc;
}

int conv_unit_begin(conv *c, const char *id_hint, const char *title)
{
	conv_unit_end(c);
	char *id = make_id(c, id_hint, "unit");
	if (!id)
		return kho_error_last_code();
	int rc = conv_buf_str(&c->pending_unit, "  <unit id=\"");
	if (!rc)
		rc = conv_html_escape(&c->pending_unit, id);
	if (!rc)
		rc = conv_buf_str(&c->pending_unit, "\">\n");
	if (!rc)
		rc = add_element(&c->pending_unit, "    ", "title", title ? title : id, 500);
	free(id);
	c->unit_open = !rc;
	return rc;
}

void conv_unit_end(conv *c)
{
	if (c->unit_open && !c->pending_unit.len)
		conv_buf_str(&c->body, "  </unit>\n");
	c->unit_open = false;
	conv_buf_free(&c->pending_unit);
}

/* A page that links to a lesson file that is not HTML (a PDF, a video). */
static char *wrap_file(conv *c, const char *id, const char *href, const char *title)
{
	char *name = conv_new_name(c, "kho-lessons", id, "html");
	char *link = name ? conv_relative("kho-lessons", href) : NULL;
	conv_buf page = { 0 };
	int rc = link ? conv_html_begin(&page, title, c->lang) : KHO_ENOMEM;
	if (!rc)
		rc = conv_buf_str(&page, "<p><a href=\"");
	if (!rc)
		rc = conv_html_escape(&page, link);
	if (!rc)
		rc = conv_buf_str(&page, "\">");
	if (!rc)
		rc = conv_html_escape(&page, title);
	if (!rc)
		rc = conv_buf_str(&page, "</a></p>\n");
	if (!rc)
		rc = conv_html_end(&page);
	if (!rc)
		rc = conv_write_file(c, name, page.data, page.len);
	conv_buf_free(&page);
	free(link);
	if (rc) {
		free(name);
		return NULL;
	}
	return name;
}

int conv_lesson(conv *c, const char *id_hint, const char *href, const char *title,
	const char *keywords, const char *summary)
{
	char *clean_title = conv_clean_text(title);
	if (!clean_title) {
		const char *slash = strrchr(href, '/');
		clean_title = conv_clean_text(slash ? slash + 1 : href);
	}
	if (!clean_title)
		return kho_error_last_code() ? kho_error_last_code() : KHO_ENOMEM;
	if (!conv_set_has(&c->files, href)) {
		conv_warn(c, "lesson '%s': its file '%s' is not in the package; the lesson is left "
			"out", clean_title, href);
		free(clean_title);
		return KHO_OK;
	}
	char *id = make_id(c, id_hint, "lesson");
	char *page = NULL;
	int rc = id ? KHO_OK : kho_error_last_code();
	if (!rc && !conv_is_html(href)) {
		if (!(page = wrap_file(c, id, href, clean_title)))
			rc = kho_error_last_code();
	}
	if (!rc && c->unit_open && c->pending_unit.len) {
		rc = conv_buf_add(&c->body, c->pending_unit.data, c->pending_unit.len);
		conv_buf_free(&c->pending_unit);
		c->units++;
	}
	const char *indent = c->unit_open ? "    " : "  ";
	const char *inner = c->unit_open ? "      " : "    ";
	if (!rc)
		rc = conv_buf_printf(&c->body, "%s<lesson id=\"%s\" href=\"", indent, id);
	if (!rc)
		rc = conv_html_escape(&c->body, page ? page : href);
	if (!rc)
		rc = conv_buf_str(&c->body, "\">\n");
	if (!rc)
		rc = add_element(&c->body, inner, "title", clean_title, 500);
	if (!rc)
		rc = add_element(&c->body, inner, "keywords", keywords ? keywords : c->keywords, 1000);
	if (!rc)
		rc = add_element(&c->body, inner, "summary", summary, 4000);
	if (!rc)
		rc = conv_buf_printf(&c->body, "%s</lesson>\n", indent);
	if (!rc)
		c->lessons++;
	free(page);
	free(id);
	free(clean_title);
	return rc;
}

static int build_manifest(conv *c, conv_buf *m)
{
	const char *fmt = kho_convert_format_name(c->report->format);
	int rc = conv_buf_printf(m, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!-- Converted by kho (content-packs/IMPORTERS.md) from: %s -->\n"
		"<pack xmlns=\"urn:kho:pack:1\" id=\"%s\" version=\"%lld\"", fmt, c->pack_id,
		c->version > 0 && c->version <= 2147483647 ? c->version : 1);
	if (!rc && conv_lang_ok(c->lang))
		rc = conv_buf_printf(m, " xml:lang=\"%s\"", c->lang);
	if (!rc)
		rc = conv_buf_str(m, ">\n");
	char *title = conv_clean_text(c->title);
	if (!rc)
		rc = add_element(m, "  ", "title", title ? title : "Untitled", 500);
	free(title);
	if (!rc)
		rc = add_element(m, "  ", "summary", c->summary, 4000);
	if (!rc)
		rc = add_element(m, "  ", "publisher", c->publisher, 1000);
	if (!rc)
		rc = add_element(m, "  ", "license", c->license, 64);
	if (!rc)
		rc = conv_buf_add(m, c->body.data ? c->body.data : "", c->body.len);
	return rc ? rc : conv_buf_str(m, "</pack>\n");
}

int conv_finish(conv *c)
{
	conv_unit_end(c);
	if (!c->lessons)
		return kho_error_set(KHO_EINVALID, "%s: no lesson could be made from this %s package "
			"(nothing to show a learner)", kho_archive_source(c->ar),
			kho_convert_format_name(c->report->format));
	if (!c->pack_id && conv_set_pack_id(c, "imported", c->title, NULL))
		return kho_error_last_code();
	conv_buf m = { 0 };
	int rc = build_manifest(c, &m);
	if (!rc && !c->out_dir) {
		kho_manifest *parsed = NULL;
		rc = kho_manifest_parse(&parsed, m.data, m.len, "manifest.xml");
		kho_manifest_free(parsed);
		if (!rc)
			rc = conv_set_add(&c->files, "manifest.xml");
	} else if (!rc) {
		rc = conv_write_file(c, "manifest.xml", m.data, m.len);
		kho_pack *pack = NULL;
		if (!rc)
			rc = kho_pack_open(&pack, c->out_dir);
		kho_pack_free(pack);
	}
	conv_buf_free(&m);
	if (rc)
		return rc;
	kho_convert_report *r = c->report;
	free(r->pack_id);
	free(r->title);
	r->pack_id = strdup(c->pack_id);
	r->title = conv_clean_text(c->title ? c->title : "Untitled");
	if (r->title)
		conv_cut_chars(r->title, 500);
	r->lessons = c->lessons;
	r->units = c->units;
	r->files = c->files.count;
	return r->pack_id && r->title ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory");
}
