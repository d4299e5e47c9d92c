/*
 * store-install.c — installing and removing pack versions in the box store.
 *
 * An install is one SQLite transaction: the version row, its units, lessons
 * (with their extracted text), files and tags are written, the pack's
 * visible version is switched, the hooks update derived data (the index),
 * the new blobs are made durable, and only then is the transaction
 * committed. Whatever is killed when, readers see the old version or the new
 * one, never a mix; blobs left behind by an interrupted install are only
 * unreferenced files. The pack is streamed entry by entry: memory use is
 * bounded by the largest lesson files, never by the pack. Lesson text is
 * extracted on a second thread (install-text.c) while files are read.
 */
#include <time.h>

#include "core-private.h"

/* Largest lesson file whose text is extracted. */
#define MAX_LESSON_FILE (32u * 1024 * 1024)

typedef struct install {
	kho_store *store;
	kho_pack *pack;
	const kho_manifest *m;
	const kho_install_hooks *hooks;
	kho_install_info *info;
	int64_t pv;
	uint64_t total_bytes;
	sqlite3_stmt *ins_file, *ins_lesson, *ins_tag;
	/* An update keeps the rows of lessons whose text did not change (and so
	 * their place in the search index): see take_over(). */
	int64_t old_pv;
	sqlite3_stmt *same, *copy, *copy_tags, *rename_copy, *move, *drop_tags;
	const kho_manifest_lesson **by_href; /* lessons sorted by href */
	text_pipe *pipe;                     /* lesson text extraction */
} install;

