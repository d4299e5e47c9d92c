/*
 * collection-pack.c — a teacher's collection written as a native pack, for
 * a USB stick or for the centre to review and publish.
 *
 * The pack holds the collection's lessons in its order, each with the files
 * it shows: its page, and what the page loads (images, style sheets, media,
 * documents it links to; not other lessons' pages), found by following the
 * links of HTML and CSS files. Each source pack's files keep their paths
 * under a folder named after the pack, so relative links keep working.
 * Pack id: the collection's own random "teacher.HEX" (no name travels with
 * it); version: the collection's last change, so a later export of the
 * same collection is a newer version of it.
 */
#include "convert-private.h"

#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Pages and style sheets larger than this are copied without following
 * their links (no lesson page is that large); other files are streamed. */
#define EXPORT_READ_MAX (8 << 20)

/* The files still to copy for one lesson, and all those copied. */
typedef struct exporter {
	kho_store *store;
	const char *dir;           /* the pack folder being written */
	const kho_lesson_info *lesson;
	char **queue;              /* paths in the lesson's pack, to copy */
	size_t n_queue, cap_queue;
	conv_set copied;           /* "PACK/PATH" written */
	int rc;
} exporter;

static void enqueue(exporter *e, char *path)
{
	if (e->rc || !path) {
		free(path);
		return;
	}
	if (e->n_queue == e->cap_queue) {
		size_t cap = e->cap_queue ? 2 * e->cap_queue : 16;
		char **grown = realloc(e->queue, cap * sizeof *grown);
		if (!grown) {
			free(path);
			e->rc = kho_error_set(KHO_ENOMEM, "out of memory");
			return;
		}
		e->queue = grown;
		e->cap_queue = cap;
	}
	e->queue[e->n_queue++] = path;
}

static bool is_page(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm") ||
		!strcasecmp(dot, ".xhtml"));
}

typedef struct link_ctx {
	exporter *e;
	const char *from;
} link_ctx;

static void on_link(void *payload, const char *element, const char *ref)
{
	link_ctx *ctx = payload;
	char *path = NULL;
	if (pack_link_resolve(&path, ctx->from, ref) != PACK_LINK_FILE)
		return;
	/* a link to another page is another lesson: not carried along */
	if (!strcasecmp(element, "a") && is_page(path)) {
		free(path);
		return;
	}
	enqueue(ctx->e, path);
}

static void walk(link_ctx *ctx, xmlNode *node)
{
	for (xmlNode *n = node; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE) {
			pack_links_of_element(n, on_link, ctx);
			walk(ctx, n->children);
		}
}

/* Copies the file `path` of the lesson's pack, and queues what it links to. */
/* Copies the blob to `dest` in pieces (media can be large), checking that
 * it still has its hash. */
static int stream_blob(const kho_blobs *blobs, const kho_hash *hash, const char *dest)
{
	char *from = kho_blobs_path(blobs, hash);
	FILE *in = from ? fopen(from, "rb") : NULL;
	FILE *out = in ? fopen(dest, "wbx") : NULL;
	int rc = !from ? kho_error_set(KHO_ENOMEM, "out of memory") : !in || !out ?
		kho_error_set(KHO_EIO, "cannot copy %s: %s", from, strerror(errno)) : KHO_OK;
	kho_hasher h;
	kho_hasher_init(&h);
	unsigned char buf[65536];
	size_t n;
	while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0) {
		kho_hasher_update(&h, buf, n);
		if (fwrite(buf, 1, n, out) != n)
			rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	}
	kho_hash got;
	kho_hasher_final(&h, &got);
	if (!rc && (ferror(in) || memcmp(got.bytes, hash->bytes, KHO_HASH_SIZE)))
		rc = kho_error_set(KHO_ECORRUPT, "%s no longer matches its hash", from);
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	free(from);
	return rc;
}

/* Copies the file `path` of the lesson's pack, and queues what its links
 * name when it is a page or a style sheet. */
