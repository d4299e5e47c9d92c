/*
 * cmd-trust.c — `kho trust add|list|remove`: the authors' public keys this
 * box accepts signed packs from (core/store-trust.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int add(kho_store *store, int argc, char **argv, const char *comment)
{
	int status = 0;
	for (int i = 0; i < argc; i++) {
		kho_public_key key;
		int rc = kho_public_key_read(&key, argv[i]);
		if (rc == KHO_ENOTFOUND) /* not a file: the key's base64 line itself */
			rc = kho_public_key_parse(&key, argv[i], strlen(argv[i]));
		char id[KHO_KEY_ID_HEX_SIZE];
		if (!rc)
			kho_key_id_hex(id, key.id);
		if (rc || (rc = kho_store_trust_add(store, &key, comment ? comment : argv[i]))) {
			if (rc == KHO_EEXISTS) {
				printf("key %s is trusted already; nothing to do\n", id);
				continue;
			}
			status = cli_fail("trust add");
			continue;
		}
		printf("trusting key %s: packs it signs install as verified\n", id);
	}
	return status;
}

static int list(kho_store *store, bool json)
{
	kho_trusted_key *keys = NULL;
	size_t n = 0;
	if (kho_store_trusted_keys(&keys, &n, store))
		return cli_fail("trust list");
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			char *text = kho_public_key_text(&keys[i].key);
			json_array_append_new(arr, json_pack("{s:s, s:s?, s:o, s:I}", "key_id",
				keys[i].id_hex, "public_key", text, "comment", cli_json_text(keys[i].comment),
				"added_at", (json_int_t)keys[i].added_at));
			free(text);
		}
		json_t *root = json_pack("{s:o}", "keys", arr);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else if (n == 0) {
		printf("No trusted keys: signed packs are refused, unsigned ones install as "
			"unverified.\nAdd an author's key with: kho trust add KEY.pub\n");
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s  %s\n", keys[i].id_hex, keys[i].comment);
	}
	kho_trusted_keys_free(keys, n);
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "comment", required_argument, NULL, 'c' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false;
	const char *comment = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jc:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_trust);
		if (rc >= 0)
			return rc;
		if (opt == 'j')
			json = true;
		else if (opt == 'c')
			comment = optarg;
	}
	if (optind == argc)
		return cli_usage(&cmd_trust, "say add, list or remove");
	const char *what = argv[optind++];
	bool is_add = !strcmp(what, "add"), is_list = !strcmp(what, "list"),
		is_remove = !strcmp(what, "remove");
	if (!is_add && !is_list && !is_remove)
		return cli_usage(&cmd_trust, "say add, list or remove");
	if ((is_list && optind != argc) || (!is_list && optind == argc))
		return cli_usage(&cmd_trust, is_list ? "list takes no arguments" :
			"name the key(s)");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	if (is_add) {
		status = add(store, argc - optind, argv + optind, comment);
	} else if (is_list) {
		status = list(store, json);
	} else {
		for (int i = optind; i < argc; i++) {
			if (kho_store_trust_remove(store, argv[i]))
				status = cli_fail("trust remove");
			else
				printf("no longer trusting key %s (packs already installed stay)\n", argv[i]);
		}
	}
	kho_store_free(store);
	return status;
}

const kho_command cmd_trust = {
	"trust", run, "the authors' keys this box accepts signed packs from",
	"usage: kho trust add [--comment TEXT] PUBLIC…\n"
	"       kho trust list [--json]\n"
	"       kho trust remove KEY_ID…\n\n"
	"A pack with a signature (PACK.kho.minisig beside it) installs only when the\n"
	"signature verifies with a trusted key, and is then marked verified; an\n"
	"unsigned pack installs as a local, unverified pack, and never replaces a\n"
	"verified version. PUBLIC is a public key file (kho keygen, minisign -G) or\n"
	"the key's base64 line; KEY_ID as `kho trust list` shows it.\n",
};
