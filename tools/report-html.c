/*
 * report-html.c — the page `kho repo report` writes (report.html): one
 * self-contained HTML file for authors and the centre, with its CSS inline
 * and each section's bar chart drawn as inline SVG — no script, no font, no
 * image or style sheet fetched from anywhere, so that it opens the same from
 * a USB stick or an e-mail. Every text in it came from schools' reports and
 * is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "usage.h"

#define CHART_ROWS 20    /* bars drawn per chart */
#define TABLE_ROWS 100   /* rows listed per table (the CSV files hold all) */
#define BAR_WIDTH 420    /* pixels of the longest bar */
#define LABEL_WIDTH 300  /* pixels for the labels left of the bars */
#define ROW_HEIGHT 22

static const char style[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;"
	"color:#1b1b1b}"
	"h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}"
	"h2 small,h1 small{display:block;font-weight:normal;color:#555;font-size:.75em}"
	"table{border-collapse:collapse;width:100%;margin:1em 0}"
	"th,td{padding:.25em .5em;border-bottom:1px solid #e4e4e4;text-align:left}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"svg text{font:12px system-ui,sans-serif;fill:#1b1b1b}svg rect{fill:#2f6f9f}"
	".summary{background:#f3f6f8;padding:.75em 1em;border-radius:4px}"
	".empty{color:#555;font-style:italic}";

/* Writes `s` escaped for HTML text and attribute values. */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

/* Writes `s` escaped, cut to about `max` bytes at a UTF-8 boundary. */
static void esc_cut(FILE *f, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max) {
		esc(f, s);
		return;
	}
	while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	char buf[256];
	snprintf(buf, sizeof buf, "%.*s…", (int)(max < 200 ? max : 200), s);
	esc(f, buf);
}

static void chart(FILE *f, const report_table *t)
{
	size_t n = t->n_rows < CHART_ROWS ? t->n_rows : CHART_ROWS;
	long long max = 1;
	for (size_t i = 0; i < n; i++)
		if (t->rows[i].value > max)
			max = t->rows[i].value;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%d\" "
		"height=\"%zu\" viewBox=\"0 0 %d %zu\" aria-label=\"", LABEL_WIDTH + BAR_WIDTH + 60,
		n * ROW_HEIGHT, LABEL_WIDTH + BAR_WIDTH + 60, n * ROW_HEIGHT);
	esc(f, t->title);
	fputs("\">\n", f);
	for (size_t i = 0; i < n; i++) {
		const report_row *r = &t->rows[i];
		long long w = r->value * BAR_WIDTH / max;
		size_t y = i * ROW_HEIGHT;
		fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", LABEL_WIDTH - 6, y + 15);
		esc_cut(f, r->label, 40);
		fprintf(f, "</text><rect x=\"%d\" y=\"%zu\" width=\"%lld\" height=\"%d\"/>"
			"<text x=\"%lld\" y=\"%zu\">%lld</text>\n", LABEL_WIDTH, y + 4, w > 0 ? w : 1,
			ROW_HEIGHT - 6, LABEL_WIDTH + (w > 0 ? w : 1) + 4, y + 15, r->value);
	}
	fputs("</svg>\n", f);
}

static void table(FILE *f, const report_table *t)
{
	fputs("<table>\n<thead><tr>", f);
	for (int c = 0; c < 6 && (c == 1 || t->columns[c]); c++) {
		if (!t->columns[c])
			continue; /* no note column */
		fputs(c >= 2 ? "<th class=\"n\">" : "<th>", f);
		esc(f, t->columns[c]);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < t->n_rows && i < TABLE_ROWS; i++) {
		const report_row *r = &t->rows[i];
		fputs("<tr><td>", f);
		esc(f, r->label);
		fputs("</td>", f);
		if (t->columns[1]) {
			fputs("<td>", f);
			esc(f, r->note);
			fputs("</td>", f);
		}
		fprintf(f, "<td class=\"n\">%lld</td>", r->value);
		for (int c = 3; c < 6 && t->columns[c]; c++)
			fprintf(f, "<td class=\"n\">%lld</td>", r->extra[c - 3]);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

int report_html_write(FILE *f, const char *summary, const report_table *tables, size_t n)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<title>Báo cáo sử dụng — Usage report</title>\n<style>%s</style>\n</head>\n<body>\n"
		"<h1>Báo cáo sử dụng của các trường<small>What teachers used and searched for, "
		"across schools</small></h1>\n<p class=\"summary\">", style);
	esc(f, summary);
	fputs("</p>\n", f);
	for (size_t i = 0; i < n; i++) {
		const report_table *t = &tables[i];
		fprintf(f, "<section id=\"%s\">\n<h2>", t->id);
		const char *slash = strstr(t->title, " / ");
		if (slash) {
			fprintf(f, "%.*s<small>", (int)(slash - t->title), t->title);
			esc(f, slash + 3);
			fputs("</small>", f);
		} else {
			esc(f, t->title);
		}
		fputs("</h2>\n", f);
		if (!t->n_rows) {
			fputs("<p class=\"empty\">Không có số liệu — no figures.</p>\n</section>\n", f);
			continue;
		}
		chart(f, t);
		table(f, t);
		fputs("</section>\n", f);
	}
	fputs("<p><small>kho repo report. Các số liệu đã được ẩn danh tại trường (docs/privacy.md)"
		" — the figures were made anonymous at each school.</small></p>\n</body>\n</html>\n", f);
	return ferror(f) ? kho_error_set(KHO_EIO, "cannot write the page") : KHO_OK;
}
