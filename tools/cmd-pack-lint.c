/*
 * cmd-pack-lint.c — `kho pack lint DIR|FILE…`: errors and warnings about a
 * pack before it is signed and published (content-packs/lint.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kho_convert.h"

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "strict", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool strict = false, json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "Sj", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_pack_lint);
		if (rc >= 0)
			return rc;
		if (opt == 'S')
			strict = true;
		else if (opt == 'j')
			json = true;
	}
	if (optind == argc)
		return cli_usage(&cmd_pack_lint, "name the pack(s)");
	int status = 0;
	json_t *all = json_array();
	for (int a = optind; a < argc; a++) {
		kho_lint_issue *items = NULL;
		size_t n = 0, errors = 0, warnings = 0;
		if (kho_lint(&items, &n, argv[a])) {
			status = cli_fail("pack lint");
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			items[i].error ? errors++ : warnings++;
			if (json)
				json_array_append_new(all, json_pack("{s:o, s:s, s:o, s:o}", "pack",
					cli_json_text(argv[a]), "level", items[i].error ? "error" : "warning",
					"file", cli_json_text(items[i].file), "message",
					cli_json_text(items[i].message)));
			else
				printf("%s: %s: %s: %s\n", argv[a], items[i].file,
					items[i].error ? "error" : "warning", items[i].message);
		}
		if (!json)
			printf("%s: %zu error%s, %zu warning%s\n", argv[a], errors, errors == 1 ? "" : "s",
				warnings, warnings == 1 ? "" : "s");
		if (errors || (strict && warnings))
			status = 1;
		kho_lint_free(items, n);
	}
	if (json) {
		json_t *root = json_pack("{s:o}", "issues", all);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else {
		json_decref(all);
	}
	return status;
}

const kho_command cmd_pack_lint = {
	"pack lint", run, "check packs before publishing",
	"usage: kho pack lint [--strict] [--json] DIR|FILE…\n\n"
	"Reports, per file of the pack, errors (the manifest or container is refused,\n"
	"an empty title, a link or resource to a file the pack lacks or outside it, a\n"
	"file over 1 GiB) and warnings (a file over 10 MB, a file nothing refers to,\n"
	"an image without alt text, text not in Unicode NFC, a resource from the\n"
	"internet).\n\n"
	"Exit codes: 0 no errors (warnings allowed), 1 errors (or warnings with\n"
	"--strict), 2 wrong usage.\n\n"
	"  --strict   warnings count as errors\n"
	"  --json     {\"issues\": [{\"pack\", \"level\", \"file\", \"message\"}]}\n",
};
