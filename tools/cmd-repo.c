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

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public", required_argument, NULL, 'p' },
		{ "secret", required_argument, NULL, 's' },
		{ "keep", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *public = NULL, *secret = NULL;
	long keep = 0;
	bool json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:s:k:j", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_repo);
		if (rc >= 0)
			return rc;
		switch (opt) {
		case 'p': public = optarg; break;
		case 's': secret = optarg; break;
		case 'j': json = true; break;
		case 'k':
			if (!cli_parse_int(optarg, 1, 1000000, &keep))
				return cli_usage(&cmd_repo, "--keep takes a number of versions, at least 1");
			break;
		default: break;
		}
	}
	if (argc - optind != 2)
		return cli_usage(&cmd_repo, "say verify, list or gc, and the repository");
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
	printf("dropped %zu old version%s; removed %llu objects (%.1f kB); catalog serial %lld\n",
		r.versions_dropped, r.versions_dropped == 1 ? "" : "s",
		(unsigned long long)r.objects_removed, (double)r.bytes_removed / 1000.0,
		(long long)r.serial);
	return 0;
}

const kho_command cmd_repo = {
	"repo", run, "check, list and clean a static repository (for publishers)",
	"usage: kho repo verify DIR [-p PUBLIC]\n"
	"       kho repo list DIR [-p PUBLIC] [--json]\n"
	"       kho repo gc DIR --keep N -s SECRET\n\n"
	"verify  checks the catalog's signature (with -p), every index against its\n"
	"        hash and every object against its name; names each file that is\n"
	"        missing or altered; exit code 1 if any\n"
	"list    the packs and versions in the catalog, and its age\n"
	"gc      keeps the newest N versions of each pack, re-signs the catalog, and\n"
	"        removes the indexes and objects no kept version uses\n",
};
