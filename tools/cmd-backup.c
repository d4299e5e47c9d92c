/*
 * cmd-backup.c — `kho backup DIR` and `kho restore DIR`: teachers' data and
 * the box's settings onto a USB stick and back (core/store-backup.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int run_either(int argc, char **argv, const kho_command *cmd, bool restore)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, cmd);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage(cmd, "name the folder");
	const char *dir = argv[optind];
	size_t n = strlen(dir) + 20;
	char *path = malloc(n);
	if (!path)
		return 1;
	snprintf(path, n, "%s/kho-backup.db", dir);
	if (!restore)
		mkdir(dir, 0755);
	kho_store *store = NULL;
	int status = cli_open(&store, NULL);
	if (!status && (restore ? kho_store_restore(store, path) : kho_store_backup(store, path)))
		status = cli_fail(restore ? "restore" : "backup");
	else if (!status)
		printf(restore ? "restored from %s: accounts, favourites, history, collections, "
			"subscriptions, trusted keys and settings (run kho sync to bring the packs back)\n" :
			"wrote %s: accounts, favourites, history, collections, subscriptions, trusted keys "
			"and settings\n", path);
	kho_store_free(store);
	free(path);
	return status;
}

static int backup_run(int argc, char **argv)
{
	return run_either(argc, argv, &cmd_backup, false);
}

static int restore_run(int argc, char **argv)
{
	return run_either(argc, argv, &cmd_restore, true);
}

const kho_command cmd_backup = {
	"backup", backup_run, "save teachers' data and the box's settings to a folder",
	"usage: kho backup DIR\n\n"
	"Writes DIR/kho-backup.db: accounts, favourites, history, collections,\n"
	"subscriptions, trusted keys, the catalogs seen and the box's settings, from one\n"
	"consistent moment (safe while kho serve runs). Lessons are not in it: a sync\n"
	"brings them back.\n",
};

const kho_command cmd_restore = {
	"restore", restore_run, "bring teachers' data back from kho backup",
	"usage: kho restore DIR\n\n"
	"Restores DIR/kho-backup.db onto a new box (one without teachers' accounts),\n"
	"e.g. after an SD card died; then kho sync brings the packs.\n",
};
