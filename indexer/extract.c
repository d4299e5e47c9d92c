/*
 * extract.c — the plain text of a lesson file, which is what the index and
 * the snippets see. libxml2's HTML parser reads the HTML or XHTML (no
 * network, recovering from any mistake) and reports elements and text as
 * events, without building a tree: lesson files are untrusted and may nest
 * elements hundreds of thousands deep, and one pass keeps extraction cheap.
 * Non-content elements (scripts, styles, navigation, the head) are dropped;
 * every block element becomes its own paragraph, separated by a blank line,
 * and whitespace runs become one space.
 * The result is NFC so that it compares and tokenizes the same whatever the
 * author's editor produced.
 */
#include "indexer-private.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <utf8proc.h>

#define IS_LITTLE_ENDIAN (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* ----------------------------------------------------------- the buffer */

/* The text being built. A sticky `failed` flag makes every later append a
 * no-op after the first allocation failure, so the walk is checked once. */
typedef struct text_buf {
	char *data;
	size_t len, cap;
	bool failed;
	int pending_break; /* 0 none, 1 line break, 2 blank line, before the next text */
	bool pending_space;
	int in_pre;        /* depth of <pre>: newlines inside are kept as line breaks */
} text_buf;

static void buf_reserve(text_buf *b, size_t more)
{
	if (b->failed || b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return;
		}
		cap *= 2;
	}
	char *data = realloc(b->data, cap);
	if (!data) {
		b->failed = true;
		return;
	}
	b->data = data;
	b->cap = cap;
}