static int step_done(install *in, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (src != SQLITE_DONE)
		return kho_store_error(in->store, src, what);
	return KHO_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* "a b c" from a list of strings (malloc'd). */
static char *join_subjects(char *const *list, size_t n)
{
	kho_buf b = { 0 };
	kho_buf_append(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			kho_buf_append(&b, " ", 1);
		kho_buf_append(&b, list[i], strlen(list[i]));
	}
	return b.data;
}

static char *join_grades(const int *list, size_t n)
{
	kho_buf b = { 0 };
	kho_buf_append(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		char num[16];
		int len = snprintf(num, sizeof num, "%s%d", i ? " " : "", list[i]);
		kho_buf_append(&b, num, (size_t)len);
	}
	return b.data;
}

static int insert_version(install *in, const char *manifest_hash)
{
	const kho_manifest *m = in->m;
	sqlite3_stmt *st = store_prepare(in->store,
		"INSERT INTO pack_versions (pack_id, version, title, summary, publisher, license,"
		" lang, subjects, grades, manifest, source, installed_at, signed_by)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	if (!st)
		return kho_error_last_code();
	char *subjects = join_subjects(m->subjects, m->n_subjects);
	char *grades = join_grades(m->grades, m->n_grades);
	int rc = KHO_OK;
	if (!subjects || !grades) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	} else {
		bind_text(st, 1, m->id);
		sqlite3_bind_int64(st, 2, m->version);
		bind_text(st, 3, m->title);
		bind_text(st, 4, m->summary);
		bind_text(st, 5, m->publisher);
		bind_text(st, 6, m->license);
		bind_text(st, 7, m->lang);
		bind_text(st, 8, subjects);
		bind_text(st, 9, grades);
		bind_text(st, 10, manifest_hash);
		bind_text(st, 11, kho_pack_source(in->pack));
		sqlite3_bind_int64(st, 12, (sqlite3_int64)time(NULL));
		bind_text(st, 13, kho_pack_signer(in->pack));
		rc = step_done(in, st, "recording the pack version");
		in->pv = sqlite3_last_insert_rowid(kho_store_db(in->store));
	}
	free(subjects);
	free(grades);
	sqlite3_finalize(st);
	return rc;
}

static int insert_units(install *in)
{
	sqlite3_stmt *st = store_prepare(in->store,
		"INSERT INTO units (pv, unit_id, ord, title, summary) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return kho_error_last_code();
	int rc = KHO_OK;
	for (size_t i = 0; !rc && i < in->m->n_units; i++) {
		const kho_manifest_unit *u = &in->m->units[i];
		sqlite3_bind_int64(st, 1, in->pv);
		bind_text(st, 2, u->id);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		bind_text(st, 4, u->title);
		bind_text(st, 5, u->summary);
		rc = step_done(in, st, "recording a unit");
	}
	sqlite3_finalize(st);
	return rc;
}

/* When the visible version `in->old_pv` has lesson l with the same indexed
 * text, its row is taken over by the new version (pv and the other columns
 * updated) and a copy of it stays with the old version for a rollback: the
 * search index, which holds rows by id, then re-reads only the lessons that
 * changed. *row gets the row taken over, 0 when there is none. */
static int take_over(install *in, const kho_manifest_lesson *l, const char *body,
	const char *subjects, const char *grades, int64_t *row)
{
	*row = 0;
	if (!in->old_pv)
		return KHO_OK;
	const kho_manifest_unit *u = l->unit >= 0 ? &in->m->units[l->unit] : NULL;
	sqlite3_stmt *st = in->same;
	sqlite3_bind_int64(st, 1, in->old_pv);
	bind_text(st, 2, l->id);
	bind_text(st, 3, l->title);
	bind_text(st, 4, l->keywords ? l->keywords : "");
	bind_text(st, 5, u ? u->title : "");
	bind_text(st, 6, l->summary ? l->summary : "");
	bind_text(st, 7, body);
	int src = sqlite3_step(st);
	int64_t old = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return kho_store_error(in->store, src, "comparing a lesson with the old version");
	if (!old)
		return KHO_OK;
	/* the old version's copy, under a provisional lesson id while the
	 * original still holds (old pv, lesson id), with its grades and subjects */
	sqlite3_bind_int64(in->copy, 1, old);
	int rc = step_done(in, in->copy, "keeping a lesson for the old version");
	int64_t copy = sqlite3_last_insert_rowid(kho_store_db(in->store));
	if (!rc) {
		sqlite3_bind_int64(in->copy_tags, 1, copy);
		sqlite3_bind_int64(in->copy_tags, 2, old);
		rc = step_done(in, in->copy_tags, "keeping a lesson for the old version");
	}
	if (!rc) {
		sqlite3_bind_int64(in->drop_tags, 1, old);
		rc = step_done(in, in->drop_tags, "moving a lesson to the new version");
	}
	if (!rc) {
		st = in->move;
		sqlite3_bind_int64(st, 1, old);
		sqlite3_bind_int64(st, 2, in->pv);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)(l - in->m->lessons));
		bind_text(st, 4, l->href);
		bind_text(st, 5, u ? u->id : NULL);
		bind_text(st, 6, subjects);
		bind_text(st, 7, grades);
		rc = step_done(in, st, "moving a lesson to the new version");
	}
	if (!rc) {
		sqlite3_bind_int64(in->rename_copy, 1, copy);
		rc = step_done(in, in->rename_copy, "keeping a lesson for the old version");
	}
	if (!rc)
		*row = old;
	return rc;
}

static int insert_lesson(install *in, const kho_manifest_lesson *l, const char *body)
{
	const kho_manifest *m = in->m;
	const kho_manifest_unit *u = l->unit >= 0 ? &m->units[l->unit] : NULL;
	char *subjects = join_subjects(l->subjects, l->n_subjects);
	char *grades = join_grades(l->grades, l->n_grades);
	sqlite3_stmt *st = in->ins_lesson;
	int rc;
	if (!subjects || !grades) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto done;
	}
	int64_t row = 0;
	if ((rc = take_over(in, l, body, subjects, grades, &row)))
		goto done;
	if (!row) {
		sqlite3_bind_int64(st, 1, in->pv);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(l - m->lessons));
		bind_text(st, 3, l->id);
		bind_text(st, 4, l->href);
		bind_text(st, 5, l->title);
		bind_text(st, 6, l->keywords ? l->keywords : "");
		bind_text(st, 7, l->summary ? l->summary : "");
		bind_text(st, 8, u ? u->id : NULL);
		bind_text(st, 9, u ? u->title : "");
		bind_text(st, 10, subjects);
		bind_text(st, 11, grades);
		bind_text(st, 12, body);
		if ((rc = step_done(in, st, "recording a lesson")))
			goto done;
		row = sqlite3_last_insert_rowid(kho_store_db(in->store));
	}
	for (size_t i = 0; !rc && i < l->n_subjects + l->n_grades; i++) {
		char num[16];
		sqlite3_bind_text(in->ins_tag, 1, i < l->n_subjects ? "subject" : "grade", -1,
			SQLITE_STATIC);
		if (i < l->n_subjects) {
			bind_text(in->ins_tag, 2, l->subjects[i]);
		} else {
			snprintf(num, sizeof num, "%d", l->grades[i - l->n_subjects]);
			sqlite3_bind_text(in->ins_tag, 2, num, -1, SQLITE_TRANSIENT);
		}
		sqlite3_bind_int64(in->ins_tag, 3, row);
		rc = step_done(in, in->ins_tag, "recording a lesson's grade or subject");
	}
