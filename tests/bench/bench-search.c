/*
 * bench-search.c — how long kho_index_search() takes on a large home, per
 * query class. Snippets, total count and facets are part of every search,
 * as they are for `kho search`.
 *
 *   bench-search [-r REPEAT] [-p GRADES/SUBJECTS] HOME QUERIES.tsv
 *
 * QUERIES.tsv holds one query a line: CLASS<TAB>TEXT[<TAB>GRADE]. A class
 * whose name begins with "prefix" is searched as still being typed
 * (typing = true, limit 10); the class "complete" is a completion (typing =
 * true, limit 8, as `kho search --suggest`); every other class is a plain
 * search with limit 10. GRADE, when present and not empty, is the grade
 * filter. Each query is run once to warm up, then REPEAT times (default
 * 20); every run is one sample. Prints, per class in the order first seen,
 * the number of queries and samples, p50, p99, mean and max in ms and the
 * mean total of matching lessons, and the mean and max of the warm-up runs
 * (the first search of a query, before the sets of its words are in
 * memory; the very first search also reads the lessons' facets), as a
 * table and as lines
 *   result<TAB>CLASS<TAB>QUERIES<TAB>SAMPLES<TAB>P50<TAB>P99<TAB>MEAN<TAB>MAX<TAB>TOTAL
 * for tests/bench/bench-search.py. With -p (e.g. -p "6 7/toan khtn"), every
 * query also runs as a signed-in teacher of those grades and subjects
 * would search (prefer_grades, prefer_subjects), alternating with the
 * plain run, in a class named CLASS+p: the difference is the cost of
 * personal ranking. With KHO_BENCH_VERBOSE set, each query's
 * median is printed too. Exit 0, 1 when the home or a search fails, 77
 * (skip) without arguments, as `meson test --benchmark` runs it.
 */
#include "kho_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CLASSES 32

typedef struct bench_class {
	char name[64];
	double *ms;      /* every sample */
	size_t n, cap;
	double first_max; /* slowest first run of a query (caches cold for its words) */
	double first_sum;
	size_t queries;
	double total_sum; /* sum of result->total over the queries */
} bench_class;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static bench_class *class_for(bench_class *classes, size_t *n_classes, const char *name)
{
	for (size_t i = 0; i < *n_classes; i++)
		if (strcmp(classes[i].name, name) == 0)
			return &classes[i];
	if (*n_classes == MAX_CLASSES)
		return NULL;
	bench_class *c = &classes[(*n_classes)++];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%.*s", (int)sizeof c->name - 1, name);
	return c;
}

static void add_sample(bench_class *c, double ms)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->ms = realloc(c->ms, c->cap * sizeof *c->ms);
		if (!c->ms)
			abort();
	}
	c->ms[c->n++] = ms;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench-search [-r REPEAT] [-p GRADES/SUBJECTS] HOME QUERIES.tsv\n");
	return 1;
}

