/*
 * cmd-sync.c — `kho sync --from FOLDER|URL [--dry-run]`: installs the newest
 * version of every subscribed pack from a repository (sync/REPOSITORY.md),
 * fetching only what the box lacks (docs/sync.md). Each pack version
 * installs in its own transaction, through the same path as kho import: a
 * sync killed at any moment leaves each pack at its old or its new version,
 * and what was fetched stays for the next run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "kho_sync.h"

/* A progress bar on a terminal. */
static void draw(void *payload, uint64_t done, uint64_t total)
{
	(void)payload;
	int percent = total ? (int)(done * 100 / total) : 100;
	if (percent > 100)
		percent = 100;
	int filled = percent * 30 / 100;
	fprintf(stderr, "\r  [%.*s%*s] %3d%%  %.1f of %.1f kB", filled,
		"##############################", 30 - filled, "", percent, (double)done / 1000.0,
		(double)total / 1000.0);
	fflush(stderr);
}

static void print_plan(const kho_sync_plan *p)
{
	long long days = p->created ? (long long)(time(NULL) - p->created) / 86400 : 0;
	printf("%s: catalog serial %lld from key %s, written %lld day%s ago\n", p->source,
		(long long)p->serial, p->key_id, days, days == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_items; i++) {
		const kho_sync_item *it = &p->items[i];
		if (it->installed)
			printf("  update %s %lld → %lld", it->pack, (long long)it->installed,
				(long long)it->version);
		else
			printf("  install %s %lld", it->pack, (long long)it->version);
		printf(": %zu of %zu files to fetch, %.1f kB to download  (%s)\n", it->files_needed,
			it->files, (double)it->download / 1000.0, it->title);
	}
	if (p->not_offered)
		printf("%zu subscribed pack version%s not offered by this source (left for another)\n",
			p->not_offered, p->not_offered == 1 ? "" : "s");
	printf("%zu pack%s to install or update, %zu up to date; %.1f kB to download, "
		"up to %.1f MB of disk\n", p->n_items, p->n_items == 1 ? "" : "s", p->up_to_date,
		(double)p->download / 1000.0, (double)p->disk / 1e6);
}

/* "250K", "2M", "100000": bytes per second. */
static bool parse_rate(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	double unit = !*end ? 1 : (!strcasecmp(end, "k") ? 1e3 : !strcasecmp(end, "m") ? 1e6 : 0);
	if (end == s || unit == 0 || v <= 0 || v * unit > 1e12)
		return false;
	*out = (uint64_t)(v * unit);
	return *out > 0;
}

/* The next time of day HH:MM (today if still to come, else tomorrow), or
 * @SECONDS, a Unix time, for scripts. */
static bool parse_until(const char *s, int64_t *out)
{
	int h, m;
	char extra;
	if (s[0] == '@') {
		long v;
		if (!cli_parse_int(s + 1, 1, 1L << 40, &v))
			return false;
		*out = v;
		return true;
	}
	if (sscanf(s, "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
		return false;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = 0;
	time_t t = mktime(&tm);
	if (t <= now) {
		tm.tm_mday++;
		t = mktime(&tm);
	}
	*out = (int64_t)t;
	return true;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "max-rate", required_argument, NULL, 'r' },
		{ "until", required_argument, NULL, 'u' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *from = NULL;
	bool dry = false;
	uint64_t rate = 0;
	int64_t until = 0;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:n", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_sync);
		if (rc >= 0)
			return rc;
		if (opt == 'f')
			from = optarg;
		else if (opt == 'n')
			dry = true;
		else if (opt == 'r' && !parse_rate(optarg, &rate))
			return cli_usage(&cmd_sync, "--max-rate takes bytes per second: 250K, 2M, 100000");
		else if (opt == 'u' && !parse_until(optarg, &until))
			return cli_usage(&cmd_sync, "--until takes a time of day: HH:MM");
	}
	if (!from || !from[0] || optind != argc)
		return cli_usage(&cmd_sync, "name the repository: --from FOLDER or --from URL");
	kho_store *store = NULL;
	kho_index *index = NULL;
	if (cli_open(&store, &index))
		return 1;
	kho_sync_plan *plan = NULL;
	int status = 0;
	if (kho_sync_plan_make(&plan, store, from)) {
		status = cli_fail("sync");
		goto done;
	}
	print_plan(plan);
	if (dry)
		goto done;
	plan->max_rate = rate;
	plan->until = until;
	if (cli_interactive())
		plan->progress = draw;
	for (size_t i = 0; i < plan->n_items && !plan->stopped; i++) {
		char *dir = NULL;
		kho_pack *pack = NULL;
		kho_install_info info = { 0 };
		int rc = kho_sync_fetch(&dir, plan, i, store);
		if (plan->progress && plan->fetched)
			fputs("\r\033[K", stderr);
		if (!rc)
			rc = kho_pack_open(&pack, dir);
		/* what the catalog names, and nothing else, installs under its name */
		if (!rc)
			rc = kho_sync_check_pack(plan, i, pack);
		/* the catalog's signature covers the index, which covers every file */
		if (!rc)
			rc = kho_pack_set_signer(pack, plan->key_id);
		if (!rc)
			rc = kho_index_install(&info, index, pack);
		if (rc && plan->stopped)
			printf("stopped at the end of the window (--until): %zu of %zu packs done; the "
				"next sync continues where this one stopped\n", i, plan->n_items);
		else if (rc)
			status = cli_fail("sync");
		else
			printf("%s %s version %lld: %lld lessons\n", info.previous_version ? "updated" :
				"installed", plan->items[i].pack, (long long)plan->items[i].version,
				(long long)info.lessons);
		kho_pack_free(pack);
		free(dir);
	}
	/* only a complete sync forgets what it fetched: a failed one resumes */
	if (!status && plan->stopped)
		status = 3;
	else if (!status && kho_sync_finish(plan, store))
		status = cli_fail("sync");
done:
	kho_sync_plan_free(plan);
	kho_index_free(index);
	kho_store_free(store);
	return status;
}

const kho_command cmd_sync = {
	"sync", run, "pull subscribed packs from a repository, a USB stick or a URL",
	"usage: kho sync --from FOLDER|URL [--dry-run] [--max-rate RATE] [--until HH:MM]\n\n"
	"Checks the repository's signed catalog against the trusted keys (kho trust)\n"
	"and against older catalogs already seen, prints what will change, then\n"
	"fetches only the files this box does not hold and installs the newest\n"
	"version of each subscribed pack (kho subscribe), one pack at a time, each\n"
	"either completely or not at all. An interrupted sync keeps what it fetched\n"
	"and continues from there the next time. One sync runs at a time on a box.\n\n"
	"  --from FOLDER|URL  the repository: a folder (a USB stick) or http(s)://…\n"
	"  --dry-run          only print the plan\n"
	"  --max-rate RATE    at most RATE bytes per second: 250K, 2M (2 Mbit/s is 250K)\n"
	"  --until HH:MM      start no new download after this time of day (the end of the\n"
	"                     night window; @SECONDS for a Unix time); what is done stays\n"
	"                     done\n\n"
	"Exit codes: 0 done, 1 failed (what was fetched is kept for the next run),\n"
	"2 wrong usage, 3 stopped by --until.\n",
};
