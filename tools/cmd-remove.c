/*
 * cmd-remove.c — `kho remove PACK…`: takes packs off the box.
 */
#include <stdio.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_remove);
		if (rc >= 0)
			return rc;
	}
	if (optind == argc)
		return cli_usage(&cmd_remove, "name at least one pack to remove");

	kho_store *store = NULL;
	kho_index *index = NULL;
	if (cli_open(&store, &index))
		return 1;
	int status = 0;
	for (int i = optind; i < argc; i++) {
		if (kho_index_remove(index, argv[i])) {
			char what[300];
			snprintf(what, sizeof what, "cannot remove %.200s", argv[i]);
			status = cli_fail(what);
		} else {
			printf("removed %s\n", argv[i]);
		}
	}
	kho_index_free(index);
	kho_store_free(store);
	return status;
}

const kho_command cmd_remove = {
	"remove", run, "take packs off the box",
	"usage: kho remove [--home DIR] PACK…\n\n"
	"Removes each named pack (all its versions) from the box: its lessons leave the\n"
	"search at once. Its files are freed by garbage collection.\n",
};
