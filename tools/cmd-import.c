/*
 * cmd-import.c — `kho import PATH…`: installs pack files and pack folders.
 * Each pack is its own transaction: one bad pack is reported and the others
 * still install; the exit code says whether all of them did.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "kho_convert.h"

typedef struct progress {
	const char *name;
	int last_percent;
} progress;

static void draw(void *payload, uint64_t done, uint64_t total)
{
	progress *p = payload;
	int percent = total ? (int)(done * 100 / total) : 100;
	if (percent == p->last_percent)
		return;
	p->last_percent = percent;
	int filled = percent * 30 / 100;
	fprintf(stderr, "\r  [%.*s%*s] %3d%% %.40s", filled, "##############################",
		30 - filled, "", percent, p->name);
	fflush(stderr);
}

static const char *outcome_name(kho_install_outcome o)
{
	switch (o) {
	case KHO_INSTALL_NEW: return "installed";
	case KHO_INSTALL_UPGRADED: return "upgraded";
	default: return "unchanged";
	}
}

/* A pack file with a signature beside it (PATH.minisig, minisign's format)
 * installs only when a trusted key verifies it, and is then recorded as
 * signed by that key; without one, it installs as a local, unverified pack.
 * Folders are never signed: they are an author's work in progress. The
 * signature is checked before the pack is opened, so that nothing of a signed
 * pack is parsed unless it is the pack its author signed. `signer` gets the
 * key id, "" when there is no signature. */
static int check_signature(char signer_id[KHO_KEY_ID_HEX_SIZE], kho_store *store,
	const char *path)
{
	signer_id[0] = '\0';
	struct stat st;
	size_t n = strlen(path) + 9;
	char *sig = malloc(n);
	if (!sig)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	snprintf(sig, n, "%s.minisig", path);
	if (stat(path, &st) || !S_ISREG(st.st_mode) || stat(sig, &st)) {
		free(sig);
		return KHO_OK;
	}
	kho_trusted_key *keys = NULL;
	size_t n_keys = 0, signer = 0;
	int rc = kho_store_trusted_keys(&keys, &n_keys, store);
	kho_public_key *pub = rc ? NULL : calloc(n_keys ? n_keys : 1, sizeof *pub);
	if (!rc && !pub)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; pub && i < n_keys; i++)
		pub[i] = keys[i].key;
	if (!rc && (rc = kho_verify_file(&signer, NULL, path, sig, pub, n_keys)) == KHO_ENOTFOUND)
		rc = kho_error_set(KHO_ESIGNATURE, "%s; nothing was installed (trust the author's "
			"key with: kho trust add KEY.pub)", kho_error_last());
	if (!rc)
		memcpy(signer_id, keys[signer].id_hex, KHO_KEY_ID_HEX_SIZE);
	free(pub);
	kho_trusted_keys_free(keys, n_keys);
	free(sig);
	return rc;
}

