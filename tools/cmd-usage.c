/*
 * cmd-usage.c — `kho usage`: what the box counted for the centre and not yet
 * reported, turning reporting on and off, the k rule, and `kho usage report`,
 * which puts the report of every complete day into the outbox (kho push
 * sends it) and deletes those days' figures (docs/privacy.md).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kho_sync.h"
#include "usage.h"

#define SHOWN 10 /* lessons and queries `kho usage` lists */

static int show(kho_store *store, bool json)
{
	kho_usage_settings set;
	kho_usage *u = NULL;
	if (kho_store_usage_settings(&set, store) || kho_store_usage(&u, store, NULL, set.k))
		return cli_fail("usage");
	if (json) {
		json_t *root = json_pack("{s:b, s:i, s:o*}", "on", set.on, "k", set.k, "unreported",
			usage_report_json(u, "0000000000000000"));
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
		kho_usage_free(u);
		return 0;
	}
	printf("reporting %s; a query is reported when at least %d askers made it on a day\n",
		set.on ? "on" : "off (nothing is recorded)", set.k);
	if (!u->n_days)
		printf("nothing recorded since the last report\n");
	else
		printf("not yet reported: %s to %s\n", u->from, u->to);
	for (size_t i = 0; i < u->n_days; i++)
		printf("  %s  %6lld searches %6lld opens %5lld askers\n", u->days[i].day,
			(long long)u->days[i].searches, (long long)u->days[i].opens,
			(long long)u->days[i].askers);
	if (u->n_lessons)
		printf("most opened lessons:\n");
	for (size_t i = 0; i < u->n_lessons && i < SHOWN; i++)
		printf("  %6lld opens %4lld favourites  %s/%s\n", (long long)u->lessons[i].opens,
			(long long)u->lessons[i].favourites, u->lessons[i].pack, u->lessons[i].lesson);
	if (u->n_queries)
		printf("queries (those reported):\n");
	for (size_t i = 0; i < u->n_queries && i < SHOWN; i++)
		printf("  %6lld searches %5lld found nothing %5lld no lesson opened  %s\n",
			(long long)u->queries[i].searches, (long long)u->queries[i].found_nothing,
			(long long)u->queries[i].no_open, u->queries[i].query);
	kho_usage_free(u);
	return 0;
}

/* Writes `text` to `path` whole (a temporary name, then renamed). */
static int write_file(const char *path, const char *text)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	if (!tmp)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.part", path);
	FILE *f = fopen(tmp, "w");
	int rc = KHO_OK;
	if (!f || fputs(text, f) == EOF || fflush(f) || fsync(fileno(f)))
		rc = kho_error_set(KHO_EIO, "cannot write %s", tmp);
	if (f && fclose(f) && !rc)
		rc = kho_error_set(KHO_EIO, "cannot write %s", tmp);
	if (!rc && rename(tmp, path))
		rc = kho_error_set(KHO_EIO, "cannot rename %s", tmp);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* The report of every complete day not yet reported: into the outbox, or
 * into `file`, or on stdout (`dry`: nothing is forgotten). */
