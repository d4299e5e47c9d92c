/* test-paths.c — home resolution, safe pack paths, UTF-8 validation. */
#include "../../core/core-private.h"
#include "kho-test.h"

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
