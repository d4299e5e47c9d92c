/*
 * kho.c — the kho command: global options, then a git-style subcommand.
 * Each subcommand lives in its own cmd-<name>.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli.h"
#include "usage.h"

static const kho_command *const commands[] = {
	&cmd_import, &cmd_list, &cmd_remove, &cmd_search, &cmd_serve, &cmd_keygen, &cmd_pack,
	&cmd_publish, &cmd_repo, &cmd_trust, &cmd_subscribe, &cmd_unsubscribe,
	&cmd_subscriptions, &cmd_sync, &cmd_rollback, &cmd_gc,
	&cmd_state, &cmd_export, &cmd_outbox, &cmd_push, &cmd_user, &cmd_collection,
	&cmd_backup, &cmd_restore, &cmd_usage,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const kho_command *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void general_help(FILE *f)
{
	fputs("usage: kho [--home DIR] [--verbose | --quiet] COMMAND [ARGS…]\n\n"
		"kho keeps a school's lesson packs and lets teachers search them, with or\n"
		"without Vietnamese accents.\n\ncommands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fputs("  help     show help for a command: kho help COMMAND\n\n"
		"Every command takes --home DIR (default: $KHO_HOME, else $XDG_DATA_HOME/kho,\n"
		"else ~/.local/share/kho). Exit codes: 0 success, 1 failure, 2 wrong usage.\n", f);
}

static int help(int argc, char **argv)
{
	if (argc < 2) {
		general_help(stdout);
		return 0;
	}
	const kho_command *cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "kho: no command '%s'; see 'kho help'\n", argv[1]);
		return EXIT_USAGE;
	}
	fputs(cmd->usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
#if defined(M_ARENA_MAX)
	/* A school box has little memory: the import's second and third
	 * threads allocate little, and an arena of their own would keep several
	 * MiB that the main thread cannot reuse (docs/benchmarks.md). */
	mallopt(M_ARENA_MAX, 1);
#endif
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--home") && i + 1 < argc)
			cli_home = argv[++i];
		else if (!strncmp(a, "--home=", 7))
			cli_home = a + 7;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			kho_log_set_level(KHO_LOG_INFO);
		else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
			kho_log_set_level(KHO_LOG_ERROR);
		else if (!strcmp(a, "--version")) {
			printf("kho %s\n", KHO_VERSION);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			general_help(stdout);
			return 0;
		} else {
			fprintf(stderr, "kho: unknown option '%s'\n\n", a);
			general_help(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		general_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help"))
		return help(argc - i, argv + i);
	const kho_command *cmd = find(argv[i]);
	if (!cmd) {
		fprintf(stderr, "kho: no command '%s'; see 'kho help'\n", argv[i]);
		return EXIT_USAGE;
	}
	if (kho_crypto_init())
		return cli_fail("cannot start");
	return cmd->run(argc - i, argv + i);
}