static void buf_put(text_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	if (b->failed)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/* Asks for a break before the next text: 1 a new line, 2 a new paragraph. */
static void buf_break(text_buf *b, int kind)
{
	if (b->len > 0 && kind > b->pending_break)
		b->pending_break = kind;
	b->pending_space = false;
}

/* Writes what is pending before a visible character. */
static void buf_flush_pending(text_buf *b)
{
	if (b->len == 0) {
		b->pending_break = 0;
		b->pending_space = false;
		return;
	}
	if (b->pending_break == 2)
		buf_put(b, "\n\n", 2);
	else if (b->pending_break == 1)
		buf_put(b, "\n", 1);
	else if (b->pending_space)
		buf_put(b, " ", 1);
	b->pending_break = 0;
	b->pending_space = false;
}

/* Appends `len` bytes of text, collapsing whitespace. Control characters
 * count as whitespace, which also keeps the snippet markers \x02 and \x03
 * out of the stored text; so does U+00A0 (no-break space). */
static inline bool is_visible(const unsigned char *s, const unsigned char *end)
{
	return *s > 0x20 && *s != 0x7F && !(s[0] == 0xC2 && s + 1 < end && s[1] == 0xA0);
}

static void buf_text(text_buf *b, const unsigned char *s, size_t len)
{
	const unsigned char *end = s + len;
	while (s < end && !b->failed) {
		const unsigned char *run = s;
		for (;;) {
			while (s < end && is_visible(s, end))
				s++;
			/* one plain space between words stays as it is, in the run */
			if (s > run && end - s >= 2 && s[0] == ' ' && is_visible(s + 1, end))
				s++;
			else
				break;
		}
		if (s > run) {
			buf_flush_pending(b);
			buf_put(b, (const char *)run, (size_t)(s - run));
		}
		while (s < end && (*s <= 0x20 || *s == 0x7F
			|| (s[0] == 0xC2 && s + 1 < end && s[1] == 0xA0))) {
			if (*s == '\n' && b->in_pre)
				buf_break(b, 1);
			else if (b->len > 0 && b->pending_break == 0)
				b->pending_space = true;
			s += *s == 0xC2 ? 2 : 1;
		}
	}
}

/* ----------------------------------------------------- element classes */

enum elem_class {
	EL_INLINE = 0, /* text flows through it */
	EL_DROP,       /* it and everything inside are left out */
	EL_BLOCK,      /* its own paragraph */
	EL_LINE,       /* a line break (br) */
	EL_PRE,        /* a block whose newlines are kept */
};

typedef struct elem_rule {
	const char *name;
	enum elem_class cls;
} elem_rule;

/* Sorted by name for bsearch. */
static const elem_rule elem_rules[] = {
	{ "address", EL_BLOCK }, { "article", EL_BLOCK }, { "aside", EL_BLOCK },
	{ "blockquote", EL_BLOCK }, { "body", EL_BLOCK }, { "br", EL_LINE },
	{ "canvas", EL_DROP }, { "caption", EL_BLOCK }, { "center", EL_BLOCK },
	{ "dd", EL_BLOCK }, { "details", EL_BLOCK }, { "dialog", EL_BLOCK },
	{ "dir", EL_BLOCK }, { "div", EL_BLOCK }, { "dl", EL_BLOCK }, { "dt", EL_BLOCK },
	{ "fieldset", EL_BLOCK }, { "figcaption", EL_BLOCK }, { "figure", EL_BLOCK },
	{ "footer", EL_BLOCK }, { "form", EL_BLOCK },
	{ "h1", EL_BLOCK }, { "h2", EL_BLOCK }, { "h3", EL_BLOCK },
	{ "h4", EL_BLOCK }, { "h5", EL_BLOCK }, { "h6", EL_BLOCK },
	{ "head", EL_DROP }, { "header", EL_BLOCK }, { "hgroup", EL_BLOCK },
	{ "hr", EL_BLOCK }, { "html", EL_BLOCK }, { "iframe", EL_DROP },
	{ "legend", EL_BLOCK }, { "li", EL_BLOCK }, { "main", EL_BLOCK },
	{ "menu", EL_BLOCK }, { "nav", EL_DROP }, { "noscript", EL_DROP },
	{ "object", EL_DROP }, { "ol", EL_BLOCK }, { "option", EL_BLOCK },
	{ "p", EL_BLOCK }, { "pre", EL_PRE }, { "script", EL_DROP },
	{ "section", EL_BLOCK }, { "style", EL_DROP }, { "summary", EL_BLOCK },
	{ "table", EL_BLOCK }, { "tbody", EL_BLOCK }, { "td", EL_BLOCK },
	{ "template", EL_DROP }, { "tfoot", EL_BLOCK }, { "th", EL_BLOCK },
	{ "thead", EL_BLOCK }, { "title", EL_DROP }, { "tr", EL_BLOCK },
	{ "ul", EL_BLOCK },
};

static int rule_cmp(const void *key, const void *item)
{
	return strcmp(key, ((const elem_rule *)item)->name);
}

static enum elem_class classify_element(const xmlChar *tag)
{
	if (!tag)
		return EL_INLINE;
	/* XHTML parsed as HTML keeps a prefix such as "svg:script" as the name. */
	const char *name = (const char *)tag;
	const char *colon = strrchr(name, ':');
	if (colon)
		name = colon + 1;
	char lower[16];
	size_t n = strlen(name);
	if (n >= sizeof lower)
		return EL_INLINE;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	const elem_rule *rule = bsearch(lower, elem_rules, sizeof elem_rules / sizeof elem_rules[0],
		sizeof elem_rules[0], rule_cmp);
	return rule ? rule->cls : EL_INLINE;
}

/* ----------------------------------------------------------- SAX events */

/* The parser reports elements and text as events (SAX), so no document tree
 * is built: extraction costs one pass and memory for the text alone, however
 * deep the elements nest. libxml2's HTML parser closes every element it
 * opens, implied ends included, so the events are balanced. */
typedef struct sax_state {
	text_buf *b;
	unsigned long skip; /* > 0 inside a dropped element: its depth there */
} sax_state;

static void on_start(void *ctx, const xmlChar *name, const xmlChar **attrs)
{
	(void)attrs;
	sax_state *st = ((htmlParserCtxtPtr)ctx)->_private;
	if (st->skip) {
		st->skip++;
		return;
	}
	enum elem_class cls = classify_element(name);
	if (cls == EL_DROP)
		st->skip = 1;
	else if (cls == EL_BLOCK || cls == EL_PRE)
		buf_break(st->b, 2);
	else if (cls == EL_LINE)
		buf_break(st->b, 1);
	if (cls == EL_PRE)
		st->b->in_pre++;
}

static void on_end(void *ctx, const xmlChar *name)
{
	sax_state *st = ((htmlParserCtxtPtr)ctx)->_private;
	if (st->skip) {
		st->skip--;
		return;
	}
	enum elem_class cls = classify_element(name);
	if (cls == EL_BLOCK || cls == EL_PRE)
		buf_break(st->b, 2);
	if (cls == EL_PRE && st->b->in_pre > 0)
		st->b->in_pre--;
}

static void on_text(void *ctx, const xmlChar *text, int len)
{
	sax_state *st = ((htmlParserCtxtPtr)ctx)->_private;
	if (!st->skip && len > 0)
		buf_text(st->b, text, (size_t)len);
}

/* Parses `len` bytes of HTML, appending its text to `b`. Returns false when
 * libxml2 met bytes that are not UTF-8: it then reads the rest as Latin-1
 * (libxml2 2.9 to 2.13; later ones put U+FFFD themselves and never switch),
 * so the text is wrong and the caller parses a repaired copy instead. */
static bool parse_html(text_buf *b, const char *html, int len)
{
	const int options = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		HTML_PARSE_RECOVER | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC | XML_PARSE_HUGE;
	htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt(html, len);
	if (!ctxt) {
		b->failed = true;
		return true;
	}
	sax_state st = { b, 0 };
	memset(ctxt->sax, 0, sizeof *ctxt->sax);
	ctxt->sax->startElement = on_start;
	ctxt->sax->endElement = on_end;
	ctxt->sax->characters = on_text;
	ctxt->sax->cdataBlock = on_text;
	ctxt->sax->ignorableWhitespace = on_text;
	ctxt->sax->initialized = 1;
	ctxt->_private = &st;
	htmlCtxtUseOptions(ctxt, options);
	xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
	htmlParseDocument(ctxt);
	bool utf8 = !(ctxt->input && ctxt->input->buf && ctxt->input->buf->encoder);
	if (ctxt->myDoc)
		xmlFreeDoc(ctxt->myDoc);
	htmlFreeParserCtxt(ctxt);
	return utf8;
}

/* ------------------------------------------------------------------ NFC */

/* Normalising a whole lesson to NFC is the slowest step of extraction, and
 * nearly every lesson is NFC already. A text is NFC when each character is
 * NFC on its own, has combining class 0 and never combines with the one
 * before it; this bitmap marks such characters in the first two planes (all
 * of Latin and Vietnamese, punctuation, symbols, Han characters — common in
 * Vietnamese texts — and emoji), so one quick pass over the text decides
 * whether utf8proc has to run at all. */
#define NFC_SAFE_END 0x20000
static uint8_t nfc_safe[NFC_SAFE_END / 8];
static pthread_once_t nfc_safe_once = PTHREAD_ONCE_INIT;

static void build_nfc_safe(void)
{
	for (int32_t cp = 0x80; cp < NFC_SAFE_END; cp++) {
		if ((cp >= 0x1100 && cp < 0x1200) || (cp >= 0xA960 && cp < 0xA980) ||
		    (cp >= 0xD7B0 && cp < 0xE000))
			continue; /* Hangul jamo: vowels and finals join the one before */
		utf8proc_category_t cat = utf8proc_category(cp);
		if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
		    cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CS ||
		    utf8proc_get_property(cp)->combining_class != 0)
			continue;
		int32_t d[8];
		int last = 0;
		utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE, &last);
		if (n < 1 || n > 8)
			continue;
		n = utf8proc_normalize_utf32(d, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
		if (n == 1 && d[0] == cp)
			nfc_safe[cp / 8] |= (uint8_t)(1u << (cp % 8));
	}
}

