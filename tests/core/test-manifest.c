/* test-manifest.c — manifest.xml: the model read from a valid manifest, and
 * clear refusals (with line numbers) for everything hostile or malformed. */
#include "../../core/core-private.h"
#include "kho-test.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define OPEN(id, version) "<pack xmlns=\"urn:kho:pack:1\" id=\"" id "\" version=\"" version "\">\n"
#define LESSON(id, href) "<lesson id=\"" id "\" href=\"" href "\"><title>T</title></lesson>\n"
#define VALID(body) HEAD OPEN("vn.test.a", "1") "<title>P</title>\n" body "</pack>\n"

static int parse(const char *xml, kho_manifest **out)
{
	kho_manifest *m = NULL;
	int rc = kho_manifest_parse(&m, xml, strlen(xml), "manifest.xml");
	if (out)
		*out = m;
	else
		kho_manifest_free(m);
	return rc;
}

/* Expects `xml` to be refused with `code` and a message containing `needle`. */
static void refused(const char *xml, int code, const char *needle, int line)
{
	int rc = parse(xml, NULL);
	if (rc != code || !strstr(kho_error_last(), needle)) {
		fprintf(stderr, "%s:%d: expected %d with \"%s\", got %d: %s\n", __FILE__, line, code,
			needle, rc, kho_error_last());
		kho_test_failures++;
	}
}
#define REFUSED(xml, code, needle) refused(xml, code, needle, __LINE__)

