/*
 * cmd-export.c — sneakernet (docs/sync.md): `kho state FILE` writes what a
 * box holds; `kho export --for FILE --from REPO DIR` writes onto a stick
 * exactly what that box lacks (sync/export.c).
 */
#include <stdio.h>

#include "cli.h"
#include "kho_sync.h"

static int state_run(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_state);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage(&cmd_state, "name the file to write");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = kho_sync_state_write(argv[optind], store) ? cli_fail("state") : 0;
	if (!status)
		printf("wrote %s: take it to a machine that reaches the repository, and run\n"
			"  kho export --for %s --from REPOSITORY /media/usb/kho\n", argv[optind],
			argv[optind]);
	kho_store_free(store);
	return status;
}

static int export_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'r' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *state = NULL, *from = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_export);
		if (rc >= 0)
			return rc;
		if (opt == 'f')
			state = optarg;
		else if (opt == 'r')
			from = optarg;
	}
	if (!state || !from || !from[0] || argc - optind != 1 || !argv[optind][0])
		return cli_usage(&cmd_export, "give --for STATE, --from REPOSITORY and the folder");
	kho_export_report r;
	if (kho_sync_export(&r, state, from, argv[optind]))
		return cli_fail("export");
	printf("%s: %zu pack version%s for that box; %llu files written (%.1f kB)\n"
		"On the box: kho sync --from %s\n", argv[optind], r.versions, r.versions == 1 ? "" : "s",
		(unsigned long long)r.files, (double)r.bytes / 1000.0, argv[optind]);
	return 0;
}

const kho_command cmd_state = {
	"state", state_run, "write what this box holds, for kho export",
	"usage: kho state FILE\n\n"
	"Writes the box's packs, subscriptions and the hashes of its files to FILE, so\n"
	"that kho export on a machine that reaches the repository writes onto a USB\n"
	"stick exactly what this box lacks (docs/sync.md).\n",
};

const kho_command cmd_export = {
	"export", export_run, "write onto a USB stick what another box lacks",
	"usage: kho export --for STATE --from REPOSITORY DIR\n\n"
	"Writes into DIR a repository holding what the box that wrote STATE (kho state)\n"
	"lacks for its subscriptions: the signed catalog, the indexes of the versions\n"
	"it needs and the objects of the files it has no copy of. REPOSITORY is a\n"
	"folder or an http(s):// URL. On that box: kho sync --from DIR.\n",
};
