/*
 * cmd-pack-build.c — `kho pack build DIR -o FILE.kho`: checks a pack folder
 * as `kho import` would, then writes it as a .kho zip file that is the same
 * byte for byte whenever the folder's files are (content-packs/pack-build.c).
 */
#include <stdio.h>

#include "cli.h"
#include "kho_convert.h"

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *out = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_pack_build);
		if (rc >= 0)
			return rc;
		if (opt == 'o')
			out = optarg;
	}
	if (optind + 1 != argc || !out)
		return cli_usage(&cmd_pack_build, "name one pack folder and the output file (-o)");
	const char *dir = argv[optind];
	if (kho_pack_build(out, dir)) {
		char what[1200];
		snprintf(what, sizeof what, "cannot build %s", dir);
		return cli_fail(what);
	}
	printf("built %s from %s\n", out, dir);
	return 0;
}

const kho_command cmd_pack_build = {
	"pack build", run, "write a pack folder as a .kho file",
	"usage: kho pack build DIR -o FILE.kho\n\n"
	"Checks the pack folder DIR (manifest, names, lesson files) and writes it as\n"
	"the zip file FILE.kho. The same folder always gives the same bytes: entries\n"
	"sorted by name, fixed time stamps and modes, deflate level 9, no extra\n"
	"fields; file times on disk do not matter. Names beginning with '.' are left\n"
	"out, as kho import leaves them out. FILE.kho is replaced whole or not at all.\n\n"
	"  -o, --output FILE   the .kho file to write\n",
};
