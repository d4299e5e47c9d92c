/*
 * cmd-subscribe.c — `kho subscribe`, `kho unsubscribe`, `kho subscriptions`:
 * which packs `kho sync` pulls (core/store-sync.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kho_sync.h"

static int subscribe_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "subject", required_argument, NULL, 's' },
		{ "grade", required_argument, NULL, 'g' },
		{ "lang", required_argument, NULL, 'l' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	kho_subscription sub = { .subject = "", .grade = "", .lang = "" };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_subscribe);
		if (rc >= 0)
			return rc;
		if (opt == 's')
			sub.subject = optarg;
		else if (opt == 'g')
			sub.grade = optarg;
		else if (opt == 'l')
			sub.lang = optarg;
	}
	if (optind == argc)
		return cli_usage(&cmd_subscribe, "name at least one pack pattern ('*' for all)");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	for (int i = optind; i < argc; i++) {
		sub.pattern = argv[i];
		int rc = kho_store_subscribe(store, &sub);
		if (rc == KHO_EEXISTS)
			printf("already subscribed to %s\n", argv[i]);
		else if (rc)
			status = cli_fail("subscribe");
		else
			printf("subscribed to %s%s%s%s%s%s%s\n", argv[i], *sub.subject ? ", subject " : "",
				sub.subject, *sub.grade ? ", grade " : "", sub.grade,
				*sub.lang ? ", language " : "", sub.lang);
	}
	kho_store_free(store);
	return status;
}

static int unsubscribe_run(int argc, char **argv)
{
	static const struct option options[] = { CLI_COMMON_OPTIONS, { 0 } };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_unsubscribe);
		if (rc >= 0)
			return rc;
	}
	if (optind == argc)
		return cli_usage(&cmd_unsubscribe, "name the pattern(s)");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	for (int i = optind; i < argc; i++) {
		if (kho_store_unsubscribe(store, argv[i]))
			status = cli_fail("unsubscribe");
		else
			printf("unsubscribed from %s (installed packs stay)\n", argv[i]);
	}
	kho_store_free(store);
	return status;
}

/* kho subscriptions --suggest: what teachers' profiles ask for. */
static int suggest(kho_store *store, bool json)
{
	kho_suggestion *s = NULL;
	size_t n = 0;
	if (kho_sync_suggest(&s, &n, store))
		return cli_fail("subscriptions --suggest");
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:I}", "pack",
				s[i].pack, "title", s[i].title, "subjects", s[i].subjects, "grades",
				s[i].grades, "teachers", (json_int_t)s[i].teachers));
		json_t *root = json_pack("{s:o}", "suggestions", arr);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else if (!n) {
		printf("Nothing to suggest: the packs of the last catalog for the grades and\n"
			"subjects in teachers' profiles are subscribed to already.\n");
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-28s %s  (grades %s; for %zu teacher%s)\n", s[i].pack, s[i].title,
				s[i].grades, s[i].teachers, s[i].teachers == 1 ? "" : "s");
		printf("Subscribe with kho subscribe ID…, or accept them in the app.\n");
	}
	kho_suggestions_free(s, n);
	return 0;
}

static int subscriptions_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "suggest", no_argument, NULL, 's' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false, suggested = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_subscriptions);
		if (rc >= 0)
			return rc;
		if (opt == 'j')
			json = true;
		else if (opt == 's')
			suggested = true;
	}
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	if (suggested) {
		int status = suggest(store, json);
		kho_store_free(store);
		return status;
	}
	kho_subscription *subs = NULL;
	size_t n = 0;
	int status = kho_store_subscriptions(&subs, &n, store) ? cli_fail("subscriptions") : 0;
	if (!status && json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o, s:I}",
				"pattern", cli_json_text(subs[i].pattern), "subject", cli_json_text(subs[i].subject),
				"grade", cli_json_text(subs[i].grade), "lang", cli_json_text(subs[i].lang),
				"added_at", (json_int_t)subs[i].added_at));
		json_t *root = json_pack("{s:o}", "subscriptions", arr);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else if (!status && n == 0) {
		printf("No subscriptions: kho sync installs nothing. Subscribe with, e.g.:\n"
			"  kho subscribe 'vn.kho.*' --grade 5\n");
	} else if (!status) {
		for (size_t i = 0; i < n; i++)
			printf("%s%s%s%s%s%s%s\n", subs[i].pattern, *subs[i].subject ? "  subject " : "",
				subs[i].subject, *subs[i].grade ? "  grade " : "", subs[i].grade,
				*subs[i].lang ? "  language " : "", subs[i].lang);
	}
	kho_subscriptions_free(subs, n);
	kho_store_free(store);
	return status;
}

const kho_command cmd_subscribe = {
	"subscribe", subscribe_run, "choose the packs kho sync pulls",
	"usage: kho subscribe [--subject S] [--grade G] [--lang L] PATTERN…\n"
	"       kho subscribe @BUNDLE\n\n"
	"kho sync installs, and keeps up to date, the newest version of every pack in\n"
	"the repository whose id matches a PATTERN (a shell pattern: 'vn.kho.toan-*',\n"
	"or '*' for all) and, when given, has the subject, grade or language; or that\n"
	"the repository's bundle BUNDLE names (a set the centre recommends).\n",
};

const kho_command cmd_unsubscribe = {
	"unsubscribe", unsubscribe_run, "stop pulling packs",
	"usage: kho unsubscribe PATTERN…\n\n"
	"Removes the subscriptions with these patterns. Installed packs stay; remove\n"
	"them with kho remove.\n",
};

const kho_command cmd_subscriptions = {
	"subscriptions", subscriptions_run, "list what kho sync pulls",
	"usage: kho subscriptions [--json]\n"
	"       kho subscriptions --suggest [--json]\n\n"
	"--suggest lists the packs of the last catalog synced that teachers' profiles\n"
	"(grades and subjects taught) ask for and that no subscription pulls yet.\n",
};
