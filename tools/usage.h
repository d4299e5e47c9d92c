/*
 * usage.h — usage figures between the box and the centre (docs/privacy.md):
 *
 *   server-usage.c    what `kho serve` records: searches, lesson opens,
 *                     favourites (core/store-usage.c keeps them)
 *   usage-report.c    the report format, kho-usage-report-1: writing it on
 *                     the box, reading and checking it at the centre
 *   cmd-usage.c       `kho usage`: the figures, on/off, k, report → outbox
 *   cmd-repo-report.c `kho repo report`: many schools' reports → HTML, CSV
 *   report-html.c     the HTML page of that report, with SVG bar charts
 */
#ifndef KHO_USAGE_H
#define KHO_USAGE_H

#include <stdbool.h>
#include <stdio.h>

#include "kho_core.h"
#include "kho_index.h"

struct json_t;
struct server_request;
struct server_box;

/* ------------------------------------------------ recording (server) */

/* Each records one event for the asker — the signed-in teacher `user`
 * (NULL: anonymous, then a hash of the client's address) — and never
 * fails: a problem is logged and forgotten. HEAD requests are not counted.
 * server_usage_open() finds the signed-in teacher itself. */
void server_usage_search(struct server_request *r, struct server_box *box, const kho_user *user,
	const kho_search_query *q, const kho_search_result *res);
void server_usage_open(struct server_request *r, struct server_box *box, const char *pack,
	const char *lesson);
void server_usage_favourite(struct server_request *r, struct server_box *box,
	const kho_user *user, const char *pack, const char *lesson);

/* ------------------------------------------- the report format (file) */

#define USAGE_REPORT_FORMAT "kho-usage-report-1"
#define USAGE_REPORT_MAX_SIZE (64u << 20)   /* bytes of a report file read */
#define USAGE_REPORT_MAX_COUNT 1000000000LL /* any one count in a report */

/* The report of `u` from box `box` (16 hex digits), or NULL when out of
 * memory. Its text depends only on the figures (no time of writing), so
 * that the same days reported twice make the same file. */
struct json_t *usage_report_json(const kho_usage *u, const char *box);

/* Reads and checks a report: *out (kho_usage_free) and its box id. A
 * malformed report is KHO_EINVALID with a message naming the field
 * ("lessons[3].opens: not an integer from 0 to 1000000000"), a count too
 * large KHO_ELIMIT. */
int usage_report_parse(kho_usage **out, char box[17], const char *text, size_t len);

/* ---------------------------------------------- the centre's report */

/* One row of a table of the HTML page: a label, its figures and a bar. */
typedef struct report_row {
	const char *label;
	const char *note;        /* a second column of text, or NULL */
	long long value;         /* the bar's length */
	long long extra[3];      /* further figures shown */
} report_row;

typedef struct report_table {
	const char *id;          /* the section's id in the page */
	const char *title;       /* Vietnamese / English heading */
	const char *columns[6];  /* label, note (or NULL), value, extra… (NULL ends) */
	report_row *rows;
	size_t n_rows;
} report_table;

/* Writes the page: the totals line, then each table with a bar chart (inline
 * SVG) of its first rows; everything escaped; no scripts, no external
 * resources. KHO_EIO when writing fails. */
int report_html_write(FILE *f, const char *summary, const report_table *tables, size_t n);

/* ------------------------------------------------------------ commands */

extern const struct kho_command cmd_usage, cmd_repo_report;

#endif