done:
	free(subjects);
	free(grades);
	return rc;
}

static int compare_href(const void *a, const void *b)
{
	const kho_manifest_lesson *x = *(const kho_manifest_lesson *const *)a;
	const kho_manifest_lesson *y = *(const kho_manifest_lesson *const *)b;
	int c = strcmp(x->href, y->href);
	return c ? c : (x < y ? -1 : x > y);
}

/* Index range of the lessons whose file is `name`. */
static size_t lessons_for(const install *in, const char *name, size_t *first)
{
	size_t lo = 0, hi = in->m->n_lessons;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(in->by_href[mid]->href, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t n = 0;
	while (lo + n < in->m->n_lessons && !strcmp(in->by_href[lo + n]->href, name))
		n++;
	*first = lo;
	return n;
}

typedef struct entry_sink {
	kho_blob_writer *writer;
	kho_buf *capture;   /* non-NULL for lesson files */
	install *in;
} entry_sink;

static int write_sink(void *payload, const void *data, size_t len)
{
	entry_sink *s = payload;
	int rc = kho_blob_writer_write(s->writer, data, len);
	if (!rc && s->capture) {
		if (s->capture->len + len > MAX_LESSON_FILE)
			return kho_error_set(KHO_ELIMIT, "a lesson file is larger than %u bytes",
				MAX_LESSON_FILE);
		rc = kho_buf_append(s->capture, data, len);
	}
	s->in->info->bytes += len;
	if (!rc && s->in->hooks && s->in->hooks->progress)
		s->in->hooks->progress(s->in->hooks->progress_payload, s->in->info->bytes, s->in->total_bytes);
	return rc;
}

static int install_entry(install *in, size_t i, char manifest_hex[KHO_HASH_HEX_SIZE])
{
	const char *name = kho_pack_entry_name(in->pack, i);
	size_t first = 0, n_lessons = lessons_for(in, name, &first);
	kho_buf capture = { 0 };
	entry_sink sink = { NULL, n_lessons ? &capture : NULL, in };
	kho_hash hash;
	char hex[KHO_HASH_HEX_SIZE];
	uint64_t size = 0;

	int rc = kho_blob_writer_new(&sink.writer, kho_store_blobs(in->store));
	if (rc)
		return rc;
	rc = kho_pack_entry_read(in->pack, i, write_sink, &sink);
	if (rc) {
		kho_blob_writer_free(sink.writer);
		goto done;
	}
	if ((rc = kho_blob_writer_finish(sink.writer, &hash, &size)))
		goto done;
	kho_hash_to_hex(hex, &hash);
	if (!strcmp(name, "manifest.xml"))
		memcpy(manifest_hex, hex, KHO_HASH_HEX_SIZE);
	in->info->files++;

	sqlite3_bind_int64(in->ins_file, 1, in->pv);
	bind_text(in->ins_file, 2, name);
	bind_text(in->ins_file, 3, hex);
	sqlite3_bind_int64(in->ins_file, 4, (sqlite3_int64)size);
	if ((rc = step_done(in, in->ins_file, "recording a file")))
		goto done;

	if (n_lessons && in->pipe) {
		text_job *job = calloc(1, sizeof *job);
		if (!job) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			goto done;
		}
		job->entry = i;
		job->html = capture;
		capture = (kho_buf){ 0 };
		text_pipe_push(in->pipe, job);
	} else if (n_lessons) {
		for (size_t k = 0; !rc && k < n_lessons; k++)
			rc = insert_lesson(in, in->by_href[first + k], "");
		in->info->lessons += (int64_t)n_lessons;
	}
done:
	kho_buf_free(&capture);
	return rc;
}

