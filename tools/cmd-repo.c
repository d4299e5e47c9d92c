/*
 * cmd-repo.c — `kho repo verify | list | gc`: looking after a static
 * repository (sync/REPOSITORY.md).
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kho_sync.h"
#include "usage.h"

static int verify(const char *repo, const kho_public_key *key)
{
	char **problems = NULL;
	size_t n = 0;
	int rc = kho_repo_verify(&problems, &n, repo, key, key ? 1 : 0);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "kho: repo verify: %s\n", problems[i]);
	kho_repo_problems_free(problems, n);
	if (rc == KHO_ECORRUPT)
		return cli_fail("repo verify");
	if (rc)
		return cli_fail("repo verify");
	printf("%s: every %s and hash verified\n", repo, key ? "signature" : "(unsigned check:"
		" no -p) index");
	return 0;
}

static int list(const char *repo, const kho_public_key *key, bool json)
{
	kho_repo_version *v = NULL;
	size_t n = 0;
	int64_t serial = 0, created = 0;
	if (kho_repo_list(&v, &n, &serial, &created, repo, key, key ? 1 : 0))
		return cli_fail("repo list");
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:I}",
				"pack", v[i].pack, "title", cli_json_text(v[i].title),
				"version", (json_int_t)v[i].version, "files", (json_int_t)v[i].files,
				"bytes", (json_int_t)v[i].bytes, "lessons", (json_int_t)v[i].lessons,
				"published", (json_int_t)v[i].published));
		json_t *root = json_pack("{s:I, s:I, s:b, s:o}", "serial", (json_int_t)serial,
			"created", (json_int_t)created, "verified", key != NULL, "versions", arr);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else {
		long long age = (long long)(time(NULL) - created) / 86400;
		printf("catalog serial %lld, written %lld day%s ago%s\n", (long long)serial, age,
			age == 1 ? "" : "s", key ? ", signature verified" : " (signature not checked: -p)");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %5lld  %4lld lessons %9.1f kB  %s\n", v[i].pack, (long long)v[i].version,
				(long long)v[i].lessons, (double)v[i].bytes / 1000.0, v[i].title);
	}
	kho_repo_versions_free(v, n);
	return 0;
}

/* A bundle of rules: every subject × grade given (each alone when the other
 * is not), with the pattern and language. */
static int bundle(const char *repo, const char *name, const char *secret, const char *title,
	const char *pattern, const char *lang, const char **subjects, size_t n_subjects,
	const char **grades, size_t n_grades, bool remove)
{
	if (!secret)
		return cli_usage(&cmd_repo, "bundle needs -s SECRET (the catalog is re-signed)");
	kho_bundle_rule rules[32 * 32 + 1];
	size_t n = 0;
	for (size_t s = 0; s < (n_subjects ? n_subjects : 1); s++)
		for (size_t g = 0; g < (n_grades ? n_grades : 1); g++)
			rules[n++] = (kho_bundle_rule){ pattern, n_subjects ? subjects[s] : NULL,
				n_grades ? grades[g] : NULL, lang };
	kho_secret_key sec;
	if (cli_read_secret_key(&sec, secret))
		return cli_fail("repo bundle");
	int64_t serial = 0;
	int rc = kho_repo_bundle(&serial, repo, &sec, name, title, remove ? NULL : rules, n);
	sodium_memzero(&sec, sizeof sec);
	if (rc)
		return cli_fail("repo bundle");
	printf("%s bundle %s (%zu rule%s); catalog serial %lld\nSchools follow it with: "
		"kho subscribe @%s\n", remove ? "removed" : "wrote", name, remove ? 0 : n,
		n == 1 ? "" : "s", (long long)serial, name);
	return 0;
}

