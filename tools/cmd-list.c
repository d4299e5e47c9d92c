/*
 * cmd-list.c — `kho list`: the installed packs, their visible version and
 * lesson count.
 */
#include <jansson.h>
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_list);
		if (rc >= 0)
			return rc;
		if (opt == 'j')
			json = true;
	}
	if (optind != argc)
		return cli_usage(&cmd_list, "list takes no arguments");

	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	kho_pack_info *packs = NULL;
	size_t n = 0;
	if (kho_store_list_packs(&packs, &n, store)) {
		kho_store_free(store);
		return cli_fail("cannot list packs");
	}
	int64_t lessons = 0;
	for (size_t i = 0; i < n; i++)
		lessons += packs[i].lessons;
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:s?}",
				"id", packs[i].id, "version", (json_int_t)packs[i].version,
				"title", packs[i].title, "lang", packs[i].lang,
				"lessons", (json_int_t)packs[i].lessons,
				"older_versions", (json_int_t)packs[i].older_versions,
				"installed_at", (json_int_t)packs[i].installed_at,
				"signed_by", packs[i].signed_by));
		json_t *root = json_pack("{s:o, s:I, s:I}", "packs", arr,
			"total_packs", (json_int_t)n, "total_lessons", (json_int_t)lessons);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else if (n == 0) {
		printf("No packs installed. Add some with: kho import PACK…\n");
	} else {
		printf("%-32s %7s %7s  %-16s  %s\n", "PACK", "VERSION", "LESSONS", "SIGNED BY", "TITLE");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %7lld %7lld  %-16s  %s\n", packs[i].id, (long long)packs[i].version,
				(long long)packs[i].lessons, packs[i].signed_by ? packs[i].signed_by :
				"unverified", packs[i].title);
		printf("%zu pack%s, %lld lessons\n", n, n == 1 ? "" : "s", (long long)lessons);
	}
	kho_pack_info_free(packs, n);
	kho_store_free(store);
	return 0;
}

const kho_command cmd_list = {
	"list", run, "show the installed packs",
	"usage: kho list [--json] [--home DIR]\n\n"
	"Shows each installed pack: its id, the version teachers see, its number of\n"
	"lessons, the key whose signature it was installed with ('unverified' for a\n"
	"local pack) and its title.\n\n"
	"  --json   print one JSON object: {\"packs\": [{\"id\", \"version\", \"title\",\n"
	"           \"lang\", \"lessons\", \"older_versions\", \"installed_at\",\n"
	"           \"signed_by\" (a key id, or null: unverified)}…],\n"
	"           \"total_packs\", \"total_lessons\"}\n",
};