static int report(kho_store *store, const char *file, bool dry)
{
	kho_usage_settings set;
	if (kho_store_usage_settings(&set, store))
		return cli_fail("usage report");
	if (!set.on) {
		printf("reporting is off: no report\n");
		return 0;
	}
	char today[11], yesterday[11];
	kho_usage_day_of(today, (int64_t)time(NULL));
	kho_usage *u = NULL;
	/* every day before today: the last "complete" one is yesterday */
	kho_usage_day_of(yesterday, (int64_t)time(NULL) - 86400);
	if (!strcmp(yesterday, today)) /* a clock change: the day had 25 hours */
		kho_usage_day_of(yesterday, (int64_t)time(NULL) - 2 * 86400);
	char box[17];
	if (kho_store_usage(&u, store, yesterday, set.k) || kho_box_id(box, store))
		return kho_usage_free(u), cli_fail("usage report");
	if (!u->n_days) {
		kho_usage_free(u);
		printf("no complete day to report\n");
		return 0;
	}
	json_t *root = usage_report_json(u, box);
	char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
	json_decref(root);
	int status = 0;
	if (!text) {
		status = cli_fail("usage report");
	} else if (dry) {
		printf("%s\n", text);
	} else {
		char *path = file ? strdup(file) : kho_path_join(kho_store_home(store),
			"usage-report.json");
		char *name = NULL;
		int rc = path ? write_file(path, text) : kho_error_set(KHO_ENOMEM, "out of memory");
		if (!rc && !file) {
			rc = kho_outbox_add(&name, store, path);
			unlink(path);
		}
		if (!rc)
			rc = kho_store_usage_forget(store, u->to);
		if (rc)
			status = cli_fail("usage report");
		else if (file)
			printf("wrote the report of %s to %s to %s\n", u->from, u->to, file);
		else
			printf("queued the report of %s to %s as %s (kho push sends it)\n", u->from, u->to,
				name);
		free(name);
		free(path);
	}
	free(text);
	kho_usage_free(u);
	return status;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "outbox", no_argument, NULL, 'O' },
		{ "output", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false, dry = false;
	const char *file = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jo:n", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_usage);
		if (rc >= 0)
			return rc;
		switch (opt) {
		case 'j': json = true; break;
		case 'o': file = optarg; break;
		case 'n': dry = true; break;
		default: break;
		}
	}
	const char *what = optind < argc ? argv[optind] : "show";
	int left = argc - optind - (optind < argc);
	long k = 0;
	if ((!strcmp(what, "k") && (left != 1 || !cli_parse_int(argv[optind + 1], 1,
		KHO_USAGE_K_MAX, &k))))
		return cli_usage(&cmd_usage, "k takes a number of askers from 1 to 1000");
	if (strcmp(what, "k") && left)
		return cli_usage(&cmd_usage, "too many arguments");
	if (strcmp(what, "show") && strcmp(what, "on") && strcmp(what, "off") &&
	    strcmp(what, "k") && strcmp(what, "report"))
		return cli_usage(&cmd_usage, "say on, off, k N or report");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	if (!strcmp(what, "show"))
		status = show(store, json);
	else if (!strcmp(what, "report"))
		status = report(store, file, dry);
	else if (!strcmp(what, "k")) {
		if (kho_store_usage_set_k(store, (int)k))
			status = cli_fail("usage k");
		else
			printf("a query is now reported when at least %ld askers made it on a day\n", k);
	} else {
		bool on = !strcmp(what, "on");
		if (kho_store_usage_enable(store, on))
			status = cli_fail("usage");
		else
			printf(on ? "reporting on: searches and opens are counted for the centre\n" :
				"reporting off: nothing is counted, and what was not yet reported is "
				"deleted\n");
	}
	kho_store_free(store);
	return status;
}

const kho_command cmd_usage = {
	"usage", run, "what teachers used and searched for, reported to the centre",
	"usage: kho usage [--json]\n"
	"       kho usage on | off\n"
	"       kho usage k N\n"
	"       kho usage report [--outbox | -o FILE | --dry-run]\n\n"
	"The box counts, per day, lesson opens and favourites, and searches: those that\n"
	"found nothing and those after which no lesson was opened. No names and no\n"
	"addresses are kept or sent (docs/privacy.md).\n\n"
	"(none)  the figures not yet reported, as a report would carry them\n"
	"on/off  turn counting and reporting on or off (off deletes what was counted)\n"
	"k N     report a query only when at least N askers made it on a day (default 3)\n"
	"report  the report of every complete day not yet reported, queued in the outbox\n"
	"        for kho push (or written to FILE); those days' figures are then deleted.\n"
	"        --dry-run prints it and deletes nothing\n",
};
