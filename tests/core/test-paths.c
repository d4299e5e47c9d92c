/* test-paths.c — home resolution, safe pack paths, UTF-8 validation. */
#include "../../core/core-private.h"
#include "kho-test.h"

/* UTF-8 by its definition, for comparing: the code point that `n` bytes
 * spell, shortest form only, no surrogates, at most U+10FFFF. */
static bool reference_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], more = c < 0x80 ? 0 : c >= 0xF0 && c < 0xF8 ? 3 :
			c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xC0 && c < 0xE0 ? 1 : 9;
		if (c == 0 || more == 9 || i + more >= n)
			return false;
		uint32_t cp = more ? c & (0x3Fu >> more) : c;
		for (unsigned k = 1; k <= more; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		static const uint32_t least[4] = { 0, 0x80, 0x800, 0x10000 };
		if (cp < least[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += more + 1;
	}
	return true;
}

int main(void)
{
	CHECK(kho_path_is_safe("lessons/bai-1.html"));
	CHECK(kho_path_is_safe("ảnh/hình 1.svg"));
	CHECK(!kho_path_is_safe(""));
	CHECK(!kho_path_is_safe("/etc/passwd"));
	CHECK(!kho_path_is_safe("../x"));
	CHECK(!kho_path_is_safe("a/../../x"));
	CHECK(!kho_path_is_safe("a/./x"));
	CHECK(!kho_path_is_safe("a//x"));
	CHECK(!kho_path_is_safe("a\\..\\x"));
	CHECK(!kho_path_is_safe("C:/x"));
	CHECK(!kho_path_is_safe("a\nb"));
	CHECK(!kho_path_is_safe("\xff.html"));
	CHECK(!kho_path_is_safe(".."));

	CHECK(kho_utf8_valid("đường", strlen("đường")));
	CHECK(!kho_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
	CHECK(!kho_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	CHECK(!kho_utf8_valid("\xf4\x90\x80\x80", 4));  /* beyond U+10FFFF */
	CHECK(!kho_utf8_valid("ab\0c", 4));
	CHECK(!kho_utf8_valid("\xe1\xba", 2));          /* truncated */
	CHECK(!kho_utf8_valid("abcdefgh\0abcdefgh", 17)); /* NUL inside an ASCII run */
	/* every lead byte with every second byte and a choice of third and
	 * fourth bytes, alone and after ASCII, against the definition */
	static const unsigned char tails[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF };
	int disagree = 0;
	for (unsigned lead = 0; lead < 256; lead++)
		for (unsigned b1 = 0; b1 < 256; b1++)
			for (size_t t2 = 0; t2 < sizeof tails; t2++)
				for (size_t t3 = 1; t3 < sizeof tails; t3 += 3) {
					unsigned char buf[12] = "abcdefgh";
					unsigned char *q = buf + 8;
					q[0] = (unsigned char)lead;
					q[1] = (unsigned char)b1;
					q[2] = tails[t2];
					q[3] = tails[t3];
					for (size_t n = 1; n <= 4; n++) {
						if (kho_utf8_valid((const char *)q, n) != reference_valid(q, n))
							disagree++;
						if (kho_utf8_valid((const char *)buf, 8 + n) != reference_valid(buf, 8 + n))
							disagree++;
					}
				}
	CHECK(disagree == 0);

	/* space-separated lists: empty words and words too long are skipped */
	const char *list = "  5 toan  tin-hoc-verylongcode 6 ", *p = list;
	char word[8];
	CHECK(kho_next_word(&p, word, sizeof word));
	CHECK_STR(word, "5");
	CHECK(kho_next_word(&p, word, sizeof word));
	CHECK_STR(word, "toan");
	CHECK(kho_next_word(&p, word, sizeof word));
	CHECK_STR(word, "6");
	CHECK(!kho_next_word(&p, word, sizeof word));
	const char *none = NULL;
	CHECK(!kho_next_word(&none, word, sizeof word));

	char *home = NULL;
	CHECK_OK(kho_home_resolve(&home, "/flag"));
	CHECK_STR(home, "/flag");
	free(home);
	setenv("KHO_HOME", "/env", 1);
	CHECK_OK(kho_home_resolve(&home, NULL));
	CHECK_STR(home, "/env");
	free(home);
	unsetenv("KHO_HOME");
	setenv("XDG_DATA_HOME", "/xdg", 1);
	CHECK_OK(kho_home_resolve(&home, NULL));
	CHECK_STR(home, "/xdg/kho");
	free(home);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/t", 1);
	CHECK_OK(kho_home_resolve(&home, NULL));
	CHECK_STR(home, "/home/t/.local/share/kho");
	free(home);
	unsetenv("HOME");
	CHECK_RC(kho_home_resolve(&home, NULL), KHO_EINVALID);

	CHECK_RC(kho_mkdir_p("", 0755), KHO_EINVALID);
	char shown[32];
	kho_printable(shown, sizeof shown, "a\x1b[31m\xff");
	CHECK_STR(shown, "a\\x1b[31m\\xff");
	kho_printable(shown, sizeof shown, "bài\n");
	CHECK_STR(shown, "bài\\x0a");

	CHECK_STR(kho_error_name(KHO_ENOTFOUND), "not found");
	CHECK(KHO_EUNSAFE == -11 && KHO_ELIMIT == -12);
	CHECK_RC(kho_error_set(KHO_EIO, "disk %d", 7), KHO_EIO);
	CHECK_STR(kho_error_last(), "disk 7");
	return kho_test_done();
}
