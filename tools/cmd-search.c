/*
 * cmd-search.c — `kho search QUERY`: the same search teachers get from the
 * web app, on the command line, as text or as the API's JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Prints an HTML-escaped snippet as plain text, marked words in bold on a
 * terminal and between «» otherwise. */
static void print_snippet(const char *s, bool tty)
{
	static const struct { const char *from, *to; } entities[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&#39;", "'" },
	};
	while (*s) {
		if (!strncmp(s, "<mark>", 6)) {
			fputs(tty ? "\033[1m" : "«", stdout);
			s += 6;
			continue;
		}
		if (!strncmp(s, "</mark>", 7)) {
			fputs(tty ? "\033[0m" : "»", stdout);
			s += 7;
			continue;
		}
		bool done = false;
		for (size_t i = 0; !done && i < sizeof entities / sizeof entities[0]; i++) {
			size_t n = strlen(entities[i].from);
			if (!strncmp(s, entities[i].from, n)) {
				fputs(entities[i].to, stdout);
				s += n;
				done = true;
			}
		}
		if (!done)
			fputc(*s++, stdout);
	}
}

/* Completions while typing: the titles of the best lessons, one per line,
 * or as JSON (cli_suggest_json()). */
static void print_suggestions(const kho_search_result *r, const kho_search_query *q, bool json)
{
	if (!json) {
		for (size_t i = 0; i < r->n_hits; i++)
			printf("%s\t%s\n", r->hits[i].title, r->hits[i].url);
		return;
	}
	json_t *root = cli_suggest_json(r, q);
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(root);
}

/* One line per kind: "subject: toan 12, khtn 3". */
static void print_facets(const kho_search_result *r)
{
	const char *kind = NULL;
	for (size_t i = 0; i < r->n_facets; i++) {
		const kho_search_facet *f = &r->facets[i];
		if (!kind || strcmp(kind, f->kind))
			printf("%s%s: ", kind ? "\n" : "", f->kind);
		else
			printf(", ");
		printf("%s %lld", f->value, (long long)f->count);
		kind = f->kind;
	}
	if (kind)
		printf("\n");
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ "offset", required_argument, NULL, 'o' },
		{ "grade", required_argument, NULL, 'g' },
		{ "subject", required_argument, NULL, 's' },
		{ "pack", required_argument, NULL, 'p' },
		{ "prefix", no_argument, NULL, 'x' },
		{ "suggest", no_argument, NULL, 'S' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	kho_search_query q = { .limit = 10 };
	bool json = false, suggest = false, limit_set = false;
	long v;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jn:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_search);
		if (rc >= 0)
			return rc;
		switch (opt) {
		case 'j': json = true; break;
		case 'n':
			if (!cli_parse_int(optarg, 1, 100, &v))
				return cli_usage(&cmd_search, "--limit takes a number from 1 to 100");
			q.limit = (int)v;
			limit_set = true;
			break;
		case 'o':
			if (!cli_parse_int(optarg, 0, 100000, &v))
				return cli_usage(&cmd_search, "--offset takes a number from 0 to 100000");
			q.offset = (int)v;
			break;
		case 'g': q.grade = optarg; break;
		case 's': q.subject = optarg; break;
		case 'p': q.pack = optarg; break;
		case 'x': q.typing = true; break;
		case 'S': suggest = q.typing = q.hits_only = true; break;
		default: break;
		}
	}
	if (optind == argc)
		return cli_usage(&cmd_search, "say what to search for");

	/* All remaining words form the query. */
	size_t len = 1;
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *text = calloc(1, len);
	if (!text)
		return 1;
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			strcat(text, " ");
		strcat(text, argv[i]);
	}
	q.text = text;
	if (suggest && !limit_set)
		q.limit = 8;

	kho_store *store = NULL;
	kho_index *index = NULL;
	kho_search_result *r = NULL;
	int status = 0;
	if (cli_open(&store, &index)) {
		free(text);
		return 1;
	}
	if (kho_index_search(&r, index, &q)) {
		status = cli_fail("search failed");
	} else if (suggest) {
		print_suggestions(r, &q, json);
	} else if (json) {
		json_t *root = cli_search_json(r, &q);
		if (!root) {
			kho_search_result_free(r);
			kho_index_free(index);
			kho_store_free(store);
			free(text);
			fprintf(stderr, "kho: search: cannot write the results as JSON\n");
			return 1;
		}
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(root);
	} else if (r->total == 0) {
		printf("No lessons found for \"%s\".\n", text);
		if (r->did_you_mean)
			printf("Did you mean \"%s\"?\n", r->did_you_mean);
	} else {
		if (r->did_you_mean)
			printf("Did you mean \"%s\"?\n", r->did_you_mean);
		bool tty = isatty(STDOUT_FILENO);
		printf("%lld lesson%s found for \"%s\"", (long long)r->total, r->total == 1 ? "" : "s",
			text);
		if ((int64_t)r->n_hits < r->total)
			printf(" (showing %d–%d)", q.offset + 1, q.offset + (int)r->n_hits);
		printf("\n");
		print_facets(r);
		printf("\n");
		for (size_t i = 0; i < r->n_hits; i++) {
			const kho_search_hit *h = &r->hits[i];
			printf("%zu. %s%s%s\n   ", (size_t)q.offset + i + 1, h->title,
				h->unit ? " — " : "", h->unit ? h->unit : "");
			print_snippet(h->snippet ? h->snippet : "", tty);
			printf("\n   %s  (%s)\n\n", h->url, h->pack);
		}
	}
	kho_search_result_free(r);
	kho_index_free(index);
	kho_store_free(store);
	free(text);
	return status;
}

const kho_command cmd_search = {
	"search", run, "search the lessons, with or without accents",
	"usage: kho search [--json] [--limit N] [--offset N] [--grade G] [--subject S]\n"
	"                  [--pack ID] [--prefix | --suggest] [--home DIR] QUERY…\n\n"
	"Finds lessons by their words. Accents are optional: 'duong' finds 'đường';\n"
	"typed with accents, the exact spelling ranks first. Words typed in Telex or VNI\n"
	"('dduwowngf', 'd9u7o7ng2') are read as what they spell; for misspelt words\n"
	"kho suggests the closest words of the lessons.\n"
	"Write \"two words\" for a phrase and -word to leave a word out.\n\n"
	"  --limit N     results per page, 1–100 (default 10)\n"
	"  --offset N    skip the first N results\n"
	"  --grade G     only lessons for grade G (1–12)\n"
	"  --subject S   only lessons of subject S (toan, tieng-viet, …; see FORMAT.md)\n"
	"  --pack ID     only lessons of one pack\n"
	"  --prefix      the last word is unfinished: 'phan s' also finds 'phân số'\n"
	"  --suggest     completions while typing: titles of the best lessons for an\n"
	"                unfinished query (title and url per line; 8 unless --limit)\n"
	"  --json        print one JSON object: {\"query\", \"total\", \"offset\", \"limit\",\n"
	"                \"results\": [{\"pack\", \"version\", \"lesson\", \"title\", \"unit\",\n"
	"                \"snippet\", \"url\", \"score\"}], \"facets\": {\"grade\"|\"pack\"|\"subject\":\n"
	"                [{\"value\", \"count\"}]}, \"did_you_mean\"}; snippets are HTML with\n"
	"                <mark>; facets count every matching lesson, not only this page;\n"
	"                did_you_mean is the query as read when some of its words are in no\n"
	"                lesson (Telex and VNI are also searched; spelling is only\n"
	"                suggested), else null\n",
};
