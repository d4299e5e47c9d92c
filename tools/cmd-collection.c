/*
 * cmd-collection.c — `kho collection list|show|export`: teachers'
 * collections (core/store-collections.c) from the box's command line, which
 * sees every collection, private ones too: exported as a pack for a USB
 * stick, or queued in the outbox for the centre to review and publish.
 */
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kho_convert.h"
#include "kho_sync.h"

static void print_list(const kho_collection *all, size_t n, bool json)
{
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:b, s:I, s:I}", "id",
				(json_int_t)all[i].id, "name", all[i].name, "owner", all[i].owner, "shared",
				all[i].shared, "count", (json_int_t)all[i].count, "updated_at",
				(json_int_t)all[i].updated_at));
		json_t *root = json_pack("{s:o}", "collections", arr);
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf("%4lld  %s  (%s, %zu lesson%s%s)\n", (long long)all[i].id, all[i].name,
			all[i].owner, all[i].count, all[i].count == 1 ? "" : "s",
			all[i].shared ? ", shared" : "");
	printf("%zu collection%s\n", n, n == 1 ? "" : "s");
}

int cli_collection_queue(char **queued, kho_store *store, const kho_collection *c,
	const char *pack)
{
	int rc = kho_outbox_add(queued, store, pack);
	/* one pack of a collection waits in the outbox: the newest */
	if (!rc && c->queued && strcmp(c->queued, *queued))
		rc = kho_outbox_drop(store, c->queued);
	if (!rc)
		rc = kho_store_collection_queued(store, c->id, *queued);
	if (rc) {
		free(*queued);
		*queued = NULL;
	}
	return rc;
}

static int export(kho_store *store, const kho_collection *c, const char *out, bool outbox)
{
	char *tmp = NULL;
	if (outbox && asprintf(&tmp, "%s/kho-collection-%lld.kho", getenv("TMPDIR") &&
		*getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long long)c->id) < 0)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	int rc = kho_collection_export(store, c, outbox ? tmp : out);
	char *queued = NULL;
	if (!rc && outbox)
		rc = cli_collection_queue(&queued, store, c, tmp);
	if (tmp)
		remove(tmp);
	if (!rc && outbox)
		printf("queued '%s' for the centre as %s (sent by kho push)\n", c->name, queued);
	else if (!rc)
		printf("wrote '%s' (%zu lessons) to %s\n", c->name, c->count, out);
	free(queued);
	free(tmp);
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "outbox", no_argument, NULL, 'q' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false, outbox = false;
	const char *out = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_collection);
		if (rc >= 0)
			return rc;
		if (opt == 'j')
			json = true;
		else if (opt == 'o')
			out = optarg;
		else if (opt == 'q')
			outbox = true;
	}
	const char *what = optind < argc ? argv[optind] : "";
	bool list = !strcmp(what, "list");
	long id = 0;
	if (!list && (argc - optind != 2 || (strcmp(what, "show") && strcmp(what, "export")) ||
	    !cli_parse_int(argv[optind + 1], 1, LONG_MAX, &id)))
		return cli_usage(&cmd_collection, "say list, or show or export ID");
	if (!strcmp(what, "export") && !out == !outbox)
		return cli_usage(&cmd_collection, "export writes -o FILE.kho, or --outbox");
	kho_store *store = NULL;
	if (cli_open(&store, NULL))
		return 1;
	int status = 0;
	kho_collection *all = NULL, *c = NULL;
	size_t n = 0;
	if (list) {
		if (kho_store_collections(&all, &n, store, KHO_BOX_ADMIN))
			status = cli_fail("collection list");
		else
			print_list(all, n, json);
	} else if (kho_store_collection_get(&c, store, id, KHO_BOX_ADMIN)) {
		status = cli_fail(what);
	} else if (!strcmp(what, "show")) {
		printf("%s  (%s%s)\n", c->name, c->owner, c->shared ? ", shared" : "");
		for (size_t i = 0; i < c->count; i++)
			printf("%3zu. %s/%s  %s\n", i + 1, c->items[i].pack, c->items[i].lesson,
				c->items[i].title ? c->items[i].title : "(no longer on this box)");
	} else if (export(store, c, out, outbox)) {
		status = cli_fail("collection export");
	}
	kho_collections_free(all, n);
	kho_collection_free(c);
	kho_store_free(store);
	return status;
}

const kho_command cmd_collection = {
	"collection", run, "teachers' collections: list, show, export as a pack",
	"usage: kho collection list [--json]\n"
	"       kho collection show ID\n"
	"       kho collection export ID -o FILE.kho\n"
	"       kho collection export ID --outbox\n\n"
	"Teachers make collections in the app (named, ordered lists of lessons). At the\n"
	"box's command line every collection is seen, private ones too. export writes one\n"
	"as a pack holding its lessons and their files (for a USB stick: kho import on\n"
	"another box), or queues it in the outbox for the centre to review (kho push).\n",
};