static int copy_file(exporter *e, const char *path)
{
	char key[2048];
	if (snprintf(key, sizeof key, "%s/%s", e->lesson->pack, path) >= (int)sizeof key)
		return KHO_OK; /* no pack has such a path */
	if (conv_set_has(&e->copied, key))
		return KHO_OK;
	int rc = conv_set_add(&e->copied, key);
	kho_hash hash;
	uint64_t size;
	if (!rc && kho_store_file(&hash, &size, e->store, e->lesson->pack, e->lesson->version,
		path)) {
		kho_error_clear(); /* a broken link of the source pack: nothing to carry */
		return KHO_OK;
	}
	const char *dot = strrchr(path, '.');
	bool css = dot && !strcasecmp(dot, ".css");
	bool read = (is_page(path) || css) && size <= EXPORT_READ_MAX; /* links to follow */
	char *dest = rc ? NULL : kho_path_join(e->dir, key);
	if (!rc && !dest)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	char *slash = dest ? strrchr(dest, '/') : NULL;
	if (!rc && slash) {
		*slash = '\0';
		rc = kho_mkdir_p(dest, 0755);
		*slash = '/';
	}
	char *data = NULL;
	size_t len = 0;
	if (!rc && !read)
		rc = stream_blob(kho_store_blobs(e->store), &hash, dest);
	if (!rc && read)
		rc = kho_blobs_read(&data, &len, kho_store_blobs(e->store), &hash);
	FILE *f = !rc && read ? fopen(dest, "wbx") : NULL;
	if (!rc && read) {
		bool ok = f && fwrite(data, 1, len, f) == len;
		if (f && fclose(f) != 0)
			ok = false;
		if (!ok)
			rc = kho_error_set(KHO_EIO, "cannot write %s: %s", dest, strerror(errno));
	}
	free(dest);
	link_ctx ctx = { e, path };
	if (!rc && read && !css) {
		htmlDocPtr doc = htmlReadMemory(data, (int)len, path, "UTF-8", HTML_PARSE_NONET |
			HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
		if (doc)
			walk(&ctx, xmlDocGetRootElement(doc));
		xmlFreeDoc(doc);
	} else if (!rc && read) {
		pack_links_of_css(data, on_link, &ctx);
	}
	free(data);
	return rc ? rc : e->rc;
}

static int copy_lesson(exporter *e, const kho_lesson_info *info)
{
	e->lesson = info;
	char *href = strdup(info->href);
	if (!href)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	enqueue(e, href);
	int rc = e->rc;
	while (!rc && e->n_queue) {
		char *path = e->queue[--e->n_queue];
		rc = copy_file(e, path);
		free(path);
	}
	while (e->n_queue)
		free(e->queue[--e->n_queue]);
	return rc;
}

/* ------------------------------------------------------------ manifest */

/* Adds each space-separated word of `list` to `set` once. */
static int add_words(conv_set *set, const char *list)
{
	int rc = KHO_OK;
	char word[128];
	for (const char *p = list; !rc && kho_next_word(&p, word, sizeof word);)
		if (!conv_set_has(set, word))
			rc = conv_set_add(set, word);
	return rc;
}

static int write_words(xmlTextWriterPtr w, const char *element, const char *list)
{
	int bad = 0;
	char word[128];
	for (const char *p = list; kho_next_word(&p, word, sizeof word);)
		bad |= xmlTextWriterWriteElement(w, BAD_CAST element, BAD_CAST word) < 0;
	return bad;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The words of `set` in order, joined by spaces, for write_words();
 * malloc'd. */
static char *joined(const conv_set *set)
{
	char **words = calloc(set->count ? set->count : 1, sizeof *words);
	if (!words)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < set->cap && n < set->count; i++)
		if (set->slots[i])
			words[n++] = set->slots[i];
	qsort(words, n, sizeof *words, by_text);
	conv_buf b = { 0 };
	int rc = conv_buf_str(&b, "");
	for (size_t i = 0; !rc && i < n; i++)
		rc = conv_buf_printf(&b, "%s ", words[i]);
	free(words);
	if (rc) {
		conv_buf_free(&b);
		return NULL;
	}
	return b.data;
}

static int write_manifest(const char *dir, const kho_collection *c, kho_lesson_info **infos,
	const char *pack_id)
{
	conv_set subjects = { 0 }, grades = { 0 };
	int rc = KHO_OK;
	for (size_t i = 0; !rc && i < c->count; i++)
		if (infos[i] && !(rc = add_words(&subjects, infos[i]->subjects)))
			rc = add_words(&grades, infos[i]->grades);
	char *all_subjects = rc ? NULL : joined(&subjects), *all_grades = rc ? NULL : joined(&grades);
	conv_set_free(&subjects);
	conv_set_free(&grades);
	if (!rc && (!all_subjects || !all_grades))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	char *path = rc ? NULL : kho_path_join(dir, "manifest.xml");
	xmlTextWriterPtr w = path ? xmlNewTextWriterFilename(path, 0) : NULL;
	if (!rc && !w)
		rc = kho_error_set(KHO_EIO, "cannot write %s", path ? path : "manifest.xml");
	if (!rc) {
		char version[24], summary[600];
		snprintf(version, sizeof version, "%lld", (long long)(c->updated_at > 0 &&
			c->updated_at <= 2147483647 ? c->updated_at : 1));
		snprintf(summary, sizeof summary, "%s: %zu bài do %s chọn trên hộp kho của trường.",
			c->name, c->count, c->owner);
		int bad = xmlTextWriterSetIndent(w, 1) < 0;
		bad |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
		bad |= xmlTextWriterStartElementNS(w, NULL, BAD_CAST "pack",
			BAD_CAST "urn:kho:pack:1") < 0;
		bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST pack_id) < 0;
		bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST version) < 0;
		bad |= xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST c->name) < 0;
		bad |= xmlTextWriterWriteElement(w, BAD_CAST "summary", BAD_CAST summary) < 0;
		bad |= xmlTextWriterWriteElement(w, BAD_CAST "publisher", BAD_CAST c->owner) < 0;
		bad |= write_words(w, "subject", all_subjects);
		bad |= write_words(w, "grade", all_grades);
		for (size_t i = 0; i < c->count; i++) {
			const kho_lesson_info *l = infos[i];
			if (!l)
				continue;
			/* an id of its own, the same for the same lesson in a later
			 * export: "l" and the hash of "PACK/LESSON" (pack and lesson ids
			 * joined by a dot could meet: a.b + c, a + b.c) */
			char id[40], href[2048], key[600];
			snprintf(key, sizeof key, "%s/%s", l->pack, l->lesson);
			kho_hash h;
			kho_hash_buffer(&h, key, strlen(key));
			char hex[KHO_HASH_HEX_SIZE];
			kho_hash_to_hex(hex, &h);
			snprintf(id, sizeof id, "l%.24s", hex);
			snprintf(href, sizeof href, "%s/%s", l->pack, l->href);
			bad |= xmlTextWriterStartElement(w, BAD_CAST "lesson") < 0;
			bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST id) < 0;
			bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "href", BAD_CAST href) < 0;
			bad |= xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST l->title) < 0;
			if (*l->keywords)
				bad |= xmlTextWriterWriteElement(w, BAD_CAST "keywords",
					BAD_CAST l->keywords) < 0;
			if (*l->summary)
				bad |= xmlTextWriterWriteElement(w, BAD_CAST "summary",
					BAD_CAST l->summary) < 0;
			bad |= write_words(w, "subject", l->subjects);
			bad |= write_words(w, "grade", l->grades);
			bad |= xmlTextWriterEndElement(w) < 0;
		}
		bad |= xmlTextWriterEndDocument(w) < 0;
		if (bad)
			rc = kho_error_set(KHO_EIO, "cannot write %s", path);
	}
	xmlFreeTextWriter(w);
	free(path);
	free(all_subjects);
	free(all_grades);
	return rc;
}