enum text_form {
	TEXT_NFC,     /* certainly NFC already */
	TEXT_OTHER,   /* valid UTF-8, perhaps not NFC */
	TEXT_INVALID, /* not UTF-8 */
};

/* The first byte at or after `s` that is not ASCII, or `end`: eight bytes
 * at a time, since Vietnamese text has a few ASCII bytes between letters
 * with marks. */
static inline const unsigned char *skip_ascii(const unsigned char *s, const unsigned char *end)
{
	while (end - s >= 8) {
		uint64_t word;
		memcpy(&word, s, 8);
		uint64_t high = word & 0x8080808080808080ull;
		if (high) /* little- or big-endian: the first such byte in memory */
			return s + (IS_LITTLE_ENDIAN ? __builtin_ctzll(high) : __builtin_clzll(high)) / 8;
		s += 8;
	}
	while (s < end && *s < 0x80)
		s++;
	return s;
}

/* What the `len` bytes at `s` are, in one quick pass. */
static enum text_form text_form(const unsigned char *s, size_t len)
{
	pthread_once(&nfc_safe_once, build_nfc_safe);
	const unsigned char *end = s + len;
	while ((s = skip_ascii(s, end)) < end) {
		int32_t cp;
		s += index_utf8_decode(s, end, &cp);
		if (cp < 0)
			return TEXT_INVALID;
		if (cp == 0xFFFD)
			continue; /* what repair_utf8() puts for bad bytes */
		if (cp >= NFC_SAFE_END || !(nfc_safe[cp / 8] & (1u << (cp % 8)))) {
			/* the rest only needs checking */
			while ((s = skip_ascii(s, end)) < end) {
				s += index_utf8_decode(s, end, &cp);
				if (cp < 0)
					return TEXT_INVALID;
			}
			return TEXT_OTHER;
		}
	}
	return TEXT_NFC;
}

