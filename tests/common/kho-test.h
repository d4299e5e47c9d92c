/*
 * kho-test.h — the few helpers every C test shares: checks that report the
 * line and keep going, a temporary home folder per test, and the exit code
 * convention (0 pass, 1 fail, 77 skip).
 */
#ifndef KHO_TEST_H
#define KHO_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int kho_test_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		kho_test_failures++; \
	} \
} while (0)

/* Checks that a kho call returned `expect`, printing the error message if not. */
#define CHECK_RC(call, expect) do { \
	int rc_ = (call); \
	if (rc_ != (expect)) { \
		fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n", \
			__FILE__, __LINE__, #call, rc_, kho_error_last(), (expect)); \
		kho_test_failures++; \
	} \
} while (0)

#define CHECK_OK(call) CHECK_RC(call, 0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
		fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		kho_test_failures++; \
	} \
} while (0)

/* A fresh empty folder under $TMPDIR for this test (malloc'd); removed by
 * kho_test_cleanup() unless the test failed. */
char *kho_test_tmpdir(const char *name);

/* Path of a file in the source tree's tests/data (malloc'd). */
char *kho_test_data(const char *relative);

/* Path of a file in the source tree (malloc'd). */
char *kho_test_source(const char *relative);

/* The first column of the first row of `sql` on `db`, or -1. */
typedef struct sqlite3 sqlite3;
long long kho_test_scalar(sqlite3 *db, const char *sql);

/* Prints the summary and returns the exit code for main(). */
int kho_test_done(void);

#endif
