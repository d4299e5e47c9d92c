/*
 * cmd-push.c — `kho outbox add FILE…`, `kho outbox list` and
 * `kho push --to URL|DIR`: what the box sends back to the centre
 * (sync/outbox.c, docs/sync.md).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kho_sync.h"

static int outbox_run(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_outbox);
		if (rc >= 0)
			return rc;
	}
	if (optind == argc || (strcmp(argv[optind], "add") && strcmp(argv[optind], "list")))
		return cli_usage(&cmd_outbox, "say add FILE… or list");
	bool add = !strcmp(argv[optind], "add");
	if (add && optind + 1 == argc)
		return cli_usage(&cmd_outbox, "name the file(s) to queue");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	if (add) {
		for (int i = optind + 1; i < argc; i++) {
			char *name = NULL;
			if (kho_outbox_add(&name, store, argv[i]))
				status = cli_fail("outbox add");
			else
				printf("queued %s as %s\n", argv[i], name);
			free(name);
		}
	} else {
		size_t n = strlen(kho_store_home(store)) + 8;
		char *dir = malloc(n);
		if (dir)
			snprintf(dir, n, "%s/outbox", kho_store_home(store));
		DIR *d = dir ? opendir(dir) : NULL;
		struct dirent *e;
		size_t count = 0;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.' && strcmp(e->d_name, "sent") && !strstr(e->d_name, ".part")) {
				printf("%s\n", e->d_name);
				count++;
			}
		if (d)
			closedir(d);
		free(dir);
		printf("%zu file%s to send\n", count, count == 1 ? "" : "s");
	}
	kho_store_free(store);
	return status;
}

static int push_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "to", required_argument, NULL, 't' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *to = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_push);
		if (rc >= 0)
			return rc;
		if (opt == 't')
			to = optarg;
	}
	if (!to || !to[0] || optind != argc)
		return cli_usage(&cmd_push, "say where: --to URL or --to FOLDER");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	kho_push_report r;
	int status = 0;
	if (kho_outbox_push(&r, store, to))
		status = cli_fail("push");
	printf("sent %zu file%s (%.1f kB)%s\n", r.sent, r.sent == 1 ? "" : "s",
		(double)r.bytes / 1000.0, r.failed ? "; the others stay queued" : "");
	kho_store_free(store);
	return status;
}

const kho_command cmd_outbox = {
	"outbox", outbox_run, "what the box will send back to the centre",
	"usage: kho outbox add FILE…\n"
	"       kho outbox list\n\n"
	"Queues files (reports, packs made by teachers) for kho push, each named by\n"
	"its content's hash, so that a file queued twice is sent once.\n",
};

const kho_command cmd_push = {
	"push", push_run, "send the outbox to the centre, or to a USB stick",
	"usage: kho push --to URL|FOLDER\n\n"
	"Sends each queued file to URL/BOX_ID/NAME with an HTTP PUT (a WebDAV server or\n"
	"an S3-style store that accepts PUT), or copies it to FOLDER/BOX_ID/NAME (a USB\n"
	"stick to take to the centre). Sent files move to outbox/sent/; one that fails\n"
	"stays queued for the next push. BOX_ID is in $KHO_HOME/box-id.\n",
};