static bool is_nfc_safe(int32_t cp)
{
	return cp < 0x80 || cp == 0xFFFD
		|| (cp > 0 && cp < NFC_SAFE_END && (nfc_safe[cp / 8] & (1u << (cp % 8))));
}

/* NFC of `len` bytes of valid UTF-8 that text_form() could not pass. A safe
 * character is a boundary that normalisation never crosses, so only the
 * stretches from the safe character before an unsafe one to the next safe
 * character are normalised; the rest — nearly all of a lesson with a few
 * decomposed letters — is copied as it is. Malloc'd, or NULL (no memory). */
static char *nfc_around(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text, *end = s + len;
	const unsigned char *copied = s, *last_safe = s;
	text_buf out = { 0 };
	while (s < end && !out.failed) {
		int32_t cp;
		size_t n = index_utf8_decode(s, end, &cp);
		if (is_nfc_safe(cp)) {
			last_safe = s;
			s += n;
			continue;
		}
		const unsigned char *t = s + n;
		while (t < end) {
			size_t m = index_utf8_decode(t, end, &cp);
			if (is_nfc_safe(cp))
				break;
			t += m;
		}
		buf_put(&out, (const char *)copied, (size_t)(last_safe - copied));
		char *segment = strndup((const char *)last_safe, (size_t)(t - last_safe));
		char *normal = segment ? (char *)utf8proc_NFC((const utf8proc_uint8_t *)segment) : NULL;
		if (normal)
			buf_put(&out, normal, strlen(normal));
		else
			out.failed = true;
		free(segment);
		free(normal);
		copied = last_safe = s = t;
	}
	buf_put(&out, (const char *)copied, (size_t)(end - copied));
	buf_reserve(&out, 0);
	if (out.failed) {
		free(out.data);
		return NULL;
	}
	out.data[out.len] = '\0';
	return out.data;
}

/* ------------------------------------------------------------ the entry */

/* Copies `html`, replacing each byte that is not part of valid UTF-8 with
 * U+FFFD, so that libxml2 never decides the file is in another encoding.
 * Returns NULL when the input is valid (no copy needed) or on no memory
 * (then *failed). */
