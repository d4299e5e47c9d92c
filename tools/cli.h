/*
 * cli.h — what the kho command's files share: the table of subcommands,
 * option parsing conventions, opening the box, and reporting errors as
 * "kho: <what went wrong>: <why>". Exit codes: 0 success, 1 failure,
 * 2 wrong usage.
 */
#ifndef KHO_CLI_H
#define KHO_CLI_H

#include <stdbool.h>
#include <getopt.h>

#include "kho_core.h"
#include "kho_index.h"

#define EXIT_USAGE 2

typedef struct kho_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;  /* one line for `kho help` */
	const char *usage;    /* the full help text of the command */
} kho_command;

extern const kho_command cmd_import, cmd_list, cmd_remove, cmd_search, cmd_serve;
extern const kho_command cmd_keygen, cmd_trust, cmd_pack, cmd_publish, cmd_repo;
extern const kho_command cmd_subscribe, cmd_unsubscribe, cmd_subscriptions, cmd_sync;
extern const kho_command cmd_rollback, cmd_gc, cmd_state, cmd_export, cmd_outbox, cmd_push;
extern const kho_command cmd_user, cmd_backup, cmd_restore, cmd_collection;

/* Queues the exported `pack` of collection `c` in the outbox, in place of
 * the collection's pack queued before (cmd-collection.c); *queued its name. */
int cli_collection_queue(char **queued, kho_store *store, const kho_collection *c,
	const char *pack);
/* kho pack's subcommands (cmd-pack.c finds them; their names start "pack ") */
extern const kho_command cmd_pack_sign, cmd_pack_verify;
extern const kho_command cmd_pack_build, cmd_pack_convert, cmd_pack_lint;

/* The --home given before the command name, or NULL. */
extern const char *cli_home;

/* Options every command accepts, to append to a command's own long options;
 * their ids start at CLI_OPT_HOME. */
enum { CLI_OPT_HOME = 1000, CLI_OPT_HELP, CLI_OPT_VERBOSE, CLI_OPT_QUIET };
#define CLI_COMMON_OPTIONS \
	{ "home", required_argument, NULL, CLI_OPT_HOME }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ "verbose", no_argument, NULL, CLI_OPT_VERBOSE }, \
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET }

/* Handles the options every command shares. Returns CLI_HANDLED when it
 * did, CLI_OTHER when `opt` is the command's own, or an exit code (>= 0)
 * when the command should stop now (after --help: 0; unknown option: 2). */
enum { CLI_HANDLED = -1, CLI_OTHER = -2 };
int cli_common_option(int opt, const kho_command *cmd);

/* Prints "kho: <what>: <last error>" and returns 1. */
int cli_fail(const char *what);

/* Prints the command's usage on stderr and returns EXIT_USAGE. */
int cli_usage(const kho_command *cmd, const char *problem);

/* Opens the store and the index of the home named by --home, $KHO_HOME or
 * the default; prints the error and returns 1 on failure. */
int cli_open(kho_store **store, kho_index **index);

/* True when stderr is a terminal and progress may be drawn. */
bool cli_interactive(void);

/* A JSON string of `s`, with any byte that is not valid UTF-8 replaced by
 * U+FFFD (JSON allows only UTF-8); never NULL unless out of memory. */
struct json_t;
struct json_t *cli_json_text(const char *s);

/* Search results as the API's JSON (search-json.c): {"query", "total",
 * "offset", "limit", "results", "facets", "did_you_mean"}; completions as
 * {"query", "suggestions": [{"title", "pack", "lesson", "url"}]}, at most
 * q->limit of them (all when it is 0). NULL when
 * out of memory. */
struct json_t *cli_search_json(const kho_search_result *r, const kho_search_query *q);
struct json_t *cli_suggest_json(const kho_search_result *r, const kho_search_query *q);

/* A passphrase read from the terminal without echo (after `prompt`), or one
 * line of stdin when it is not a terminal; NULL with the error set. Free it
 * with cli_forget(), which wipes it first. */
char *cli_read_passphrase(const char *prompt);
void cli_forget(char *secret);
/* Reads a secret key file, asking for its passphrase when it is encrypted. */
int cli_read_secret_key(kho_secret_key *out, const char *path);

/* Parses a whole decimal number in [min, max]; false if it is not one. */
bool cli_parse_int(const char *s, long min, long max, long *out);

#endif
