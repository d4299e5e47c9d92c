/* test-intent.c — reading the subject and grade a query names. */
#include "kho-test.h"
#include "indexer-private.h"

static void check_intent(const char *text, int grade, const char *subject, int line)
{
	kho_intent in;
	kho_index_query_intent(&in, text);
	bool ok = in.grade == grade && (subject ? in.n_subjects > 0 && !strcmp(in.subjects[0], subject)
		: in.n_subjects == 0);
	if (!ok) {
		fprintf(stderr, "%s:%d: %s: grade %d subject %s\n", __FILE__, line, text, in.grade,
			in.n_subjects ? in.subjects[0] : "(none)");
		kho_test_failures++;
	}
}
#define INTENT(text, grade, subject) check_intent(text, grade, subject, __LINE__)

int main(void)
{
	INTENT("toán 8 phương trình bậc nhất", 8, "toan");
	INTENT("TOAN 5 van toc", 5, "toan");
	INTENT("lich su lop 6 bach dang", 6, "lich-su");
	INTENT("lịch sử và địa lí 6", 6, "lich-su-dia-li");
	INTENT("đạo đức 3 an toàn giao thông", 3, "dao-duc");
	INTENT("khoa học tự nhiên 7 quang hợp", 7, "khtn");
	INTENT("bài tập khoa học lớp 5", 5, "khoa-hoc");
	INTENT("tiếng việt 4 danh từ", 4, "tieng-viet");
	INTENT("lớp 10 python vòng lặp", 10, NULL);
	INTENT("phân số", 0, NULL);
	INTENT("toán 13", 0, "toan");          /* no grade 13 */
	INTENT("12 con giáp", 0, NULL);         /* a number alone is not a grade */
	INTENT("", 0, NULL);
	INTENT(NULL, 0, NULL);
	return kho_test_done();
}
