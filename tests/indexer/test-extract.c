/*
 * test-extract.c — lesson text extraction: blocks become paragraphs,
 * non-content elements are dropped, entities are decoded, the result is NFC,
 * and hostile files (deep nesting, garbage, bad UTF-8) neither crash nor
 * recurse.
 */
#include "kho-test.h"
#include "indexer-private.h"

#include <stdint.h>
#include <utf8proc.h>

static void check_text(const char *html, const char *expect, int line)
{
	char *text = NULL;
	int rc = kho_index_extract_text(&text, html, strlen(html));
	if (rc != KHO_OK) {
		fprintf(stderr, "%s:%d: extract returned %d (%s)\n", __FILE__, line, rc,
			kho_error_last());
		kho_test_failures++;
		return;
	}
	if (strcmp(text, expect) != 0) {
		fprintf(stderr, "%s:%d: extracted \"%s\", expected \"%s\"\n", __FILE__, line,
			text, expect);
		kho_test_failures++;
	}
	free(text);
}

#define CHECK_TEXT(html, expect) check_text(html, expect, __LINE__)

static void test_blocks(void)
{
	CHECK_TEXT("<h1>Tiêu đề</h1><p>Một <b>hai</b> ba</p><ul><li>x</li><li>y</li></ul>",
		"Tiêu đề\n\nMột hai ba\n\nx\n\ny");
	CHECK_TEXT("<div>a<div>b</div>c</div>", "a\n\nb\n\nc");
	CHECK_TEXT("<p>dòng 1<br>dòng 2<br/>dòng 3</p>", "dòng 1\ndòng 2\ndòng 3");
	CHECK_TEXT("<table><tr><th>A</th><td>1</td></tr><tr><td>2</td></tr></table>",
		"A\n\n1\n\n2");
	CHECK_TEXT("<dl><dt>term</dt><dd>def</dd></dl><blockquote>q</blockquote>",
		"term\n\ndef\n\nq");
	CHECK_TEXT("<figure><img src=x alt=y><figcaption>Hình 1</figcaption></figure>", "Hình 1");
	CHECK_TEXT("<pre>line 1\nline  2\n\nline 3</pre>", "line 1\nline 2\nline 3");
	CHECK_TEXT("<p>b<i>ol</i>d</p>", "bold");
	CHECK_TEXT("<p>x</p><p></p><p>   </p><hr><p>y</p>", "x\n\ny");
}

static void test_whitespace(void)
{
	CHECK_TEXT("<p>  a \t\n  b  </p>\n\n<p>\n c\n</p>", "a b\n\nc");
	CHECK_TEXT("<p>a&nbsp;&nbsp;b</p>", "a b");
	/* Control characters (and with them the snippet markers) never get out. */
	CHECK_TEXT("<p>a\x01\x02\x03" "b</p>", "ab");
	CHECK_TEXT("<p>a\x02 b\x03</p>", "a b");
	CHECK_TEXT("<b>a</b> <i>b</i>", "a b");
	CHECK_TEXT("", "");
	CHECK_TEXT("   ", "");
}

static void test_dropped(void)
{
	CHECK_TEXT("<html><head><title>T</title><style>p{}</style><script>var x;</script></head>"
		"<body><nav>menu</nav><noscript>no js</noscript><template><p>tpl</p></template>"
		"<p>nội dung</p><script>alert('x')</script><style>.a{}</style>"
		"<svg><script>bad()</script><text>nhãn</text></svg></body></html>",
		"nội dung\n\nnhãn");
	CHECK_TEXT("<p>a<!-- comment -->b</p>", "ab");
	CHECK_TEXT("<p>before</p><script>never closed <p>x</p>", "before");
}

static void test_entities(void)
{
	CHECK_TEXT("<p>&amp; &lt; &gt; &quot; &eacute; &#273; &#x1EA1; &hellip;</p>",
		"& < > \" é đ ạ …");
	CHECK_TEXT("<p>&bogus; x</p>", "&bogus; x");
}

static void test_nfc(void)
{
	const char *nfc = "Đường tròn, hoà bình, khuỷu tay";
	char *nfd = (char *)utf8proc_NFD((const utf8proc_uint8_t *)nfc);
	CHECK(nfd && strcmp(nfd, nfc) != 0);
	size_t n = strlen(nfd) + 16;
	char *html = malloc(n);
	snprintf(html, n, "<p>%s</p>", nfd);
	check_text(html, nfc, __LINE__);
	free(html);
	free(nfd);
	/* Text that is NFC already stays as it is (the quick check's path). */
	CHECK_TEXT("<p>漢字 😀 Đường ×÷ “x” Å</p>", "漢字 😀 Đường ×÷ “x” Å");
	/* Characters that compose with the one before are normalised. */
	CHECK_TEXT("<p>\xE1\x84\x80\xE1\x85\xA1</p>", "가"); /* Hangul jamo L + V */
	CHECK_TEXT("<p>漢 e\xCC\x82\xCC\x81</p>", "漢 ế");
	CHECK_TEXT("<p>\xE2\x84\xAB</p>", "Å"); /* U+212B ANGSTROM SIGN → U+00C5 */
}

/* Text that is NFC except here and there is normalised around those places
 * only; the result must equal utf8proc's NFC of the whole text. */