/* ----------------------------------------------------------------- export */

int kho_collection_export(kho_store *store, const kho_collection *c, const char *out)
{
	const char *pack_id = c->pack_id;
	kho_lesson_info **infos = calloc(c->count ? c->count : 1, sizeof *infos);
	if (!infos)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	size_t shown = 0;
	int rc = KHO_OK;
	for (size_t i = 0; !rc && i < c->count; i++) {
		rc = kho_store_lesson(&infos[i], store, c->items[i].pack, c->items[i].lesson);
		if (rc == KHO_ENOTFOUND) { /* removed from the box since: left out */
			kho_error_clear();
			rc = KHO_OK;
		} else if (!rc)
			shown++;
	}
	if (!rc && !shown)
		rc = kho_error_set(KHO_EINVALID, "the collection '%s' has no lesson that is on this "
			"box", c->name);
	const char *tmp = getenv("TMPDIR");
	char *dir = NULL;
	if (!rc && asprintf(&dir, "%s/kho-collection-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
		dir = NULL;
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && !mkdtemp(dir)) {
		rc = kho_error_set(KHO_EIO, "cannot make a temporary folder: %s", strerror(errno));
		free(dir);
		dir = NULL;
	}
	exporter e = { .store = store, .dir = dir };
	for (size_t i = 0; !rc && i < c->count; i++)
		if (infos[i])
			rc = copy_lesson(&e, infos[i]);
	if (!rc)
		rc = write_manifest(dir, c, infos, pack_id);
	if (!rc)
		rc = kho_pack_build(out, dir);
	conv_set_free(&e.copied);
	free(e.queue);
	if (dir) {
		char *message = rc ? strdup(kho_error_last()) : NULL;
		kho_convert_remove(dir);
		if (rc)
			kho_error_set(rc, "%s", message ? message : "out of memory");
		free(message);
	}
	free(dir);
	for (size_t i = 0; i < c->count; i++)
		kho_lesson_info_free(infos[i]);
	free(infos);
	return rc;
}
