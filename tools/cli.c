/*
 * cli.c — helpers shared by the kho subcommands (see cli.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

const char *cli_home;

int cli_fail(const char *what)
{
	fprintf(stderr, "kho: %s: %s\n", what, kho_error_last());
	return 1;
}

int cli_usage(const kho_command *cmd, const char *problem)
{
	if (problem)
		fprintf(stderr, "kho %s: %s\n\n", cmd->name, problem);
	fputs(cmd->usage, stderr);
	return EXIT_USAGE;
}

int cli_common_option(int opt, const kho_command *cmd)
{
	switch (opt) {
	case CLI_OPT_HOME:
		cli_home = optarg;
		return CLI_HANDLED;
	case CLI_OPT_HELP:
		fputs(cmd->usage, stdout);
		return 0;
	case CLI_OPT_VERBOSE:
		kho_log_set_level(KHO_LOG_INFO);
		return CLI_HANDLED;
	case CLI_OPT_QUIET:
		kho_log_set_level(KHO_LOG_ERROR);
		return CLI_HANDLED;
	case '?':
		return cli_usage(cmd, NULL);
	default:
		return CLI_OTHER;
	}
}

int cli_open(kho_store **store, kho_index **index)
{
	char *home = NULL;
	if (kho_home_resolve(&home, cli_home))
		return cli_fail("cannot find the box's home");
	int rc = kho_store_open(store, home);
	if (rc) {
		char what[1200];
		snprintf(what, sizeof what, "cannot open the store in %s", home);
		free(home);
		return cli_fail(what);
	}
	free(home);
	if (index && kho_index_open(index, *store)) {
		kho_store_free(*store);
		*store = NULL;
		return cli_fail("cannot open the search index");
	}
	return 0;
}

bool cli_interactive(void)
{
	return isatty(STDERR_FILENO) && kho_log_get_level() >= KHO_LOG_WARN;
}

bool cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

json_t *cli_json_text(const char *s)
{
	size_t len = strlen(s);
	if (kho_utf8_valid(s, len))
		return json_string(s);
	char *clean = malloc(3 * len + 1), *o = clean;
	if (!clean)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
			: (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (n && strnlen((const char *)p, n) == n && kho_utf8_valid((const char *)p, n)) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	json_t *j = json_string(clean);
	free(clean);
	return j;
}

char *cli_read_passphrase(const char *prompt)
{
	/* From the terminal without echo; from stdin, one line, when piped. */
	FILE *in = fopen("/dev/tty", "r+");
	bool tty = in && isatty(STDIN_FILENO);
	if (!tty) {
		if (in)
			fclose(in);
		in = stdin;
	}
	struct termios old, quiet;
	if (tty) {
		fprintf(in, "%s", prompt);
		fflush(in);
		tcgetattr(fileno(in), &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(in), TCSAFLUSH, &quiet);
	}
	char buf[1024];
	char *line = fgets(buf, sizeof buf, in);
	if (tty) {
		tcsetattr(fileno(in), TCSAFLUSH, &old);
		fprintf(in, "\n");
		fclose(in);
	}
	if (!line) {
		kho_error_set(KHO_EINVALID, "no passphrase given");
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	char *p = strdup(buf);
	sodium_memzero(buf, sizeof buf);
	if (!p)
		kho_error_set(KHO_ENOMEM, "out of memory");
	return p;
}

void cli_forget(char *secret)
{
	if (secret) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
}

int cli_read_secret_key(kho_secret_key *out, const char *path)
{
	bool encrypted = false;
	int rc = kho_secret_key_encrypted(&encrypted, path);
	char *pass = NULL;
	if (!rc && encrypted && !(pass = cli_read_passphrase("Passphrase of the secret key: ")))
		rc = kho_error_last_code();
	if (!rc)
		rc = kho_secret_key_read(out, path, pass);
	cli_forget(pass);
	return rc;
}