int main(void)
{
	kho_manifest *m = NULL;
	char *path = kho_test_data("packs/mini/manifest.xml");
	FILE *f = fopen(path, "rb");
	char buf[8192];
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	free(path);

	CHECK_OK(parse(buf, &m));
	if (m) {
		CHECK_STR(m->id, "test.mini");
		CHECK(m->version == 1);
		CHECK_STR(m->lang, "vi");
		CHECK_STR(m->title, "Gói thử nhỏ");
		CHECK(m->n_units == 1 && m->n_lessons == 3);
		CHECK_STR(m->lessons[0].id, "duong-tron");
		CHECK_STR(m->lessons[0].keywords, "đường tròn, bán kính, đường kính");
		CHECK(m->lessons[0].unit == 0 && m->lessons[2].unit == -1);
		/* pack grades and subjects are inherited unless a lesson has its own */
		CHECK(m->lessons[0].n_grades == 1 && m->lessons[0].grades[0] == 5);
		CHECK(m->lessons[1].n_grades == 2 && m->lessons[1].grades[0] == 4);
		CHECK(m->lessons[2].n_subjects == 1);
		CHECK_STR(m->lessons[2].subjects[0], "dao-duc");
		CHECK_STR(m->lessons[1].subjects[0], "toan");
		CHECK(m->lessons[1].line == 15);
	}
	kho_manifest_free(m);

	/* whitespace in titles is folded */
	CHECK_OK(parse(HEAD OPEN("vn.test.a", "7") "<title>\n  Toán\n\t 5 </title>"
		LESSON("a", "a.html") "</pack>", &m));
	if (m) {
		CHECK_STR(m->title, "Toán 5");
		CHECK(m->version == 7);
		CHECK_STR(m->lang, "und");
	}
	kho_manifest_free(m);

	/* not XML, not the format */
	REFUSED("", KHO_EINVALID, "empty");
	REFUSED("not xml at all", KHO_EINVALID, "not well-formed");
	REFUSED(HEAD "<pack", KHO_EINVALID, "manifest.xml:2");
	REFUSED(HEAD "<other/>", KHO_EINVALID, "root element");
	REFUSED(HEAD "<pack id=\"vn.test.a\" version=\"1\"/>", KHO_EINVALID, "root element");
	REFUSED(HEAD OPEN("vn.test.a", "1") "<title>P</title></pack>", KHO_EINVALID, "FORMAT.md");
	REFUSED(VALID("<lesson id=\"a\" href=\"a.html\"/>"), KHO_EINVALID, "manifest.xml:");
	REFUSED(VALID(LESSON("a", "a.html") "<bogus/>"), KHO_EINVALID, "manifest.xml:");
	REFUSED(HEAD OPEN("vn.test.a", "1") "<title>  </title>" LESSON("a", "a.html") "</pack>",
		KHO_EINVALID, "title");

	/* versions and ids */
	REFUSED(HEAD OPEN("vn.test.a", "0") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EINVALID, "'0'");
	REFUSED(HEAD OPEN("vn.test.a", "-3") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EINVALID, "'-3'");
	REFUSED(HEAD OPEN("vn.test.a", "99999999999999999999") "<title>P</title>"
		LESSON("a", "a") "</pack>", KHO_EINVALID, "99999999999999999999");
	REFUSED(HEAD OPEN("vn.test.a", "1.5") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EINVALID, "1.5");
	REFUSED(HEAD OPEN("../../etc", "1") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EINVALID, "../../etc");
	REFUSED(HEAD OPEN("vn/test", "1") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EINVALID, "vn/test");
	REFUSED(HEAD OPEN("VN.Test", "1") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EINVALID, "VN.Test");
	REFUSED(VALID(LESSON("a/b", "a.html")), KHO_EINVALID, "a/b");
	REFUSED(VALID(LESSON("..", "a.html") LESSON("x", "b.html")), KHO_EINVALID, "'..'");
	REFUSED(VALID(LESSON("a", "a.html") LESSON("a", "b.html")), KHO_EINVALID,
		"lesson id 'a' is used twice");
	REFUSED(VALID("<unit id=\"u\"><title>U</title>" LESSON("a", "a.html") "</unit>"
		"<unit id=\"u\"><title>U</title>" LESSON("b", "b.html") "</unit>"),
		KHO_EINVALID, "unit id 'u' is used twice");
	REFUSED(VALID("<grade>13</grade>" LESSON("a", "a.html")), KHO_EINVALID, "manifest.xml:");

	/* hrefs must stay inside the pack */
	REFUSED(VALID(LESSON("a", "../outside.html")), KHO_EINVALID, "not a plain relative path");
	REFUSED(VALID(LESSON("a", "/etc/passwd")), KHO_EINVALID, "not a plain relative path");
	REFUSED(VALID(LESSON("a", "lessons/../../x.html")), KHO_EINVALID, "not a plain relative");
	REFUSED(VALID(LESSON("a", "http://example.org/x.html")), KHO_EINVALID, "relative path");
	REFUSED(VALID(LESSON("a", "a\\..\\b.html")), KHO_EINVALID, "relative path");
	REFUSED(VALID(LESSON("a", "a.html#part")), KHO_EINVALID, "relative path");
	REFUSED(VALID(LESSON("a", "manifest.xml")), KHO_EINVALID, "names the manifest");

	/* DTDs, external entities (file and network), entity bombs */
	REFUSED(HEAD "<!DOCTYPE pack [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
		OPEN("vn.test.a", "1") "<title>&x;</title>" LESSON("a", "a") "</pack>",
		KHO_EUNSAFE, "DOCTYPE");
	REFUSED(HEAD "<!DOCTYPE pack [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\">]>\n"
		OPEN("vn.test.a", "1") "<title>&x;</title>" LESSON("a", "a") "</pack>",
		KHO_EUNSAFE, "DOCTYPE");
	REFUSED(HEAD "<!DOCTYPE pack SYSTEM \"http://127.0.0.1:9/pack.dtd\">\n"
		OPEN("vn.test.a", "1") "<title>P</title>" LESSON("a", "a") "</pack>",
		KHO_EUNSAFE, "DOCTYPE");
	REFUSED(HEAD "<!DOCTYPE lolz [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;"
		"&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;"
		"&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">]>\n"
		OPEN("vn.test.a", "1") "<title>&e;&e;&e;&e;&e;&e;&e;</title>" LESSON("a", "a")
		"</pack>", KHO_EUNSAFE, "DOCTYPE");
	/* an undeclared entity is plain malformed XML */
	REFUSED(VALID("<summary>&bogus;</summary>" LESSON("a", "a")), KHO_EINVALID, "bogus");
	/* XInclude is not processed: it is an unknown element to the schema */
	REFUSED(VALID("<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
		"href=\"file:///etc/passwd\"/>" LESSON("a", "a")), KHO_EINVALID, "manifest.xml:");

	/* 200,000-deep nesting */
	{
		size_t depth = 200000;
		kho_buf b = { 0 };
		kho_buf_append(&b, VALID(LESSON("a", "a")), strlen(VALID(LESSON("a", "a"))) - 8);
		for (size_t i = 0; i < depth; i++)
			kho_buf_append(&b, "<x>", 3);
		for (size_t i = 0; i < depth; i++)
			kho_buf_append(&b, "</x>", 4);
		kho_buf_append(&b, "</pack>", 7);
		REFUSED(b.data, KHO_EINVALID, "not well-formed");
		kho_buf_free(&b);
	}

	/* encodings */
	REFUSED(VALID("<summary>\xff\xfe</summary>" LESSON("a", "a")), KHO_EINVALID, "UTF-8");
	{
		static const char utf16[] = "\xff\xfe<\0?\0x\0m\0l\0";
		kho_manifest *m2 = NULL;
		CHECK_RC(kho_manifest_parse(&m2, utf16, sizeof utf16 - 1, "manifest.xml"), KHO_EINVALID);
		CHECK(strstr(kho_error_last(), "UTF-8") != NULL);
	}

	/* absurd size */
	{
		size_t big = KHO_MANIFEST_MAX_SIZE + 1;
		char *huge = malloc(big);
		memset(huge, ' ', big);
		kho_manifest *m3 = NULL;
		CHECK_RC(kho_manifest_parse(&m3, huge, big, "manifest.xml"), KHO_ELIMIT);
		free(huge);
	}

	/* many errors are all counted, the first ones listed with lines */
	{
		kho_buf b = { 0 };
		const char *head = HEAD OPEN("vn.test.a", "1") "<title>P</title>\n";
		kho_buf_append(&b, head, strlen(head));
		for (int i = 0; i < 50; i++) {
			const char *l = LESSON("a", "../x");
			kho_buf_append(&b, l, strlen(l));
		}
		kho_buf_append(&b, "</pack>", 7);
		REFUSED(b.data, KHO_EINVALID, "manifest.xml:4: lesson 'a'");
		CHECK(strstr(kho_error_last(), "…") != NULL);
		kho_buf_free(&b);
	}
	return kho_test_done();
}