int main(int argc, char **argv)
{
	int repeat = 20, arg = 1;
	if (argc == 1) {
		/* `meson test --benchmark` runs it bare: the corpus comes from
		 * bench-search.py, which builds it and then runs this program. */
		fprintf(stderr, "bench-search: skipped: run tests/bench/bench-search.py, "
			"which builds a home and the queries\n");
		return 77;
	}
	char *profile = NULL; /* "GRADES/SUBJECTS" */
	for (;;) {
		if (arg + 1 < argc && strcmp(argv[arg], "-r") == 0)
			repeat = atoi(argv[arg + 1]);
		else if (arg + 1 < argc && strcmp(argv[arg], "-p") == 0 && strchr(argv[arg + 1], '/'))
			profile = argv[arg + 1];
		else
			break;
		arg += 2;
	}
	const char *prefer_subjects = NULL;
	if (profile) {
		prefer_subjects = strchr(profile, '/') + 1;
		*strchr(profile, '/') = '\0';
	}
	if (argc - arg != 2 || repeat < 1)
		return usage();
	const char *home = argv[arg], *path = argv[arg + 1];
	bool verbose = getenv("KHO_BENCH_VERBOSE") != NULL;

	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	kho_store *store = NULL;
	kho_index *index = NULL;
	double t0 = now();
	if (kho_store_open(&store, home)) {
		fprintf(stderr, "bench-search: cannot open the store in %s\n", home);
		return 1;
	}
	if (kho_index_open(&index, store)) {
		fprintf(stderr, "bench-search: cannot open the index in %s\n", home);
		return 1;
	}
	printf("opened %s in %.1f ms; %d runs of each query after one warm-up\n", home,
		(now() - t0) * 1000, repeat);

	static bench_class classes[MAX_CLASSES];
	size_t n_classes = 0;
	char line[8192];
	int status = 0;
	double *runs = malloc((size_t)repeat * sizeof *runs);
	if (!runs)
		abort();
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char *cls = line, *text = strchr(line, '\t');
		if (!text)
			continue;
		*text++ = '\0';
		char *grade = strchr(text, '\t');
		if (grade)
			*grade++ = '\0';
		bench_class *c = class_for(classes, &n_classes, cls), *cp = NULL;
		char name_p[64];
		snprintf(name_p, sizeof name_p, "%.50s+p", cls);
		if (c && profile && !(cp = class_for(classes, &n_classes, name_p)))
			c = NULL;
		if (!c) {
			fprintf(stderr, "bench-search: more than %d classes\n", MAX_CLASSES);
			status = 1;
			break;
		}
		kho_search_query q = {
			.text = text,
			.grade = grade && grade[0] ? grade : NULL,
			.limit = strcmp(cls, "complete") == 0 ? 8 : 10,
			.typing = strncmp(cls, "prefix", 6) == 0 || strcmp(cls, "complete") == 0,
			.hits_only = strcmp(cls, "complete") == 0, /* as kho search --suggest */
		};
		kho_search_query qp = q;
		qp.prefer_grades = profile;
		qp.prefer_subjects = prefer_subjects;
		int64_t total = 0;
		for (int r = -1; r < repeat && !status; r++)
			for (int with = 0; with <= (cp != NULL); with++) {
				bench_class *into = with ? cp : c;
				kho_search_result *res = NULL;
				double start = now();
				int rc = kho_index_search(&res, index, with ? &qp : &q);
				double ms = (now() - start) * 1000;
				if (rc) {
					fprintf(stderr, "bench-search: search failed (%d) for %s: %s\n", rc,
						cls, text);
					status = 1;
					break;
				}
				total = res->total;
				kho_search_result_free(res);
				if (r >= 0) {
					add_sample(into, ms);
					if (!with)
						runs[r] = ms;
				} else {
					into->first_sum += ms;
					into->first_max = ms > into->first_max ? ms : into->first_max;
				}
			}
		if (cp) {
			cp->queries++;
			cp->total_sum += (double)total;
		}
		c->queries++;
		c->total_sum += (double)total;
		if (verbose) {
			qsort(runs, (size_t)repeat, sizeof *runs, cmp_double);
			fprintf(stderr, "%-10s %8.2f ms %8lld  %s%s%s\n", cls, runs[repeat / 2],
				(long long)total, text, q.grade ? "  grade " : "", q.grade ? q.grade : "");
		}
	}
	fclose(f);
	free(runs);

	printf("%-10s %7s %7s %9s %9s %9s %9s %10s %11s %10s\n", "class", "queries", "samples",
		"p50 ms", "p99 ms", "mean ms", "max ms", "matches", "first mean", "first max");
	for (size_t i = 0; i < n_classes; i++) {
		bench_class *c = &classes[i];
		qsort(c->ms, c->n, sizeof *c->ms, cmp_double);
		double sum = 0;
		for (size_t j = 0; j < c->n; j++)
			sum += c->ms[j];
		double p50 = percentile(c->ms, c->n, 50), p99 = percentile(c->ms, c->n, 99);
		double mean = c->n ? sum / (double)c->n : 0, max = c->n ? c->ms[c->n - 1] : 0;
		double matches = c->queries ? c->total_sum / (double)c->queries : 0;
		printf("%-10s %7zu %7zu %9.2f %9.2f %9.2f %9.2f %10.0f %11.2f %10.2f\n", c->name,
			c->queries, c->n, p50, p99, mean, max, matches,
			c->queries ? c->first_sum / (double)c->queries : 0, c->first_max);
		printf("result\t%s\t%zu\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\n", c->name, c->queries,
			c->n, p50, p99, mean, max, matches);
		free(c->ms);
	}
	kho_index_free(index);
	kho_store_free(store);
	return status;
}