static char *repair_utf8(const char *html, size_t len, size_t *out_len, bool *failed)
{
	*failed = false;
	if (kho_utf8_valid(html, len)) /* the caller has refused NUL bytes */
		return NULL;
	if (len > (SIZE_MAX - 1) / 3) {
		*failed = true;
		return NULL;
	}
	char *out = malloc(len * 3 + 1);
	if (!out) {
		*failed = true;
		return NULL;
	}
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)html;
	size_t i = 0;
	while (i < len) {
		int32_t cp = s[i];
		size_t n = s[i] < 0x80 ? 1 : index_utf8_decode(s + i, s + len, &cp);
		if (cp < 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* Whether `len` bytes may hold sequences that libxml2 reads without
 * switching encoding although they are not UTF-8 — surrogates (ED A0..BF)
 * and code points past U+10FFFF (F4 90.., F5..F7): it drops those
 * characters, which would join the words beside them. Every other bad byte
 * makes it switch, which parse_html() reports. One branch-free pass. */
static bool may_hide_bad_bytes(const unsigned char *s, size_t len)
{
	unsigned found = 0;
	for (size_t i = 0; i < len; i++)
		found |= (s[i] == 0xED) | (s[i] >= 0xF4);
	return found != 0;
}

/* The text of `len` bytes of HTML into `b` (empty first), and its form;
 * false when libxml2 found them not to be UTF-8. */
static bool extract_into(text_buf *b, const char *html, size_t len, enum text_form *form)
{
	bool utf8 = len == 0 || parse_html(b, html, (int)len);
	buf_reserve(b, 0);
	if (b->failed)
		return true;
	b->data[b->len] = '\0';
	*form = text_form((const unsigned char *)b->data, b->len);
	return utf8;
}

int kho_index_extract_text(char **out, const char *html, size_t len)
{
	if (!out || (!html && len > 0))
		return kho_error_set(KHO_EINVALID, "no text to extract from");
	if (len > INT_MAX)
		return kho_error_set(KHO_ELIMIT, "lesson file of %zu bytes is too large to index", len);
	if (len > 0 && memchr(html, '\0', len))
		return kho_error_set(KHO_EINVALID,
			"the lesson file holds NUL bytes: it is binary data, not HTML text");

	int rc = KHO_OK;
	text_buf b = { 0 };
	char *fixed = NULL, *nfc = NULL;
	enum text_form form = TEXT_NFC;
	/* Nearly every lesson is UTF-8: it is parsed as it is, and a repaired
	 * copy only when libxml2 or the text it gave says otherwise, or when the
	 * file holds bytes that libxml2 would drop and a full check fails. */
	bool bad = may_hide_bad_bytes((const unsigned char *)html, len) && !kho_utf8_valid(html, len);
	if (bad || !extract_into(&b, html, len, &form) || (!b.failed && form == TEXT_INVALID)) {
		bool failed = false;
		size_t fixed_len = len;
		fixed = repair_utf8(html, len, &fixed_len, &failed);
		if (failed) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory extracting lesson text");
			goto cleanup;
		}
		if (fixed_len > INT_MAX) {
			rc = kho_error_set(KHO_ELIMIT, "lesson file of %zu bytes is too large to index", len);
			goto cleanup;
		}
		free(b.data);
		b = (text_buf){ 0 };
		extract_into(&b, fixed ? fixed : html, fixed_len, &form);
	}
	if (b.failed) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory extracting lesson text");
		goto cleanup;
	}
	if (form == TEXT_INVALID) {
		rc = kho_error_set(KHO_EINVALID, "the lesson's text is not UTF-8 even once repaired");
		goto cleanup;
	}
	if (form == TEXT_NFC) {
		*out = b.data;
		b.data = NULL;
		goto cleanup;
	}
	nfc = nfc_around(b.data, b.len);
	if (!nfc) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory normalising lesson text");
		goto cleanup;
	}
	*out = nfc;
	nfc = NULL;

cleanup:
	free(nfc);
	free(b.data);
	free(fixed);
	return rc;
}
