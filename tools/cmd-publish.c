/*
 * cmd-publish.c — `kho publish --repo DIR -s SECRET PACK…`: adds pack
 * versions to a static repository and signs its catalog (sync/REPOSITORY.md).
 */
#include <sodium.h>
#include <stdio.h>

#include "cli.h"
#include "kho_sync.h"

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "secret", required_argument, NULL, 's' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *repo = NULL, *secret = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:s:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_publish);
		if (rc >= 0)
			return rc;
		if (opt == 'r')
			repo = optarg;
		else if (opt == 's')
			secret = optarg;
	}
	if (!repo || !secret || optind == argc)
		return cli_usage(&cmd_publish, "name the repository, the secret key and the packs");
	kho_secret_key sec;
	if (cli_read_secret_key(&sec, secret))
		return cli_fail("publish");
	kho_publish_report r;
	int rc = kho_repo_publish(&r, repo, &sec, (const char *const *)argv + optind,
		(size_t)(argc - optind));
	sodium_memzero(&sec, sizeof sec);
	if (rc)
		return cli_fail("publish");
	if (!r.versions_added)
		printf("nothing new: %zu version%s already published; catalog serial %lld unchanged\n",
			r.versions_unchanged, r.versions_unchanged == 1 ? "" : "s", (long long)r.serial);
	else
		printf("published %zu version%s (%zu already there): %llu new objects (%.1f kB), "
			"%llu reused; catalog serial %lld\n", r.versions_added,
			r.versions_added == 1 ? "" : "s", r.versions_unchanged,
			(unsigned long long)r.objects_added, (double)r.bytes_added / 1000.0,
			(unsigned long long)r.objects_reused, (long long)r.serial);
	return 0;
}

const kho_command cmd_publish = {
	"publish", run, "add packs to a static repository (for publishers)",
	"usage: kho publish --repo DIR -s SECRET PACK…\n\n"
	"Adds each pack version (.kho file or pack folder) to the repository in DIR\n"
	"(created if missing), storing only files and chunks it does not hold yet,\n"
	"then signs its catalog with the secret key. Publishing the same version\n"
	"again changes nothing; a version already there with other content is\n"
	"refused. The format is in sync/REPOSITORY.md; any web server, S3 bucket or\n"
	"USB stick can serve DIR.\n\n"
	"  --repo DIR          the repository\n"
	"  -s, --secret FILE   the publisher's secret key (one key per repository)\n",
};
