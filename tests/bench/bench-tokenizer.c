/*
 * bench-tokenizer.c — how fast the kho tokenizer reads text, alone and inside
 * FTS5 (an in-memory table filled the way an import fills the index), and
 * how fast lesson HTML is turned into text.
 * Prints MB/s. The text is Vietnamese lesson-like prose made from a fixed
 * list of syllables with a fixed seed, or the file named as the argument.
 *
 *   bench-tokenizer [FILE]
 */
#include "indexer-private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const syllables[] = {
	"của", "và", "là", "có", "các", "những", "được", "trong", "cho", "một", "với",
	"học", "sinh", "bài", "toán", "phân", "số", "đường", "tròn", "hình", "tam", "giác",
	"Tiếng", "Việt", "khoa", "học", "tự", "nhiên", "lớp", "em", "hãy", "tính", "diện",
	"tích", "chu", "vi", "thể", "nước", "người", "thầy", "cô", "giáo", "trường", "nghiêng",
	"hoà", "khoẻ", "thuỷ", "quý", "ĐƯỜNG", "Hà", "Nội", "năm", "2024", "CO2", "H2O",
	"the", "lesson", "of", "science", "đã", "sẽ", "đang", "ở", "từ", "này", "đó",
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_text(size_t size)
{
	char *text = malloc(size + 64);
	if (!text)
		abort();
	uint32_t state = 2024;
	size_t n = sizeof syllables / sizeof syllables[0], len = 0;
	while (len < size) {
		state = state * 1664525u + 1013904223u;
		const char *s = syllables[(state >> 8) % n];
		size_t sl = strlen(s);
		memcpy(text + len, s, sl);
		len += sl;
		uint32_t r = (state >> 4) % 16;
		text[len++] = r == 0 ? '.' : r == 1 ? ',' : r == 2 ? '\n' : ' ';
		if (r <= 1)
			text[len++] = ' ';
	}
	text[len] = '\0';
	return text;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *data = size > 0 ? malloc((size_t)size + 1) : NULL;
	if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
	}
	fclose(f);
	if (data) {
		data[size] = '\0';
		*len = (size_t)size;
	}
	return data;
}

static int count_token(void *payload, int flags, const char *tok, int len, int start, int end)
{
	(void)flags; (void)tok; (void)len; (void)start; (void)end;
	++*(size_t *)payload;
	return 0;
}

int main(int argc, char **argv)
{
	size_t len = 32u * 1024 * 1024;
	char *text = argc > 1 ? read_file(argv[1], &len) : make_text(len);
	if (!text) {
		fprintf(stderr, "bench-tokenizer: cannot read %s\n", argv[1]);
		return 1;
	}
	len = strlen(text);
	double mb = (double)len / (1024.0 * 1024.0);

	static const struct { kho_tokenize_mode mode; const char *name; } modes[] = {
		{ KHO_TOKENIZE_DOCUMENT, "document (folded + exact)" },
		{ KHO_TOKENIZE_QUERY, "query (folded only)" },
	};
	for (size_t m = 0; m < 2; m++) {
		size_t tokens = 0;
		double best = 1e9;
		for (int round = 0; round < 3; round++) {
			tokens = 0;
			double t0 = now();
			/* In 64 KB pieces, as FTS5 would see lesson bodies. */
			for (size_t at = 0; at < len; at += 65536) {
				size_t n = len - at < 65536 ? len - at : 65536;
				kho_index_tokenize(text + at, n, modes[m].mode, count_token, &tokens);
			}
			double t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("tokenizer, %-26s %8.1f MB/s  (%.1f MB, %zu tokens)\n", modes[m].name,
			mb / best, mb, tokens);
	}

	/* Text extraction of the same text as HTML paragraphs, for comparison:
	 * an import extracts every lesson before it indexes it. */
	size_t html_cap = len + len / 8 + 64, hl = 0;
	char *html = malloc(html_cap);
	if (!html)
		return 1;
	for (size_t at = 0; at < len; ) {
		size_t n = len - at < 400 ? len - at : 400;
		memcpy(html + hl, "<p>", 3);
		memcpy(html + hl + 3, text + at, n);
		memcpy(html + hl + 3 + n, "</p>\n", 5);
		hl += n + 8;
		at += n;
	}
	double t1 = now();
	for (size_t at = 0; at < hl; ) {
		/* About 1 MB, ending after a paragraph. */
		size_t n = hl - at < 1024 * 1024 ? hl - at : 1024 * 1024;
		while (at + n < hl && html[at + n - 1] != '\n')
			n++;
		char *plain = NULL;
		kho_index_extract_text(&plain, html + at, n);
		free(plain);
		at += n;
	}
	printf("text extraction (HTML → text)       %8.1f MB/s  (1 MB files)\n",
		(double)hl / (1024.0 * 1024.0) / (now() - t1));
	free(html);

	/* Inside FTS5: an in-memory table with the index's column layout. */
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || kho_index_register_tokenizer(db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='kho');"
		"BEGIN;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (title, body) VALUES ('Bài học', ?1)", -1,
		&st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench-tokenizer: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	double t0 = now();
	for (size_t at = 0; at < len; at += 16384) {
		size_t n = len - at < 16384 ? len - at : 16384;
		sqlite3_bind_text(st, 1, text + at, (int)n, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
	double t = now() - t0;
	printf("FTS5 insert with kho tokenizer       %8.1f MB/s  (16 KB documents)\n", mb / t);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(text);
	return 0;
}
