/*
 * cmd-user.c — `kho user add|list|remove|passwd`: teachers' accounts on the
 * box (core/store-users.c). Passwords are asked on the terminal, or read as
 * one line of standard input.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* A new password, asked twice on a terminal. */
static char *new_password(void)
{
	char *p = cli_read_passphrase("Password (8 characters or more): ");
	if (!p || !isatty(STDIN_FILENO))
		return p;
	char *again = cli_read_passphrase("The same password again: ");
	bool same = again && !strcmp(p, again);
	cli_forget(again);
	if (!same) {
		cli_forget(p);
		kho_error_set(KHO_EINVALID, "the two passwords differ");
		return NULL;
	}
	return p;
}

/* kho user profile NAME: shows the teacher's profile, after changing what
 * the options give. */
static int profile(kho_store *store, const char *name, const char *grades, const char *subjects,
	const char *lang)
{
	kho_user *users = NULL;
	size_t n = 0;
	int rc = kho_store_users(&users, &n, store);
	const kho_user *u = NULL;
	for (size_t i = 0; !rc && i < n && !u; i++)
		if (!strcmp(users[i].name, name))
			u = &users[i];
	if (!rc && !u)
		rc = kho_error_set(KHO_ENOTFOUND, "no user %s", name);
	if (!rc && (grades || subjects || lang))
		rc = kho_store_user_profile(store, u->id, grades, subjects, lang);
	if (!rc)
		printf("%s: grades %s, subjects %s, language %s\n", name,
			grades ? grades : *u->grades ? u->grades : "(none)",
			subjects ? subjects : *u->subjects ? u->subjects : "(none)", lang ? lang : u->lang);
	kho_users_free(users, n);
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "admin", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "grades", required_argument, NULL, 'g' },
		{ "subjects", required_argument, NULL, 's' },
		{ "lang", required_argument, NULL, 'l' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool admin = false, json = false;
	const char *grades = NULL, *subjects = NULL, *lang = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_user);
		if (rc >= 0)
			return rc;
		if (opt == 'a')
			admin = true;
		else if (opt == 'j')
			json = true;
		else if (opt == 'g')
			grades = optarg;
		else if (opt == 's')
			subjects = optarg;
		else if (opt == 'l')
			lang = optarg;
	}
	const char *what = optind < argc ? argv[optind] : "";
	bool list = !strcmp(what, "list");
	if (!list && (argc - optind != 2 || (strcmp(what, "add") && strcmp(what, "remove") &&
	    strcmp(what, "passwd") && strcmp(what, "profile"))))
		return cli_usage(&cmd_user, "say add, remove, passwd or profile NAME, or list");
	const char *name = list ? NULL : argv[optind + 1];
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	if (list) {
		kho_user *users = NULL;
		size_t n = 0;
		if (kho_store_users(&users, &n, store)) {
			status = cli_fail("user list");
		} else if (json) {
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name",
					users[i].name, "role", users[i].admin ? "admin" : "teacher", "grades",
					users[i].grades, "subjects", users[i].subjects, "lang", users[i].lang,
					"created_at", (json_int_t)users[i].created_at));
			json_t *root = json_pack("{s:o}", "users", arr);
			json_dumpf(root, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(root);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s%s\n", users[i].name, users[i].admin ? "  (admin)" : "");
			printf("%zu user%s\n", n, n == 1 ? "" : "s");
		}
		kho_users_free(users, n);
	} else if (!strcmp(what, "profile")) {
		if (profile(store, name, grades, subjects, lang))
			status = cli_fail("user profile");
	} else if (!strcmp(what, "remove")) {
		if (kho_store_user_remove(store, name))
			status = cli_fail("user remove");
		else
			printf("removed %s, with their favourites and sessions\n", name);
	} else {
		char *password = new_password();
		int rc = !password ? kho_error_last_code() : !strcmp(what, "add") ?
			kho_store_user_add(store, name, password, admin) :
			kho_store_user_passwd(store, name, password);
		cli_forget(password);
		if (rc)
			status = cli_fail(!strcmp(what, "add") ? "user add" : "user passwd");
		else if (!strcmp(what, "add"))
			printf("added %s%s\n", name, admin ? " (admin)" : "");
		else
			printf("changed the password of %s (their sessions are ended)\n", name);
	}
	kho_store_free(store);
	return status;
}

const kho_command cmd_user = {
	"user", run, "teachers' accounts on the box",
	"usage: kho user add NAME [--admin]\n"
	"       kho user passwd NAME\n"
	"       kho user remove NAME\n"
	"       kho user profile NAME [--grades \"5 6\"] [--subjects \"toan tin-hoc\"] [--lang vi|en]\n"
	"       kho user list [--json]\n\n"
	"Searching and reading need no account; favourites, collections and the home\n"
	"page need one. A profile (grades and subjects taught) ranks the teacher's\n"
	"lessons first and tells the box what to suggest subscribing to.\n\n"
	"Names are letters, digits, '.', '-' and '_'; passwords (8 characters or more)\n"
	"are asked on the terminal, or read as one line of standard input, and stored\n"
	"as Argon2id hashes.\n",
};
