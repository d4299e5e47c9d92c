/*
 * archive.c — kho_archive: a zip file or a folder read through the same
 * containers as packs (pack-zip.c, pack-dir.c), so that every entry passes
 * the same checks (names, links, caps, zip bombs), but without a manifest.
 * The importers of content-packs/ read foreign packages (SCORM, IMS CC,
 * EPUB, H5P) through it. One difference: libzip's check that every local
 * header agrees with the central directory is skipped, because real
 * packages fail it (the SCORM golf examples); what is read is still checked
 * (names, caps, declared sizes, CRCs).
 */
#include <errno.h>
#include <sys/stat.h>

#include "core-private.h"

struct kho_archive {
	char *source;
	void *impl;
	const pack_ops *ops;
	pack_entry *entries;   /* sorted by name, unique */
	size_t n_entries;
};

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const pack_entry *)a)->name, ((const pack_entry *)b)->name);
}

/* Sorts the entries, then refuses duplicates and totals over the cap. */
static int check_entries(kho_archive *a)
{
	uint64_t total = 0;
	qsort(a->entries, a->n_entries, sizeof *a->entries, compare_entries);
	for (size_t i = 0; i < a->n_entries; i++) {
		if (i && !strcmp(a->entries[i].name, a->entries[i - 1].name)) {
			char shown[256];
			kho_printable(shown, sizeof shown, a->entries[i].name);
			return kho_error_set(KHO_EUNSAFE, "%s: the entry '%s' appears twice", a->source,
				shown);
		}
		total += a->entries[i].size;
		if (total > KHO_PACK_MAX_TOTAL_SIZE)
			return kho_error_set(KHO_ELIMIT, "%s: its files add up to more than %llu bytes",
				a->source, (unsigned long long)KHO_PACK_MAX_TOTAL_SIZE);
	}
	return KHO_OK;
}

static kho_archive *archive_new(const char *source)
{
	kho_archive *a = calloc(1, sizeof *a);
	if (!a || !(a->source = strdup(source))) {
		free(a);
		kho_error_set(KHO_ENOMEM, "out of memory");
		return NULL;
	}
	return a;
}

static int finish_open(kho_archive **out, kho_archive *a, int rc)
{
	if (!rc)
		rc = check_entries(a);
	if (rc) {
		kho_archive_free(a);
		return rc;
	}
	*out = a;
	return KHO_OK;
}

int kho_archive_open(kho_archive **out, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR
			? kho_error_set(KHO_ENOTFOUND, "%s: no such file or folder", path)
			: kho_error_set(KHO_EIO, "%s: %s", path, strerror(errno));
	kho_archive *a = archive_new(path);
	if (!a)
		return KHO_ENOMEM;
	int rc;
	if (S_ISDIR(st.st_mode))
		rc = pack_dir_open(&a->impl, &a->ops, &a->entries, &a->n_entries, path);
	else if (S_ISREG(st.st_mode))
		rc = pack_zip_open_checked(&a->impl, &a->ops, &a->entries, &a->n_entries, path, NULL, 0,
			false);
	else
		rc = kho_error_set(KHO_EINVALID, "%s: neither a file nor a folder", path);
	return finish_open(out, a, rc);
}

int kho_archive_open_buffer(kho_archive **out, const void *data, size_t len, const char *name)
{
	kho_archive *a = archive_new(name ? name : "(memory)");
	if (!a)
		return KHO_ENOMEM;
	/* pack_zip_open reads a NULL buffer as "open the path". */
	int rc = pack_zip_open_checked(&a->impl, &a->ops, &a->entries, &a->n_entries, a->source,
		data ? data : "", data ? len : 0, false);
	return finish_open(out, a, rc);
}

void kho_archive_free(kho_archive *a)
{
	if (!a)
		return;
	if (a->ops && a->impl)
		a->ops->close(a->impl);
	pack_entries_free(a->entries, a->n_entries);
	free(a->source);
	free(a);
}

const char *kho_archive_source(const kho_archive *a)
{
	return a->source;
}

size_t kho_archive_entry_count(const kho_archive *a)
{
	return a->n_entries;
}

const char *kho_archive_entry_name(const kho_archive *a, size_t i)
{
	return i < a->n_entries ? a->entries[i].name : NULL;
}

uint64_t kho_archive_entry_size(const kho_archive *a, size_t i)
{
	return i < a->n_entries ? a->entries[i].size : 0;
}

long kho_archive_entry_find(const kho_archive *a, const char *name)
{
	pack_entry key = { .name = (char *)name };
	const pack_entry *e = bsearch(&key, a->entries, a->n_entries, sizeof key, compare_entries);
	return e ? (long)(e - a->entries) : -1;
}

/* Counts the bytes a container hands over against what it declared. */
typedef struct counting {
	int (*sink)(void *, const void *, size_t);
	void *payload;
	uint64_t seen, declared;
	const char *name;
	const char *source;
} counting;

static int count_sink(void *payload, const void *data, size_t len)
{
	counting *c = payload;
	c->seen += len;
	if (c->seen > c->declared)
		return kho_error_set(KHO_ECORRUPT, "%s: entry '%s' holds more bytes than the %llu "
			"it declares", c->source, c->name, (unsigned long long)c->declared);
	return c->sink(c->payload, data, len);
}

int kho_archive_entry_read(kho_archive *a, size_t i,
	int (*sink)(void *payload, const void *data, size_t len), void *payload)
{
	if (i >= a->n_entries)
		return kho_error_set(KHO_ENOTFOUND, "%s: no entry %zu", a->source, i);
	counting c = { sink, payload, 0, a->entries[i].size, a->entries[i].name, a->source };
	int rc = a->ops->read(a->impl, &a->entries[i], count_sink, &c);
	if (!rc && c.seen != c.declared)
		rc = kho_error_set(KHO_ECORRUPT, "%s: entry '%s' is shorter (%llu bytes) than it "
			"declares (%llu)", a->source, c.name, (unsigned long long)c.seen,
			(unsigned long long)c.declared);
	return rc;
}

static int buf_sink(void *payload, const void *data, size_t len)
{
	return kho_buf_append(payload, data, len);
}

int kho_archive_entry_read_all(char **out, size_t *out_len, kho_archive *a, size_t i,
	size_t max)
{
	if (i < a->n_entries && a->entries[i].size > max)
		return kho_error_set(KHO_ELIMIT, "%s: '%s' is %llu bytes, more than the %zu allowed",
			a->source, a->entries[i].name, (unsigned long long)a->entries[i].size, max);
	kho_buf buf = { 0 };
	int rc = kho_archive_entry_read(a, i, buf_sink, &buf);
	if (!rc)
		rc = kho_buf_append(&buf, "", 0);
	if (rc) {
		kho_buf_free(&buf);
		return rc;
	}
	*out = buf.data;
	*out_len = buf.len;
	return KHO_OK;
}
