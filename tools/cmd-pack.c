/*
 * cmd-pack.c — `kho pack SUBCOMMAND`: the authoring commands, each in its own
 * cmd-pack-<name>.c. This file only finds the subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const kho_command *const subcommands[] = {
	&cmd_pack_build, &cmd_pack_convert, &cmd_pack_lint, &cmd_pack_sign, &cmd_pack_verify,
};
#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static int run(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(cmd_pack.usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(subcommands[i]->name + strlen("pack "), argv[1]))
			return subcommands[i]->run(argc - 1, argv + 1);
	fprintf(stderr, "kho pack: no subcommand '%s'\n\n", argv[1]);
	fputs(cmd_pack.usage, stderr);
	return EXIT_USAGE;
}

const kho_command cmd_pack = {
	"pack", run, "make, check, sign and verify packs (for authors)",
	"usage: kho pack SUBCOMMAND [ARGS…]\n\n"
	"  build DIR -o FILE.kho    write a pack folder as a .kho file (deterministic)\n"
	"  convert FILE -o OUT.kho  convert a SCORM, IMS CC, EPUB or H5P package\n"
	"  lint DIR|FILE            errors and warnings before publishing\n"
	"  sign -s SECRET FILE      sign a pack (writes FILE.minisig beside it)\n"
	"  verify -p PUBLIC FILE    check a pack's signature\n\n"
	"See 'kho pack SUBCOMMAND --help' and docs/authoring.md.\n",
};