/* kho repo popular DIR POPULARITY.json -s SECRET */
static int popular(const char *repo, const char *file, const char *secret)
{
	if (!secret)
		return cli_usage(&cmd_repo, "popular needs -s SECRET (the catalog is re-signed)");
	kho_secret_key sec;
	if (cli_read_secret_key(&sec, secret))
		return cli_fail("repo popular");
	int64_t serial = 0;
	size_t n = 0;
	int rc = kho_repo_popular(&serial, &n, repo, &sec, file);
	sodium_memzero(&sec, sizeof sec);
	if (rc)
		return cli_fail("repo popular");
	printf("%zu popular lesson%s in the catalog; catalog serial %lld\n", n, n == 1 ? "" : "s",
		(long long)serial);
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public", required_argument, NULL, 'p' },
		{ "secret", required_argument, NULL, 's' },
		{ "keep", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "title", required_argument, NULL, 'T' },
		{ "pattern", required_argument, NULL, 'P' },
		{ "subject", required_argument, NULL, 'S' },
		{ "grade", required_argument, NULL, 'G' },
		{ "lang", required_argument, NULL, 'L' },
		{ "remove", no_argument, NULL, 'R' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *public = NULL, *secret = NULL, *title = NULL, *pattern = NULL, *lang = NULL;
	const char *subjects[32], *grades[32];
	size_t n_subjects = 0, n_grades = 0;
	long keep = 0;
	bool json = false, remove = false;
	int opt;
	if (argc > 1 && !strcmp(argv[1], "report"))
		return cmd_repo_report.run(argc - 1, argv + 1);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:s:k:j", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_repo);
		if (rc >= 0)
			return rc;
		switch (opt) {
		case 'p': public = optarg; break;
		case 's': secret = optarg; break;
		case 'j': json = true; break;
		case 'T': title = optarg; break;
		case 'P': pattern = optarg; break;
		case 'L': lang = optarg; break;
		case 'R': remove = true; break;
		case 'S':
			if (n_subjects == 32)
				return cli_usage(&cmd_repo, "at most 32 subjects");
			subjects[n_subjects++] = optarg;
			break;
		case 'G':
			if (n_grades == 32)
				return cli_usage(&cmd_repo, "at most 32 grades");
			grades[n_grades++] = optarg;
			break;
		case 'k':
			if (!cli_parse_int(optarg, 1, 1000000, &keep))
				return cli_usage(&cmd_repo, "--keep takes a number of versions, at least 1");
			break;
		default: break;
		}
	}
	if (argc - optind == 3 && !strcmp(argv[optind], "popular"))
		return popular(argv[optind + 1], argv[optind + 2], secret);
	if (argc - optind == 3 && !strcmp(argv[optind], "bundle"))
		return bundle(argv[optind + 1], argv[optind + 2], secret, title, pattern, lang,
			subjects, n_subjects, grades, n_grades, remove);
	if (argc - optind != 2)
		return cli_usage(&cmd_repo, "say verify, list, gc or bundle, and the repository");
	const char *what = argv[optind], *repo = argv[optind + 1];
	kho_public_key key;
	if (public && kho_public_key_read(&key, public))
		return cli_fail("repo");
	if (!strcmp(what, "verify"))
		return verify(repo, public ? &key : NULL);
	if (!strcmp(what, "list"))
		return list(repo, public ? &key : NULL, json);
	if (strcmp(what, "gc"))
		return cli_usage(&cmd_repo, "say verify, list or gc");
	if (!secret || !keep)
		return cli_usage(&cmd_repo, "gc needs --keep N and -s SECRET (the catalog is re-signed)");
	kho_secret_key sec;
	if (cli_read_secret_key(&sec, secret))
		return cli_fail("repo gc");
	kho_gc_report r;
	int rc = kho_repo_gc(&r, repo, &sec, (int)keep);
	sodium_memzero(&sec, sizeof sec);
	if (rc)
		return cli_fail("repo gc");
	printf("dropped %zu old version%s; removed %llu objects and %llu index files (%.1f kB); "
		"catalog serial %lld\n", r.versions_dropped, r.versions_dropped == 1 ? "" : "s",
		(unsigned long long)r.objects_removed, (unsigned long long)r.indexes_removed,
		(double)r.bytes_removed / 1000.0, (long long)r.serial);
	return 0;
}

const kho_command cmd_repo = {
	"repo", run, "check, list and clean a static repository (for publishers)",
	"usage: kho repo verify DIR [-p PUBLIC]\n"
	"       kho repo list DIR [-p PUBLIC] [--json]\n"
	"       kho repo gc DIR --keep N -s SECRET\n"
	"       kho repo bundle DIR NAME [--title T] [--pattern P] [--subject S]…\n"
	"                       [--grade G]… [--lang L] [--remove] -s SECRET\n"
	"       kho repo report DIR REPORTS… [--repo REPO]   (kho repo report --help)\n"
	"       kho repo popular DIR POPULARITY.json -s SECRET\n\n"
	"verify  checks the catalog's signature (with -p), every index against its\n"
	"        hash and every object against its name; names each file that is\n"
	"        missing or altered; exit code 1 if any\n"
	"list    the packs and versions in the catalog, and its age\n"
	"gc      keeps the newest N versions of each pack, re-signs the catalog, and\n"
	"        removes the indexes and objects no kept version uses\n"
	"bundle  names a set of packs the centre recommends (e.g. every pack of grades\n"
	"        6 to 9: --grade 6 … --grade 9), which a box follows with\n"
	"        kho subscribe @NAME; the catalog is re-signed\n"
	"popular puts the most opened lessons of the popularity.json that kho repo\n"
	"        report wrote into the catalog (at most 200, of its packs), re-signed;\n"
	"        boxes show them as popular across schools after their next sync\n",
};