static void test_nfc_pieces(void)
{
	static const char *const pieces[] = {
		"đường", "Nghie\xcc\x82\xcc\x83m", "ba\xcc\x80i", "ho\xcc\x80" "a", "A\xcc\x8a",
		"\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81", "e\xcc\x81\xcc\xa3",
		"\xcc\x81", "CO2", "\xe5\xad\xa6", "\xf0\x9f\x98\x80", "x\xcc\xa3\xcc\x82", "q",
	};
	uint32_t seed = 12345;
	for (int round = 0; round < 200; round++) {
		char text[4096] = "", html[4200];
		for (int i = 0; i < 40; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *piece = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
			if (i)
				strcat(text, (seed >> 8) % 3 ? " " : "");
			strcat(text, piece);
		}
		snprintf(html, sizeof html, "<p>%s</p>", text);
		char *got = NULL;
		CHECK_OK(kho_index_extract_text(&got, html, strlen(html)));
		char *want = (char *)utf8proc_NFC((const utf8proc_uint8_t *)text);
		if (got && want && strcmp(got, want)) {
			fprintf(stderr, "round %d: NFC differs\n got: %s\nwant: %s\n", round, got, want);
			kho_test_failures++;
		}
		free(got);
		free(want);
	}
}

static void test_xhtml(void)
{
	CHECK_TEXT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!DOCTYPE html>\n"
		"<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"vi\">"
		"<head><title>T</title></head>"
		"<body><h1>Phân số</h1><p>Tử số<br/>mẫu số</p>"
		"<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"><svg:script>x()</svg:script></svg:svg>"
		"</body></html>",
		"Phân số\n\nTử số\nmẫu số");
}

static void test_encoding(void)
{
	/* A meta charset does not override UTF-8. */
	CHECK_TEXT("<html><head><meta charset=\"iso-8859-1\"></head><body><p>Đường</p></body></html>",
		"Đường");
	CHECK_TEXT("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">"
		"</head><body><p>học sinh</p></body></html>", "học sinh");
	/* Invalid UTF-8 becomes U+FFFD and the rest stays UTF-8. */
	CHECK_TEXT("<p>a\xFF" "b Đường</p>", "a\xEF\xBF\xBD" "b Đường");
	/* also the sequences libxml2 reads without complaint and drops (a
	 * surrogate, past U+10FFFF): each byte becomes U+FFFD, words stay apart */
	CHECK_TEXT("<p>a\xED\xA0\x80" "b</p>", "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b");
	CHECK_TEXT("<p>a\xF4\x90\x80\x80" "b</p>",
		"a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b");
	CHECK_TEXT("<p>a\xF5\x80\x80\x80" "b</p>",
		"a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b");
	/* Korean (ED as a lead byte, well formed) is text like any other */
	CHECK_TEXT("<p>한국어 \xED\x95\x9C</p>", "한국어 한");
	CHECK_TEXT("<p>\xC3</p><p>học</p>", "\xEF\xBF\xBD\n\nhọc");
	/* NUL bytes: not text. */
	char *out = NULL;
	CHECK_RC(kho_index_extract_text(&out, "<p>a\0b</p>", 10), KHO_EINVALID);
	CHECK(out == NULL);
}

static char *repeat(const char *open, size_t times, const char *middle, const char *close)
{
	size_t lo = strlen(open), lm = strlen(middle), lc = strlen(close);
	char *s = malloc(times * (lo + lc) + lm + 1);
	if (!s)
		abort();
	char *p = s;
	for (size_t i = 0; i < times; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, middle, lm);
	p += lm;
	for (size_t i = 0; i < times; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_deep_nesting(void)
{
	static const struct { const char *open, *close; } shapes[] = {
		{ "<div>", "</div>" }, { "<b>", "</b>" }, { "<span><p>", "" },
		{ "<li>", "" }, { "<table><tr><td>", "" }, { "<pre>", "</pre>" },
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		char *html = repeat(shapes[i].open, 200000, "sâu", shapes[i].close);
		char *text = NULL;
		CHECK_OK(kho_index_extract_text(&text, html, strlen(html)));
		CHECK(text && strcmp(text, "sâu") == 0);
		free(text);
		free(html);
	}
}

/* The same fixed sequence every run. */
static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

static void test_garbage(void)
{
	uint32_t seed = 12345;
	static const char *const pieces[] = {
		"<", ">", "</", "<p>", "<div", "=\"", "\"", "'", "&", "&#", ";", "<!--", "-->",
		"<![CDATA[", "]]>", "<script>", "</script>", "<?xml", "?>", "<!DOCTYPE",
		"đường", "\xC3", "\xFF", " ", "\n", "<svg>", "<math>", "<table>", "<td>",
		"&#x110000;", "&#0;", "&#xD800;",
	};
	size_t n_pieces = sizeof pieces / sizeof pieces[0];
	char *buf = malloc(70000);
	for (int round = 0; round < 200; round++) {
		size_t len = 0;
		size_t target = next_random(&seed) % 65536;
		while (len < target) {
			if (next_random(&seed) % 3 == 0) {
				/* a raw byte, never NUL */
				buf[len++] = (char)(1 + next_random(&seed) % 255);
			} else {
				const char *p = pieces[next_random(&seed) % n_pieces];
				size_t pl = strlen(p);
				memcpy(buf + len, p, pl);
				len += pl;
			}
		}
		char *text = NULL;
		CHECK_OK(kho_index_extract_text(&text, buf, len));
		if (text)
			CHECK(kho_utf8_valid(text, strlen(text)) || text[0] == '\0');
		free(text);
	}
	/* Pure binary, NULs included. */
	for (size_t i = 0; i < 4096; i++)
		buf[i] = (char)(next_random(&seed) & 0xFF);
	buf[100] = '\0';
	char *text = NULL;
	CHECK_RC(kho_index_extract_text(&text, buf, 4096), KHO_EINVALID);
	free(buf);
}

int main(void)
{
	test_blocks();
	test_whitespace();
	test_dropped();
	test_entities();
	test_nfc();
	test_nfc_pieces();
	test_xhtml();
	test_encoding();
	test_deep_nesting();
	test_garbage();
	return kho_test_done();
}