/* Writes the lesson rows of a lesson file whose text is extracted. */
static int finish_text(install *in, text_job *job)
{
	const char *name = kho_pack_entry_name(in->pack, job->entry);
	size_t first = 0, n_lessons = lessons_for(in, name, &first);
	int rc = job->rc;
	if (rc) {
		kho_error_set(rc, "%s: cannot read the text of '%s': %s", kho_pack_source(in->pack),
			name, job->error);
	} else {
		in->info->text_bytes += job->text ? strlen(job->text) : 0;
		for (size_t k = 0; !rc && k < n_lessons; k++)
			rc = insert_lesson(in, in->by_href[first + k], job->text ? job->text : "");
		in->info->lessons += (int64_t)n_lessons;
	}
	text_job_free(job);
	return rc;
}

/* Writes the rows of every lesson whose text is ready (with `wait`: of all
 * lessons handed over). */
static int finish_texts(install *in, bool wait)
{
	text_job *job;
	int rc = KHO_OK;
	while (!rc && in->pipe && (job = text_pipe_pop(in->pipe, wait)))
		rc = finish_text(in, job);
	return rc;
}

static int version_row(int64_t *out, kho_store *s, const char *pack_id, int64_t version)
{
	sqlite3_stmt *st = store_prepare(s,
		"SELECT id FROM pack_versions WHERE pack_id = ?1 AND version = ?2");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, pack_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	int src = sqlite3_step(st);
	*out = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return kho_store_error(s, src, "reading pack versions");
	return KHO_OK;
}

static int set_current(install *in, bool is_new)
{
	sqlite3_stmt *st = store_prepare(in->store, is_new
		? "INSERT INTO packs (id, current_version) VALUES (?1, ?2)"
		: "UPDATE packs SET current_version = ?2 WHERE id = ?1");
	if (!st)
		return kho_error_last_code();
	bind_text(st, 1, in->m->id);
	sqlite3_bind_int64(st, 2, in->m->version);
	int rc = step_done(in, st, "switching the pack version");
	sqlite3_finalize(st);
	return rc;
}

