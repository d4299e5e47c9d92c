/*
 * cmd-keygen.c — `kho keygen -s SECRET -p PUBLIC`: an author's signing key
 * pair, in minisign's formats (core/sign.c), the secret key encrypted with a
 * passphrase unless --no-passphrase.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "secret", required_argument, NULL, 's' },
		{ "public", required_argument, NULL, 'p' },
		{ "no-passphrase", no_argument, NULL, 'W' },
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *secret = NULL, *public = NULL;
	bool no_passphrase = false, force = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:p:Wf", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_keygen);
		if (rc >= 0)
			return rc;
		switch (opt) {
		case 's': secret = optarg; break;
		case 'p': public = optarg; break;
		case 'W': no_passphrase = true; break;
		case 'f': force = true; break;
		default: break;
		}
	}
	if (!secret || !public || optind != argc)
		return cli_usage(&cmd_keygen, "name both key files: -s SECRET -p PUBLIC");
	char *pass = NULL;
	if (!no_passphrase) {
		pass = cli_read_passphrase("Passphrase for the new secret key: ");
		if (!pass)
			return cli_fail("keygen");
		char *again = cli_read_passphrase("The same passphrase again: ");
		bool same = again && !strcmp(pass, again);
		cli_forget(again);
		if (!same) {
			cli_forget(pass);
			fprintf(stderr, "kho: keygen: the two passphrases differ; nothing was written\n");
			return 1;
		}
		if (!*pass) {
			cli_forget(pass);
			fprintf(stderr, "kho: keygen: an empty passphrase; use --no-passphrase for a key "
				"without one\n");
			return 1;
		}
	}
	kho_public_key pub;
	kho_secret_key sec;
	kho_keygen(&pub, &sec);
	int rc = kho_secret_key_write(secret, &sec, pass, force);
	if (!rc)
		rc = kho_public_key_write(public, &pub, force);
	sodium_memzero(&sec, sizeof sec);
	cli_forget(pass);
	if (rc)
		return cli_fail("keygen");
	char id[KHO_KEY_ID_HEX_SIZE];
	kho_key_id_hex(id, pub.id);
	char *line = kho_public_key_text(&pub);
	printf("key %s\nsecret key: %s (keep it private%s)\npublic key: %s (give it to the boxes: "
		"kho trust add %s)\n%s\n", id, secret, no_passphrase ? "; it has no passphrase" : "",
		public, public, line ? line : "");
	free(line);
	return 0;
}

const kho_command cmd_keygen = {
	"keygen", run, "make a key pair for signing packs (for authors)",
	"usage: kho keygen -s SECRET -p PUBLIC [--no-passphrase] [--force]\n\n"
	"Makes an Ed25519 key pair in minisign's formats: minisign can use these keys,\n"
	"and kho can use minisign's. The secret key is encrypted with a passphrase\n"
	"(asked on the terminal, or read as one line from standard input) unless\n"
	"--no-passphrase. Existing files are not overwritten unless --force.\n\n"
	"  -s, --secret FILE   where to write the secret key (mode 0600)\n"
	"  -p, --public FILE   where to write the public key\n",
};
