/* kho-test.c — shared helpers of the C tests (see kho-test.h). */
#include "kho-test.h"

#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

int kho_test_failures = 0;

static char *tmp_root;

static char *format(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);
	if (!s)
		abort();
	snprintf(s, n, "%s/%s", a, b);
	return s;
}

char *kho_test_tmpdir(const char *name)
{
	if (!tmp_root) {
		const char *base = getenv("TMPDIR");
		char *tmpl = format(base && *base ? base : "/tmp", "kho-test-XXXXXX");
		if (!mkdtemp(tmpl)) {
			perror("mkdtemp");
			abort();
		}
		tmp_root = tmpl;
	}
	char *dir = format(tmp_root, name);
	if (mkdir(dir, 0700) != 0) {
		perror(dir);
		abort();
	}
	return dir;
}

char *kho_test_source(const char *relative)
{
	const char *src = getenv("KHO_SOURCE_ROOT");
	return format(src && *src ? src : ".", relative);
}

char *kho_test_data(const char *relative)
{
	char *data = kho_test_source("tests/data");
	char *path = format(data, relative);
	free(data);
	return path;
}

long long kho_test_scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int kho_test_done(void)
{
	if (kho_test_failures) {
		fprintf(stderr, "%d check(s) failed%s%s\n", kho_test_failures,
			tmp_root ? "; files kept in " : "", tmp_root ? tmp_root : "");
		return 1;
	}
	if (tmp_root)
		nftw(tmp_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
