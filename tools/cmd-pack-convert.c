/*
 * cmd-pack-convert.c — `kho pack convert FILE -o OUT.kho`: converts a SCORM,
 * IMS Common Cartridge, EPUB or H5P package to a pack (content-packs/
 * IMPORTERS.md) in a temporary folder, then builds the .kho file from it;
 * with --dir the folder itself is the result. Warnings (dangling references,
 * dropped parts) go to stderr; they do not make the command fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kho_convert.h"

static void print_report(const kho_convert_report *r, const char *input)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		fprintf(stderr, "kho: warning: %s\n", r->warnings[i]);
	printf("converted %s (%s): %s \"%s\", %zu lessons in %zu units, %zu files\n", input,
		kho_convert_format_name(r->format), r->pack_id, r->title, r->lessons, r->units,
		r->files);
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "dir", required_argument, NULL, 'd' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *out = NULL, *dir = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:d:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_pack_convert);
		if (rc >= 0)
			return rc;
		if (opt == 'o')
			out = optarg;
		else if (opt == 'd')
			dir = optarg;
	}
	if (optind + 1 != argc || (!out && !dir))
		return cli_usage(&cmd_pack_convert, "name one package and -o OUT.kho or --dir OUTDIR");
	const char *input = argv[optind];
	kho_convert_report report = { 0 };
	char *tmp = NULL, what[1200];
	int rc = dir ? kho_convert(&report, input, dir)
		: kho_convert_to_temp(&tmp, &report, input);
	/* most messages begin with the package's path already */
	bool named = !strncmp(kho_error_last(), input, strlen(input));
	snprintf(what, sizeof what, "cannot convert%s%s", named ? "" : " ", named ? "" : input);
	if (!rc && out) {
		rc = kho_pack_build(out, dir ? dir : tmp);
		snprintf(what, sizeof what, "cannot write %s", out);
	}
	int status = rc ? cli_fail(what) : 0;
	if (!rc)
		print_report(&report, input);
	kho_convert_remove(tmp);
	free(tmp);
	kho_convert_report_free(&report);
	return status;
}

const kho_command cmd_pack_convert = {
	"pack convert", run, "convert a SCORM, IMS CC, EPUB or H5P package to a pack",
	"usage: kho pack convert FILE -o OUT.kho\n"
	"       kho pack convert FILE --dir OUTDIR [-o OUT.kho]\n\n"
	"Converts FILE (a zip file or an unpacked folder) to a kho pack. The format is\n"
	"found from the content: SCORM 1.2 or 2004, IMS Common Cartridge 1.1-1.3, EPUB 2\n"
	"or 3, H5P. What becomes of each part is written in content-packs/IMPORTERS.md.\n"
	"Warnings (a missing file, a part kho cannot show) are printed and the rest is\n"
	"converted; a package too broken to convert fails with exit code 1.\n\n"
	"  -o, --output FILE  write the pack as a .kho file (as kho pack build does)\n"
	"  --dir OUTDIR       write the pack folder OUTDIR (it must not exist yet)\n",
};
