/*
 * cmd-pack-sign.c — `kho pack sign` and `kho pack verify`: a pack's
 * signature is minisign's detached signature file FILE.minisig beside it
 * (core/sign.c), so `minisign -Sm FILE` signs a pack too, and `minisign -Vm
 * FILE` checks what kho signed.
 */
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* FILE.minisig, or `given` (malloc'd). */
static char *sig_path(const char *file, const char *given)
{
	if (given)
		return strdup(given);
	size_t n = strlen(file) + 9;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.minisig", file);
	return p;
}

static int sign_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "secret", required_argument, NULL, 's' },
		{ "comment", required_argument, NULL, 't' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *secret = NULL, *comment = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:t:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_pack_sign);
		if (rc >= 0)
			return rc;
		if (opt == 's')
			secret = optarg;
		else if (opt == 't')
			comment = optarg;
	}
	if (!secret || optind == argc)
		return cli_usage(&cmd_pack_sign, "name the secret key and at least one pack");
	kho_secret_key sec;
	if (cli_read_secret_key(&sec, secret))
		return cli_fail("pack sign");
	int status = 0;
	for (int i = optind; i < argc && !status; i++) {
		/* minisign's trusted comment, so that both tools show the same */
		char tc[1100], *copy = strdup(argv[i]);
		if (comment)
			snprintf(tc, sizeof tc, "%s", comment);
		else
			snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s\thashed", (long long)time(NULL),
				copy ? basename(copy) : argv[i]);
		free(copy);
		char *sig = sig_path(argv[i], NULL);
		if (!sig || kho_sign_file(argv[i], sig, &sec, tc))
			status = cli_fail("pack sign");
		else
			printf("signed %s: %s\n", argv[i], sig);
		free(sig);
	}
	sodium_memzero(&sec, sizeof sec);
	return status;
}

static int verify_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public", required_argument, NULL, 'p' },
		{ "signature", required_argument, NULL, 'x' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *public = NULL, *signature = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:x:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_pack_verify);
		if (rc >= 0)
			return rc;
		if (opt == 'p')
			public = optarg;
		else if (opt == 'x')
			signature = optarg;
	}
	if (!public || optind == argc || (signature && argc - optind > 1))
		return cli_usage(&cmd_pack_verify, "name the public key and the pack(s)");
	kho_public_key key;
	if (kho_public_key_read(&key, public))
		return cli_fail("pack verify");
	int status = 0;
	for (int i = optind; i < argc; i++) {
		char *sig = sig_path(argv[i], signature), *tc = NULL;
		if (!sig || kho_verify_file(NULL, &tc, argv[i], sig, &key, 1)) {
			status = cli_fail("pack verify");
		} else {
			char id[KHO_KEY_ID_HEX_SIZE];
			kho_key_id_hex(id, key.id);
			printf("%s: signature verified (key %s)\ntrusted comment: %s\n", argv[i], id, tc);
		}
		free(tc);
		free(sig);
	}
	return status;
}

const kho_command cmd_pack_sign = {
	"pack sign", sign_run, "sign packs",
	"usage: kho pack sign -s SECRET [-t COMMENT] FILE…\n\n"
	"Signs each FILE (a .kho pack) with the secret key, writing FILE.minisig beside\n"
	"it in minisign's format. An encrypted key's passphrase is asked on the\n"
	"terminal, or read as one line from standard input.\n\n"
	"  -s, --secret FILE    the secret key (kho keygen, or minisign -G)\n"
	"  -t, --comment TEXT   the signed comment (default: timestamp and file name)\n",
};

const kho_command cmd_pack_verify = {
	"pack verify", verify_run, "check packs' signatures",
	"usage: kho pack verify -p PUBLIC [-x SIGNATURE] FILE…\n\n"
	"Checks that FILE.minisig (or SIGNATURE) is a valid signature of FILE by the\n"
	"public key, and prints its signed comment. Exit code 1 when any does not\n"
	"verify.\n\n"
	"  -p, --public FILE      the author's public key\n"
	"  -x, --signature FILE   the signature file, when it is not FILE.minisig\n",
};
