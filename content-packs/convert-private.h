/*
 * convert-private.h — what the importers' files share: one conversion in
 * progress (the foreign archive, the pack being written, the report), the
 * pack writer (convert-writer.c), safe XML reading (convert-xml.c), lesson
 * HTML generation and sanitising (convert-html.c) and small text and path
 * helpers (convert-text.c). Each format's converter is one
 * convert-<format>.c with one entry point below.
 */
#ifndef KHO_CONVERT_PRIVATE_H
#define KHO_CONVERT_PRIVATE_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kho_convert.h"

/* Largest XML or JSON document of a package that is parsed, in bytes. */
#define CONV_MAX_DOC (16u * 1024 * 1024)
/* Largest lesson file read to find its title or to sanitise it. */
#define CONV_MAX_HTML (32u * 1024 * 1024)

/* ------------------------------------------------------- growable text */

typedef struct conv_buf {
	char *data;      /* NUL-terminated when not NULL */
	size_t len, cap;
} conv_buf;

int conv_buf_add(conv_buf *b, const void *data, size_t len);
int conv_buf_str(conv_buf *b, const char *s);
int conv_buf_printf(conv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conv_buf_free(conv_buf *b);

/* ---------------------------------------------------------- string sets */

/* A set of strings (hash table), for ids and file names already used. */
typedef struct conv_set {
	char **slots;
	size_t cap, count;
} conv_set;

bool conv_set_has(const conv_set *s, const char *key);
int conv_set_add(conv_set *s, const char *key);
void conv_set_free(conv_set *s);

/* ------------------------------------------------------------ the state */

typedef struct conv {
	kho_archive *ar;            /* the foreign package */
	kho_convert_report *report;
	const char *out_dir;        /* NULL: a dry run (fuzzing) writes nothing */
	unsigned char head[64];     /* the zip file's first bytes (EPUB checks them) */
	size_t head_len;            /* 0 for a folder */
	/* the pack's fields, malloc'd; NULL when unknown */
	char *pack_id, *title, *summary, *publisher, *license, *lang, *keywords;
	long long version;
	conv_buf body;              /* <unit> and <lesson> elements so far */
	conv_buf pending_unit;      /* a unit's start, written with its first lesson */
	bool unit_open;
	conv_set ids;               /* unit and lesson ids used */
	conv_set files;             /* files written (or that a dry run would) */
	size_t lessons, units;
} conv;

/* Records a warning in the report (and nowhere else). */
void conv_warn(conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True for entries no package means to carry: __MACOSX/, .DS_Store,
 * Thumbs.db, and any name with a segment beginning with '.'. */
bool conv_is_junk(const char *name);

/* ------------------------------------------------------ links (links.c) */

/* Called with each link found: the element (or "css") and the raw value. */
typedef void (*pack_link_fn)(void *payload, const char *element, const char *ref);
/* The links of one HTML element (href, src, poster, data, as the element
 * has them); not of its children. */
void pack_links_of_element(const xmlNode *n, pack_link_fn fn, void *payload);
/* The url(…) values of a style sheet. */
void pack_links_of_css(const char *css, pack_link_fn fn, void *payload);

typedef enum pack_link_kind {
	PACK_LINK_NONE,      /* a fragment, mailto:, data: … — no file */
	PACK_LINK_INTERNET,  /* http(s):// or // — absent offline */
	PACK_LINK_INVALID,   /* not a valid address */
	PACK_LINK_OUTSIDE,   /* leaves the pack (/…, ../…) */
	PACK_LINK_FILE,      /* a path inside the pack: *path, malloc'd */
} pack_link_kind;
/* Where `ref`, found in the pack file `from`, leads. */
pack_link_kind pack_link_resolve(char **path, const char *from, const char *ref);

/* ------------------------------------------------------- the pack writer */

/* Sets the pack's id from `prefix`, a slug of `title` and a short hash of
 * `seed` (the package's own identifier when it has one, else the title), so
 * that a new version of the same package gets the same id. */
int conv_set_pack_id(conv *c, const char *prefix, const char *title, const char *seed);

/* Copies archive entry `i` to the same name in the pack. */
int conv_copy_entry(conv *c, size_t i);
/* Copies every entry that is not junk and for which `keep` (may be NULL)
 * says true. */
int conv_copy_all(conv *c, bool (*keep)(void *payload, const char *name), void *payload);
/* Writes a generated file. */
int conv_write_file(conv *c, const char *name, const void *data, size_t len);
/* A file name "DIR/BASE.EXT" (or with -2, -3… before the dot) that neither
 * the package nor the pack uses yet; malloc'd, NULL when out of memory. */
char *conv_new_name(conv *c, const char *dir, const char *base, const char *ext);

/* Starts a unit (written only once a lesson joins it); ends the one open. */
int conv_unit_begin(conv *c, const char *id_hint, const char *title);
void conv_unit_end(conv *c);

/* Adds a lesson whose file `href` is in the pack. A file that is missing is
 * a warning (the lesson is left out); a file that is not HTML gets a small
 * generated page that links to it. `keywords` and `summary` may be NULL.
 * Returns 0, or an error that must stop the conversion. */
int conv_lesson(conv *c, const char *id_hint, const char *href, const char *title,
	const char *keywords, const char *summary);

/* Writes manifest.xml and checks the result: a dry run parses the manifest
 * with kho_manifest_parse(), a real one opens the folder with
 * kho_pack_open(). KHO_EINVALID when the package gave no lesson. */
int conv_finish(conv *c);

/* ------------------------------------------------------------------ XML */

/* Parses entry `name` of the archive as XML: no network, no DTD, no
 * entities (a document declaring one is refused), at most CONV_MAX_DOC
 * bytes. KHO_ENOTFOUND when absent; KHO_EINVALID naming the entry, line and
 * libxml2's reason when not well-formed. */
int conv_xml_read(xmlDoc **out, conv *c, const char *name);
int conv_xml_parse(xmlDoc **out, const char *data, size_t len, const char *name);

/* Element children by local name, whatever their namespace. */
xmlNode *conv_xml_child(const xmlNode *parent, const char *local);
xmlNode *conv_xml_next(const xmlNode *node, const char *local);
/* The first element at "a/b/c" below `node` (local names), or NULL. */
xmlNode *conv_xml_path(const xmlNode *node, const char *path);
/* The first descendant element named `local`, depth first, or NULL. */
xmlNode *conv_xml_find(const xmlNode *node, const char *local);
bool conv_xml_is(const xmlNode *node, const char *local);
/* The node's text with white space collapsed (malloc'd), or NULL when it
 * has none or memory is short. */
char *conv_xml_text(const xmlNode *node);
/* An attribute by local name (malloc'd), or NULL. */
char *conv_xml_attr(const xmlNode *node, const char *name);

/* ----------------------------------------------------------------- HTML */

/* Appends `s` escaped for HTML text or a quoted attribute. */
int conv_html_escape(conv_buf *b, const char *s);
/* The start of a generated lesson page with its <h1>, and its end. */
int conv_html_begin(conv_buf *b, const char *title, const char *lang);
int conv_html_end(conv_buf *b);

/* Rewrites a link found in foreign HTML: returns the URL to keep
 * (malloc'd), or NULL to drop it. */
typedef char *(*conv_link_fn)(void *payload, const char *url, bool image);

/* Appends foreign HTML (a fragment from JSON or XML) rebuilt from a list of
 * harmless elements and attributes: no script, style, iframe, object, svg,
 * event handler or javascript: URL survives; unknown elements keep only
 * their text. Every src and href passes through `link` (may be NULL: then
 * only relative links are kept). */
int conv_html_sanitize(conv_buf *out, const char *html, size_t len, conv_link_fn link,
	void *payload);

/* The title of an HTML page (<title>, else its first heading), malloc'd,
 * or NULL when it has none. */
char *conv_html_title(const char *html, size_t len);
/* The title of the package's HTML file `path`, or NULL. */
char *conv_html_entry_title(conv *c, const char *path);

/* ------------------------------------------------------------ text, paths */

/* A copy of `s` with white space collapsed and trimmed, invalid UTF-8 and
 * control characters dropped; NULL (no error) when nothing is left, or on
 * a shortage of memory (then with the error set). */
char *conv_clean_text(const char *s);
/* Cuts `s` (clean UTF-8) to at most `max` characters, in place. */
void conv_cut_chars(char *s, size_t max);
/* A lower-case ASCII slug of `s` ("Đường tròn" → "duong-tron"), at most
 * `max` bytes; "" when nothing is left. malloc'd. */
char *conv_slug(const char *s, size_t max);
/* Resolves `href` (a URL reference, percent-encoded, maybe with ?query or
 * #fragment) against the folder `base` ("" for the top) to a path inside
 * the package; NULL when it leaves the package, is absolute or has a scheme. */
char *conv_resolve(const char *base, const char *href);
/* The folder part of `path` ("a/b/c.html" → "a/b", "c.html" → ""), malloc'd. */
char *conv_dirname(const char *path);
/* A relative URL from a file in folder `from` to the path `to`. */
char *conv_relative(const char *from, const char *to);
/* True when `name` ends in .html, .htm or .xhtml (any case). */
bool conv_is_html(const char *name);
bool conv_has_ext(const char *name, const char *ext);
/* True when `lang` is a well-formed language tag (xsd:language). */
bool conv_lang_ok(const char *lang);

/* --------------------------------------------------------- the formats */

int conv_scorm(conv *c, kho_convert_format format);
/* Title, summary, keywords and language from IEEE LOM metadata, for the
 * fields not known yet (SCORM, Common Cartridge). */
void conv_lom(conv *c, const xmlNode *lom);
int conv_imscc(conv *c);

/* Links in a Common Cartridge fragment (discussion, quiz): $IMS-CC-FILEBASE$
 * and paths relative to the fragment's XML file (in folder `base`) become
 * links from the generated page in folder `page_dir`, and the files they
 * name are copied; other relative links are dropped. */
typedef struct conv_cc_links {
	conv *c;
	const char *base;
	const char *page_dir;
} conv_cc_links;
char *conv_cc_link(void *payload, const char *url, bool image);

/* Appends an IMS QTI 1.2 quiz (Common Cartridge assessments) as readable
 * HTML; *questions gets the number of questions. KHO_EINVALID when the
 * document is no QTI. */
int conv_qti_page(conv_buf *out, conv_cc_links *links, xmlDoc *doc, size_t *questions);
int conv_epub(conv *c);
/* EPUB's container rules (OCF) beyond core's: mimetype, forbidden
 * characters, names equal after case folding or normalisation. */
int conv_epub_check_ocf(conv *c);
int conv_h5p(conv *c);

/* Detection on an opened archive (convert.c). */
int conv_detect_archive(kho_convert_format *out, kho_archive *ar);

#endif
