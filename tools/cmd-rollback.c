/*
 * cmd-rollback.c — `kho rollback PACK…` and `kho gc`: back to the previous
 * version of a pack, and freeing the disk that old versions use
 * (core/store-gc.c).
 */
#include <stdio.h>

#include "cli.h"

static int rollback_run(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_rollback);
		if (rc >= 0)
			return rc;
	}
	if (optind == argc)
		return cli_usage(&cmd_rollback, "name the pack(s)");
	kho_store *store = NULL;
	kho_index *index = NULL;
	if (cli_open(&store, &index))
		return 1;
	int status = 0;
	for (int i = optind; i < argc; i++) {
		int64_t from, to;
		if (kho_index_rollback(&from, &to, index, argv[i]))
			status = cli_fail("rollback");
		else
			printf("%s: back to version %lld (version %lld forgotten; a sync installs it "
				"again unless you unsubscribe)\n", argv[i], (long long)to, (long long)from);
	}
	kho_index_free(index);
	kho_store_free(store);
	return status;
}

static int gc_run(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_gc);
		if (rc >= 0)
			return rc;
	}
	if (optind != argc)
		return cli_usage(&cmd_gc, "gc takes no arguments");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	kho_gc_info info;
	int status = kho_store_gc(&info, store) ? cli_fail("gc") : 0;
	if (!status)
		printf("removed %zu old version%s and %llu files no version uses: %.1f MB freed\n",
			info.versions_removed, info.versions_removed == 1 ? "" : "s",
			(unsigned long long)info.blobs_removed, (double)info.bytes_freed / 1e6);
	kho_store_free(store);
	return status;
}

const kho_command cmd_rollback = {
	"rollback", rollback_run, "go back to a pack's previous version",
	"usage: kho rollback PACK…\n\n"
	"Makes the previous version of each pack visible again (the box keeps one after\n"
	"each update, until kho gc) and forgets the newer one.\n",
};

const kho_command cmd_gc = {
	"gc", gc_run, "free the disk old pack versions use",
	"usage: kho gc\n\n"
	"Keeps each pack's visible version and the one before it (for kho rollback),\n"
	"removes the older ones, then the files no kept version uses.\n",
};
