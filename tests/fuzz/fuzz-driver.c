/*
 * fuzz-driver.c — replays inputs through a fuzz target without libFuzzer, so
 * that every target also builds with gcc and runs its corpus as an ordinary
 * test: `replay-<name> DIR|FILE…`. Each regular file (a folder's entries in
 * name order, dot-files skipped) goes once through LLVMFuzzerTestOneInput;
 * a crash or a sanitizer report ends the process and fails the test.
 * Exit codes: 0 every input ran, 1 nothing to run or a file that cannot be
 * read (a replay of nothing must not pass), 2 wrong usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-target.h"

/* Inputs larger than this are refused: corpora hold small files. */
#define REPLAY_MAX_SIZE (64u * 1024 * 1024)

static int run_file(const char *path, size_t *ran)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	int rc = 1;
	unsigned char *data = NULL;
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_SIZE) {
		fprintf(stderr, "replay: %s: cannot size it, or larger than %u bytes\n", path,
			REPLAY_MAX_SIZE);
		goto done;
	}
	size_t size = (size_t)st.st_size;
	/* one spare byte so that an empty input still has a non-NULL pointer, and
	 * exactly `size` bytes are visible to ASan as the input */
	data = malloc(size ? size : 1);
	if (!data || fread(data, 1, size, f) != size) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		goto done;
	}
	printf("  %s (%zu bytes)\n", path, size);
	fflush(stdout); /* so that a crash report follows the name of its input */
	LLVMFuzzerTestOneInput(data, size);
	(*ran)++;
	rc = 0;
done:
	free(data);
	fclose(f);
	return rc;
}

static int skip_entry(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int run_dir(const char *dir, size_t *ran)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, skip_entry, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(len);
		struct stat st;
		if (!path) {
			rc = 1;
		} else {
			snprintf(path, len, "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path, ran))
				rc = 1;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR|FILE…\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	size_t ran = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i], &ran);
		} else {
			rc |= run_file(argv[i], &ran);
		}
	}
	printf("replay: %zu input%s ran\n", ran, ran == 1 ? "" : "s");
	if (ran == 0) {
		fprintf(stderr, "replay: no inputs found; an empty replay proves nothing\n");
		return 1;
	}
	return rc;
}