static int import_one(json_t *results, kho_store *store, kho_index *index, const char *path,
	bool json)
{
	kho_pack *pack = NULL;
	kho_install_info info = { 0 };
	progress prog = { path, -1 };
	kho_install_hooks hooks = *kho_index_hooks(index);
	char signer[KHO_KEY_ID_HEX_SIZE];
	int rc = check_signature(signer, store, path);
	/* a SCORM, IMS CC, EPUB or H5P package is converted to a pack first
	 * (a .kho file is a pack: its reader's messages are the ones to see) */
	kho_convert_format format = KHO_FORMAT_KHO;
	kho_convert_report report = { 0 };
	char *converted = NULL;
	size_t len = strlen(path);
	if (!rc && !(len > 4 && !strcasecmp(path + len - 4, ".kho")))
		rc = kho_convert_detect(&format, path);
	if (!rc && format != KHO_FORMAT_KHO) {
		rc = kho_convert_to_temp(&converted, &report, path);
		if (!rc && !json)
			printf("%s: converted from %s (%zu lesson%s)\n", path,
				kho_convert_format_name(format), report.lessons, report.lessons == 1 ? "" : "s");
		for (size_t i = 0; !rc && i < report.n_warnings; i++)
			fprintf(stderr, "kho: warning: %s: %s\n", path, report.warnings[i]);
	}
	if (!rc)
		rc = kho_pack_open(&pack, converted ? converted : path);
	if (!rc && signer[0])
		rc = kho_pack_set_signer(pack, signer);
	if (!rc) {
		if (cli_interactive() && !json) {
			hooks.progress = draw;
			hooks.progress_payload = &prog;
		}
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = kho_store_install(&info, store, pack, &hooks);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (prog.last_percent >= 0)
			fputs("\r\033[K", stderr);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		kho_log_info("%s: %.3f s, %.1f MB of lesson text", path, secs,
			(double)info.text_bytes / 1e6);
	}
	const kho_manifest *m = pack ? kho_pack_manifest(pack) : NULL;
	if (rc) {
		/* Most messages already begin with the pack's path. */
		char what[1200];
		bool named = !strncmp(kho_error_last(), path, strlen(path));
		snprintf(what, sizeof what, "cannot import%s%s", named ? "" : " ", named ? "" : path);
		cli_fail(what);
		if (json)
			json_array_append_new(results, json_pack("{s:o, s:s, s:o}", "path",
				cli_json_text(path), "status", "failed", "error", cli_json_text(kho_error_last())));
		kho_pack_free(pack);
		kho_convert_remove(converted);
		free(converted);
		kho_convert_report_free(&report);
		return 1;
	}
	if (json) {
		json_array_append_new(results, json_pack("{s:o, s:s, s:s, s:I, s:s?, s:I, s:I, s:I, s:I}",
			"path", cli_json_text(path), "status", outcome_name(info.outcome), "id", m->id,
			"version", (json_int_t)m->version, "signed_by", kho_pack_signer(pack),
			"previous_version", (json_int_t)info.previous_version,
			"lessons", (json_int_t)info.lessons, "files", (json_int_t)info.files,
			"bytes", (json_int_t)info.bytes));
	} else if (info.outcome == KHO_INSTALL_SAME) {
		printf("%s version %lld is already installed; nothing to do\n", m->id,
			(long long)m->version);
	} else {
		printf("%s %s version %lld", outcome_name(info.outcome), m->id, (long long)m->version);
		if (info.outcome == KHO_INSTALL_UPGRADED)
			printf(" (was %lld; kept for rollback)", (long long)info.previous_version);
		printf(": %lld lessons, %lld files, %.1f kB", (long long)info.lessons,
			(long long)info.files, (double)info.bytes / 1000.0);
		if (kho_pack_signer(pack))
			printf("; signature verified (key %s)\n", kho_pack_signer(pack));
		else
			printf("; unsigned: a local, unverified pack\n");
	}
	kho_pack_free(pack);
	kho_convert_remove(converted);
	free(converted);
	kho_convert_report_free(&report);
	return 0;
}

/* The folder of the bundled packs: $KHO_BUNDLED_DIR, else where `meson
 * install` put them, else the source tree this kho was built from. */
static const char *bundled_dir(void)
{
	const char *env = getenv("KHO_BUNDLED_DIR");
	struct stat st;
	if (env && *env)
		return env;
	if (stat(KHO_BUNDLED_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return KHO_BUNDLED_DIR;
	return KHO_SOURCE_PACKS;
}

static int import_bundled(json_t *results, kho_store *store, kho_index *index, bool json)
{
	const char *dir = bundled_dir();
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), failed = 0;
	if (n < 0) {
		fprintf(stderr, "kho: cannot read the bundled packs in %s\n", dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *path = kho_path_join(dir, names[i]->d_name);
			if (path)
				failed += import_one(results, store, index, path, json);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return failed;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bundled", no_argument, NULL, 'b' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false, bundled = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_import);
		if (rc >= 0)
			return rc;
		if (opt == 'j')
			json = true;
		if (opt == 'b')
			bundled = true;
	}
	if (optind == argc && !bundled)
		return cli_usage(&cmd_import, "name at least one pack file or folder, or --bundled");

	kho_store *store = NULL;
	kho_index *index = NULL;
	if (cli_open(&store, &index))
		return 1;
	json_t *results = json_array();
	int failed = bundled ? import_bundled(results, store, index, json) : 0;
	for (int i = optind; i < argc; i++)
		failed += import_one(results, store, index, argv[i], json);
	if (json) {
		json_t *root = json_pack("{s:o, s:i}", "imports", results, "failed", failed);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else {
		json_decref(results);
	}
	kho_index_free(index);
	kho_store_free(store);
	return failed ? 1 : 0;
}

const kho_command cmd_import = {
	"import", run, "install lesson packs from .kho files or folders",
	"usage: kho import [--json] [--home DIR] PATH…\n"
	"       kho import --bundled\n\n"
	"Installs each pack (a .kho file or a pack folder with manifest.xml) on the box,\n"
	"each in one transaction: teachers see the old version or the new one, never a mix.\n"
	"  - the same pack version again changes nothing and says so;\n"
	"  - a newer version replaces the visible one; the older is kept for rollback;\n"
	"  - an older version than the installed one is refused.\n"
	"A pack that fails (bad manifest, unsafe zip, missing lesson file…) is reported\n"
	"and changes nothing; the other packs still install. Exit code 1 if any failed.\n\n"
	"  --bundled  also install the sample packs that come with kho\n"
	"  --json     print one JSON object: {\"imports\": [{\"path\", \"status\", \"id\",\n"
	"             \"version\", …}], \"failed\": N}\n",
};
