/*
 * pack.c — kho_pack: one pack opened from a container (a .kho zip or a
 * folder, see pack-zip.c and pack-dir.c), with its entries checked, its
 * manifest parsed and every lesson file found. Reading an entry verifies its
 * size against what the container declared, so a lying container is caught
 * while streaming, never after.
 */
#include <errno.h>
#include <sys/stat.h>

#include "core-private.h"

struct kho_pack {
	char *source;
	void *impl;
	const pack_ops *ops;
	pack_entry *entries;   /* sorted by name, unique */
	size_t n_entries;
	kho_manifest *manifest;
	char *signer;          /* key id (hex) of a verified signature; NULL: none */
};

void pack_entries_free(pack_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(entries[i].name);
	free(entries);
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const pack_entry *)a)->name, ((const pack_entry *)b)->name);
}

static int check_entries(kho_pack *p)
{
	uint64_t total = 0;
	qsort(p->entries, p->n_entries, sizeof *p->entries, compare_entries);
	for (size_t i = 0; i < p->n_entries; i++) {
		if (i && !strcmp(p->entries[i].name, p->entries[i - 1].name))
			return kho_error_set(KHO_EUNSAFE, "%s: the entry '%s' appears twice",
				p->source, p->entries[i].name);
		total += p->entries[i].size;
		if (total > KHO_PACK_MAX_TOTAL_SIZE)
			return kho_error_set(KHO_ELIMIT, "%s: its files add up to more than %llu bytes",
				p->source, (unsigned long long)KHO_PACK_MAX_TOTAL_SIZE);
	}
	return KHO_OK;
}

static int load_manifest(kho_pack *p)
{
	long i = kho_pack_entry_find(p, "manifest.xml");
	if (i < 0)
		return kho_error_set(KHO_EINVALID, "%s: no manifest.xml at the top of the pack; "
			"is this a kho pack?", p->source);
	char *xml = NULL;
	size_t len = 0;
	int rc = kho_pack_entry_read_all(&xml, &len, p, (size_t)i, KHO_MANIFEST_MAX_SIZE);
	if (rc)
		return rc;
	char *name = kho_path_join(p->source, "manifest.xml");
	if (!name) {
		free(xml);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	rc = kho_manifest_parse(&p->manifest, xml, len, name);
	free(xml);
	free(name);
	if (rc)
		return rc;
	for (size_t j = 0; j < p->manifest->n_lessons; j++) {
		const kho_manifest_lesson *l = &p->manifest->lessons[j];
		if (kho_pack_entry_find(p, l->href) < 0)
			return kho_error_set(KHO_EINVALID, "%s: lesson '%s' (manifest.xml line %d): "
				"its file '%s' is not in the pack", p->source, l->id, l->line, l->href);
	}
	return KHO_OK;
}

static int finish_open(kho_pack **out, kho_pack *p, int rc)
{
	if (!rc)
		rc = check_entries(p);
	if (!rc)
		rc = load_manifest(p);
	if (rc) {
		kho_pack_free(p);
		return rc;
	}
	*out = p;
	return KHO_OK;
}

int kho_pack_open(kho_pack **out, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR
			? kho_error_set(KHO_ENOTFOUND, "%s: no such file or folder", path)
			: kho_error_set(KHO_EIO, "%s: %s", path, strerror(errno));
	kho_pack *p = calloc(1, sizeof *p);
	if (!p || !(p->source = strdup(path))) {
		free(p);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	int rc;
	if (S_ISDIR(st.st_mode))
		rc = pack_dir_open(&p->impl, &p->ops, &p->entries, &p->n_entries, path);
	else if (S_ISREG(st.st_mode))
		rc = pack_zip_open(&p->impl, &p->ops, &p->entries, &p->n_entries, path, NULL, 0);
	else
		rc = kho_error_set(KHO_EINVALID, "%s: neither a file nor a folder", path);
	return finish_open(out, p, rc);
}

int kho_pack_open_buffer(kho_pack **out, const void *data, size_t len, const char *name)
{
	kho_pack *p = calloc(1, sizeof *p);
	if (!p || !(p->source = strdup(name ? name : "(memory)"))) {
		free(p);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	/* pack_zip_open reads a NULL buffer as "open the path": an empty pack
	 * in memory must stay in memory. */
	int rc = pack_zip_open(&p->impl, &p->ops, &p->entries, &p->n_entries, p->source,
		data ? data : "", data ? len : 0);
	return finish_open(out, p, rc);
}

void kho_pack_free(kho_pack *p)
{
	if (p)
		free(p->signer);
	if (!p)
		return;
	if (p->ops && p->impl)
		p->ops->close(p->impl);
	pack_entries_free(p->entries, p->n_entries);
	kho_manifest_free(p->manifest);
	free(p->source);
	free(p);
}

const kho_manifest *kho_pack_manifest(const kho_pack *p)
{
	return p->manifest;
}

const char *kho_pack_source(const kho_pack *p)
{
	return p->source;
}

size_t kho_pack_entry_count(const kho_pack *p)
{
	return p->n_entries;
}

const char *kho_pack_entry_name(const kho_pack *p, size_t i)
{
	return i < p->n_entries ? p->entries[i].name : NULL;
}

uint64_t kho_pack_entry_size(const kho_pack *p, size_t i)
{
	return i < p->n_entries ? p->entries[i].size : 0;
}

long kho_pack_entry_find(const kho_pack *p, const char *name)
{
	pack_entry key = { .name = (char *)name };
	const pack_entry *e = bsearch(&key, p->entries, p->n_entries, sizeof key, compare_entries);
	return e ? (long)(e - p->entries) : -1;
}

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

int kho_pack_entry_read(kho_pack *p, size_t i,
	int (*sink)(void *payload, const void *data, size_t len), void *payload)
{
	if (i >= p->n_entries)
		return kho_error_set(KHO_ENOTFOUND, "%s: no entry %zu", p->source, i);
	counting c = { sink, payload, 0, p->entries[i].size, p->entries[i].name, p->source };
	int rc = p->ops->read(p->impl, &p->entries[i], count_sink, &c);
	if (!rc && c.seen != c.declared)
		rc = kho_error_set(KHO_ECORRUPT, "%s: entry '%s' is shorter (%llu bytes) than it "
			"declares (%llu)", p->source, c.name, (unsigned long long)c.seen,
			(unsigned long long)c.declared);
	return rc;
}

static int buf_sink(void *payload, const void *data, size_t len)
{
	return kho_buf_append(payload, data, len);
}

int kho_pack_entry_read_all(char **out, size_t *out_len, kho_pack *p, size_t i, size_t max)
{
	if (i < p->n_entries && p->entries[i].size > max)
		return kho_error_set(KHO_ELIMIT, "%s: '%s' is %llu bytes, more than the %zu allowed",
			p->source, p->entries[i].name, (unsigned long long)p->entries[i].size, max);
	kho_buf buf = { 0 };
	int rc = kho_pack_entry_read(p, i, buf_sink, &buf);
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

int kho_pack_set_signer(kho_pack *p, const char *key_id)
{
	char *copy = key_id ? strdup(key_id) : NULL;
	if (key_id && !copy)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	free(p->signer);
	p->signer = copy;
	return KHO_OK;
}

const char *kho_pack_signer(const kho_pack *p)
{
	return p->signer;
}