static int run_install(install *in, int64_t old_pv, bool is_new)
{
	char manifest_hex[KHO_HASH_HEX_SIZE] = "";
	int rc;
	size_t n = kho_pack_entry_count(in->pack);
	for (size_t i = 0; i < n; i++)
		in->total_bytes += kho_pack_entry_size(in->pack, i);

	in->by_href = malloc(in->m->n_lessons * sizeof *in->by_href + 1);
	if (!in->by_href)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; i < in->m->n_lessons; i++)
		in->by_href[i] = &in->m->lessons[i];
	qsort(in->by_href, in->m->n_lessons, sizeof *in->by_href, compare_href);

	/* The packs row must exist before its versions (foreign key); a new pack
	 * points at the version being written, which is only visible at commit. */
	if (is_new && (rc = set_current(in, true)))
		return rc;
	/* The manifest hash is known once its entry is read: the row starts with
	 * a placeholder and is updated below. */
	if ((rc = insert_version(in, "")) || (rc = insert_units(in)))
		return rc;
	in->ins_file = store_prepare(in->store,
		"INSERT INTO files (pv, path, hash, size) VALUES (?1, ?2, ?3, ?4)");
	in->ins_lesson = store_prepare(in->store,
		"INSERT INTO lessons (pv, ord, lesson_id, href, title, keywords, summary, unit_id,"
		" unit_title, subjects, grades, body)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
	in->ins_tag = store_prepare(in->store,
		"INSERT OR IGNORE INTO lesson_tags (kind, value, lesson) VALUES (?1, ?2, ?3)");
	in->old_pv = is_new ? 0 : old_pv;
	in->same = store_prepare(in->store, "SELECT id FROM lessons WHERE pv = ?1 AND"
		" lesson_id = ?2 AND title = ?3 AND keywords = ?4 AND unit_title = ?5 AND summary = ?6"
		" AND body = ?7");
	in->copy = store_prepare(in->store, "INSERT INTO lessons (pv, ord, lesson_id, href, title,"
		" keywords, summary, unit_id, unit_title, subjects, grades, body)"
		" SELECT pv, ord, lesson_id || char(1), href, title, keywords, summary, unit_id,"
		" unit_title, subjects, grades, body FROM lessons WHERE id = ?1");
	in->copy_tags = store_prepare(in->store, "INSERT INTO lesson_tags (kind, value, lesson)"
		" SELECT kind, value, ?1 FROM lesson_tags WHERE lesson = ?2");
	in->drop_tags = store_prepare(in->store, "DELETE FROM lesson_tags WHERE lesson = ?1");
	in->move = store_prepare(in->store, "UPDATE lessons SET pv = ?2, ord = ?3, href = ?4,"
		" unit_id = ?5, subjects = ?6, grades = ?7 WHERE id = ?1");
	in->rename_copy = store_prepare(in->store, "UPDATE lessons SET lesson_id ="
		" substr(lesson_id, 1, length(lesson_id) - 1) WHERE id = ?1");
	if (!in->ins_file || !in->ins_lesson || !in->ins_tag || !in->same || !in->copy ||
	    !in->copy_tags || !in->drop_tags || !in->move || !in->rename_copy)
		return kho_error_last_code();
	double t0 = kho_log_clock();
	if (in->hooks && in->hooks->extract && (rc = text_pipe_start(&in->pipe, in->hooks)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = install_entry(in, i, manifest_hex)) || (rc = finish_texts(in, false)))
			return rc;
	if ((rc = finish_texts(in, true)))
		return rc;
	double t1 = kho_log_clock();

	sqlite3_stmt *st = store_prepare(in->store,
		"UPDATE pack_versions SET manifest = ?2 WHERE id = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, in->pv);
	bind_text(st, 2, manifest_hex);
	rc = step_done(in, st, "recording the manifest");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (!is_new && (rc = set_current(in, false)))
		return rc;
	/* the disk makes the blobs durable while the index is switched */
	kho_blobs_commit_begin(kho_store_blobs(in->store));
	if (in->hooks && in->hooks->switched
		&& (rc = in->hooks->switched(in->hooks->payload, old_pv, in->pv)))
		return rc;
	double t2 = kho_log_clock();
	rc = kho_blobs_commit_end(kho_store_blobs(in->store));
	kho_log_info("%s: files and rows %.2f s, switching versions %.2f s, making blobs durable "
		"%.2f s", in->m->id, t1 - t0, t2 - t1, kho_log_clock() - t2);
	return rc;
}

/* KHO_ESIGNATURE when the visible version of `m`'s pack was signed and
 * `signer` is NULL: a local, unverified pack never replaces a verified one. */
static int check_signer(kho_store *store, const kho_manifest *m, const char *signer)
{
	if (signer)
		return KHO_OK;
	sqlite3_stmt *st = store_prepare(store, "SELECT v.signed_by FROM packs p JOIN pack_versions v"
		" ON v.pack_id = p.id AND v.version = p.current_version WHERE p.id = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	int rc = KHO_OK, src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		rc = kho_error_set(KHO_ESIGNATURE, "pack '%s' is installed with a verified signature "
			"(key %s); this version is not signed, so it cannot replace it", m->id,
			(const char *)sqlite3_column_text(st, 0));
	else if (src != SQLITE_ROW && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "reading the installed version");
	sqlite3_finalize(st);
	return rc;
}

/* Decides what installing `m` means, inside the write transaction so that
 * no other process changes the answer before the install is done. */
static int plan(kho_install_info *info, int64_t *old_pv, bool *is_new, kho_store *store,
	const kho_manifest *m, const char *signer)
{
	int64_t current = 0, same_pv = 0;
	int rc = kho_store_current_version(&current, store, m->id);
	if (rc && rc != KHO_ENOTFOUND)
		return rc;
	*is_new = rc == KHO_ENOTFOUND;
	kho_error_clear();
	if (*is_new)
		return KHO_OK;
	info->previous_version = current;
	if ((rc = version_row(&same_pv, store, m->id, m->version)))
		return rc;
	if (m->version == current && same_pv) {
		info->outcome = KHO_INSTALL_SAME;
		return KHO_OK;
	}
	if (m->version < current || same_pv)
		return kho_error_set(KHO_EVERSION, "pack '%s' version %lld is older than the "
			"installed version %lld; nothing was changed", m->id,
			(long long)m->version, (long long)current);
	if ((rc = check_signer(store, m, signer)))
		return rc;
	info->outcome = KHO_INSTALL_UPGRADED;
	return version_row(old_pv, store, m->id, current);
}

int kho_store_install(kho_install_info *out, kho_store *store, kho_pack *pack,
	const kho_install_hooks *hooks)
{
	const kho_manifest *m = kho_pack_manifest(pack);
	kho_install_info info = { 0 };
	int64_t old_pv = 0;
	bool is_new = false;
	int rc = kho_store_exec(store, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	/* Holding the write lock, no other install is staging blobs: whatever
	 * is in blobs/tmp/ was left by an install that was killed. */
	blobs_clean_tmp(kho_store_blobs(store));
	install in = { .store = store, .pack = pack, .m = m, .hooks = hooks, .info = &info };
	rc = plan(&info, &old_pv, &is_new, store, m, kho_pack_signer(pack));
	if (!rc && info.outcome != KHO_INSTALL_SAME) {
		rc = run_install(&in, old_pv, is_new);
		double t = kho_log_clock();
		if (!rc)
			rc = kho_store_exec(store, "COMMIT;");
		kho_log_info("%s: commit %.2f s", m->id, kho_log_clock() - t);
	}
	text_pipe_free(in.pipe);
	sqlite3_finalize(in.ins_file);
	sqlite3_finalize(in.ins_lesson);
	sqlite3_finalize(in.ins_tag);
	sqlite3_finalize(in.same);
	sqlite3_finalize(in.copy);
	sqlite3_finalize(in.copy_tags);
	sqlite3_finalize(in.drop_tags);
	sqlite3_finalize(in.move);
	sqlite3_finalize(in.rename_copy);
	free(in.by_href);
	if (rc || info.outcome == KHO_INSTALL_SAME) {
		char saved[2048];
		snprintf(saved, sizeof saved, "%s", kho_error_last());
		sqlite3_exec(kho_store_db(store), "ROLLBACK;", NULL, NULL, NULL);
		kho_blobs_abort(kho_store_blobs(store));
		if (rc)
			return kho_error_set(rc, "%s", saved);
	}
	if (is_new)
		info.outcome = KHO_INSTALL_NEW;
	*out = info;
	return KHO_OK;
}

int kho_store_remove(kho_store *store, const char *pack_id, const kho_install_hooks *hooks)
{
	int64_t current = 0, pv = 0;
	int rc = kho_store_exec(store, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	if (!(rc = kho_store_current_version(&current, store, pack_id)))
		rc = version_row(&pv, store, pack_id, current);
	if (!rc && hooks && hooks->switched)
		rc = hooks->switched(hooks->payload, pv, 0);
	if (!rc) {
		sqlite3_stmt *st = store_prepare(store, "DELETE FROM packs WHERE id = ?1");
		if (!st) {
			rc = kho_error_last_code();
		} else {
			sqlite3_bind_text(st, 1, pack_id, -1, SQLITE_STATIC);
			int src = sqlite3_step(st);
			if (src != SQLITE_DONE)
				rc = kho_store_error(store, src, "removing the pack");
			sqlite3_finalize(st);
		}
	}
	if (!rc)
		rc = kho_store_exec(store, "COMMIT;");
	if (rc) {
		char saved[2048];
		snprintf(saved, sizeof saved, "%s", kho_error_last());
		sqlite3_exec(kho_store_db(store), "ROLLBACK;", NULL, NULL, NULL);
		kho_error_set(rc, "%s", saved);
	}
	return rc;
}
