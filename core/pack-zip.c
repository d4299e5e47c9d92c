/*
 * pack-zip.c — the zip container of a pack (.kho files, and the zip files
 * that importers read), through libzip.
 *
 * Every entry is checked before anything is read: names must be safe
 * relative UTF-8 paths (no "..", no absolute path, no backslash), symbolic
 * links and encrypted entries are refused, and the caps of kho_core.h on
 * entry count, entry size, total size and compression ratio stop zip bombs
 * before a byte is inflated. Entry contents are then checked again while
 * they stream (kho_pack_entry_read counts bytes; libzip checks the CRC).
 *
 * Small deflated entries — lesson pages, most of a pack — are inflated by
 * libdeflate instead, whole, into a buffer of their declared size: about
 * twice as fast as zlib's streaming inflate behind libzip. An entry that
 * inflates to more or fewer bytes than declared, or to a different CRC-32,
 * is refused as damaged, as libzip would.
 */
#include <libdeflate.h>
#include <sys/stat.h>
#include <zip.h>

#include "core-private.h"

/* Deflated entries up to this size (declared) are inflated whole. */
#define WHOLE_MAX (4u << 20)

typedef struct zip_impl {
	zip_t *za;
	char *source;  /* the pack's path, for messages */
	struct libdeflate_decompressor *inflater; /* NULL: libzip inflates */
	unsigned char *in, *out; /* an entry's bytes, compressed and not */
	size_t in_cap, out_cap;
} zip_impl;

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return KHO_OK;
	unsigned char *b = realloc(*buf, need);
	if (!b)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	*buf = b;
	*cap = need;
	return KHO_OK;
}

static int zip_error_code(int ze)
{
	switch (ze) {
	case ZIP_ER_MEMORY: return KHO_ENOMEM;
	case ZIP_ER_NOENT: return KHO_ENOTFOUND;
	case ZIP_ER_OPEN:
	case ZIP_ER_READ:
	case ZIP_ER_SEEK: return KHO_EIO;
	case ZIP_ER_CRC: return KHO_ECORRUPT;
	default: return KHO_EINVALID;
	}
}

/* Reads a small deflated entry whole and inflates it with libdeflate. */
static int read_whole(zip_impl *z, const pack_entry *entry,
	int (*sink)(void *payload, const void *data, size_t len), void *payload)
{
	int rc = grow(&z->in, &z->in_cap, entry->comp_size ? entry->comp_size : 1);
	if (!rc)
		rc = grow(&z->out, &z->out_cap, entry->size ? entry->size : 1);
	if (rc)
		return rc;
	zip_file_t *f = zip_fopen_index(z->za, entry->index, ZIP_FL_COMPRESSED);
	if (!f) {
		zip_error_t *err = zip_get_error(z->za);
		return kho_error_set(zip_error_code(zip_error_code_zip(err)),
			"%s: cannot read '%s': %s", z->source, entry->name, zip_error_strerror(err));
	}
	zip_int64_t got = zip_fread(f, z->in, entry->comp_size);
	zip_fclose(f);
	size_t out_len = 0;
	if (got < 0 || (uint64_t)got != entry->comp_size ||
	    libdeflate_deflate_decompress(z->inflater, z->in, (size_t)got, z->out, entry->size,
		    &out_len) != LIBDEFLATE_SUCCESS || out_len != entry->size ||
	    libdeflate_crc32(0, z->out, out_len) != entry->crc)
		return kho_error_set(KHO_ECORRUPT, "%s: cannot read '%s': the entry is damaged "
			"(its data does not inflate to its size and checksum)", z->source, entry->name);
	return sink(payload, z->out, out_len);
}

static int read_entry(void *impl, const pack_entry *entry,
	int (*sink)(void *payload, const void *data, size_t len), void *payload)
{
	zip_impl *z = impl;
	if (z->inflater && entry->deflated && entry->size <= WHOLE_MAX &&
	    entry->comp_size <= WHOLE_MAX)
		return read_whole(z, entry, sink, payload);
	zip_file_t *f = zip_fopen_index(z->za, entry->index, 0);
	if (!f) {
		zip_error_t *err = zip_get_error(z->za);
		return kho_error_set(zip_error_code(zip_error_code_zip(err)),
			"%s: cannot read '%s': %s", z->source, entry->name, zip_error_strerror(err));
	}
	int rc = KHO_OK;
	static _Thread_local char chunk[65536];
	for (;;) {
		zip_int64_t n = zip_fread(f, chunk, sizeof chunk);
		if (n < 0) {
			zip_error_t *err = zip_file_get_error(f);
			rc = kho_error_set(zip_error_code(zip_error_code_zip(err)) == KHO_EIO ? KHO_EIO
				: KHO_ECORRUPT, "%s: cannot read '%s': %s", z->source, entry->name,
				zip_error_strerror(err));
			break;
		}
		if (n == 0)
			break;
		if ((rc = sink(payload, chunk, (size_t)n)))
			break;
	}
	zip_fclose(f);
	return rc;
}

static void close_zip(void *impl)
{
	zip_impl *z = impl;
	zip_discard(z->za);
	if (z->inflater)
		libdeflate_free_decompressor(z->inflater);
	free(z->in);
	free(z->out);
	free(z->source);
	free(z);
}

static const pack_ops zip_ops = { read_entry, close_zip };

static int check_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *st, const char *source)
{
	char shown[128];
	const char *name = st->name;
	size_t len = strlen(name);
	kho_printable(shown, sizeof shown, name);
	if (!kho_utf8_valid(name, len))
		return kho_error_set(KHO_EUNSAFE, "%s: entry name '%s' is not valid UTF-8", source, shown);
	char *path = strdup(name);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	if (len && path[len - 1] == '/')
		path[len - 1] = '\0';
	bool safe = kho_path_is_safe(path);
	free(path);
	if (!safe)
		return kho_error_set(KHO_EUNSAFE, "%s: entry '%s' points outside the pack or has a "
			"forbidden name (absolute path, '..', backslash or control character)", source, shown);

	zip_uint8_t opsys;
	zip_uint32_t attributes;
	if (zip_file_get_external_attributes(za, i, 0, &opsys, &attributes) == 0
		&& opsys == ZIP_OPSYS_UNIX && ((attributes >> 16) & S_IFMT) == S_IFLNK)
		return kho_error_set(KHO_EUNSAFE, "%s: entry '%s' is a symbolic link", source, shown);
	if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD) && st->encryption_method != ZIP_EM_NONE)
		return kho_error_set(KHO_EINVALID, "%s: entry '%s' is encrypted", source, shown);
	if ((st->valid & ZIP_STAT_COMP_METHOD) && !zip_compression_method_supported(st->comp_method, 0))
		return kho_error_set(KHO_EINVALID, "%s: entry '%s' uses an unsupported compression "
			"method (%d)", source, shown, st->comp_method);
	if (st->size > KHO_PACK_MAX_ENTRY_SIZE)
		return kho_error_set(KHO_ELIMIT, "%s: entry '%s' is %llu bytes, more than the %llu "
			"allowed", source, shown, (unsigned long long)st->size,
			(unsigned long long)KHO_PACK_MAX_ENTRY_SIZE);
	if (st->size > 1024 * 1024
		&& st->size / (st->comp_size ? st->comp_size : 1) > KHO_PACK_MAX_RATIO)
		return kho_error_set(KHO_ELIMIT, "%s: entry '%s' expands %llu times (%llu bytes from "
			"%llu): refused as a zip bomb", source, shown,
			(unsigned long long)(st->size / (st->comp_size ? st->comp_size : 1)),
			(unsigned long long)st->size, (unsigned long long)st->comp_size);
	return KHO_OK;
}

int pack_zip_open(void **out_impl, const pack_ops **out_ops, pack_entry **out_entries,
	size_t *out_count, const char *path, const void *data, size_t len)
{
	return pack_zip_open_checked(out_impl, out_ops, out_entries, out_count, path, data, len,
		true);
}

int pack_zip_open_checked(void **out_impl, const pack_ops **out_ops, pack_entry **out_entries,
	size_t *out_count, const char *path, const void *data, size_t len, bool strict)
{
	int flags = ZIP_RDONLY | (strict ? ZIP_CHECKCONS : 0);
	zip_error_t error;
	zip_t *za = NULL;
	pack_entry *entries = NULL;
	size_t count = 0;
	int rc;

	zip_error_init(&error);
	if (data) {
		zip_source_t *src = zip_source_buffer_create(data, len, 0, &error);
		if (src && !(za = zip_open_from_source(src, flags, &error)))
			zip_source_free(src);
	} else {
		int ze = 0;
		za = zip_open(path, flags, &ze);
		if (!za)
			zip_error_init_with_code(&error, ze);
	}
	if (!za) {
		/* The path exists (kho_pack_open checked): only memory and the
		 * operating system's own read errors are not the zip's fault. */
		int ze = zip_error_code_zip(&error);
		if (ze == ZIP_ER_MEMORY)
			rc = kho_error_set(KHO_ENOMEM, "%s: out of memory", path);
		else if (!data && (ze == ZIP_ER_OPEN || ze == ZIP_ER_READ))
			rc = kho_error_set(KHO_EIO, "%s: %s", path, zip_error_strerror(&error));
		else if (ze == ZIP_ER_EXISTS)
			rc = kho_error_set(KHO_EUNSAFE, "%s: two entries have the same name", path);
		else if (ze == ZIP_ER_NOZIP)
			rc = kho_error_set(KHO_EINVALID, "%s: not a zip file (or a truncated one)", path);
		else
			rc = kho_error_set(KHO_EINVALID, "%s: the zip file is damaged (%s)", path,
				zip_error_strerror(&error));
		zip_error_fini(&error);
		return rc;
	}
	zip_error_fini(&error);

	zip_int64_t n = zip_get_num_entries(za, 0);
	if (n < 0) {
		rc = kho_error_set(KHO_EINVALID, "%s: cannot list the entries: %s", path,
			zip_strerror(za));
		goto fail;
	}
	if (n > KHO_PACK_MAX_ENTRIES) {
		rc = kho_error_set(KHO_ELIMIT, "%s: %lld entries, more than the %d allowed", path,
			(long long)n, KHO_PACK_MAX_ENTRIES);
		goto fail;
	}
	entries = calloc((size_t)n + 1, sizeof *entries);
	if (!entries) {
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto fail;
	}
	uint64_t total = 0, total_compressed = 0;
	for (zip_uint64_t i = 0; i < (zip_uint64_t)n; i++) {
		zip_stat_t st;
		if (zip_stat_index(za, i, ZIP_FL_ENC_RAW, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) {
			rc = kho_error_set(KHO_EINVALID, "%s: entry %llu cannot be read: %s", path,
				(unsigned long long)i, zip_strerror(za));
			goto fail;
		}
		if ((rc = check_entry(za, i, &st, path)))
			goto fail;
		size_t nl = strlen(st.name);
		if (nl && st.name[nl - 1] == '/')
			continue; /* a folder entry */
		if (!(entries[count].name = strdup(st.name))) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			goto fail;
		}
		entries[count].size = st.size;
		entries[count].index = i;
		entries[count].comp_size = st.comp_size;
		entries[count].crc = st.crc;
		entries[count].deflated = (st.valid & ZIP_STAT_COMP_METHOD) &&
			(st.valid & ZIP_STAT_COMP_SIZE) && (st.valid & ZIP_STAT_CRC) &&
			st.comp_method == ZIP_CM_DEFLATE;
		count++;
		total += st.size;
		total_compressed += st.comp_size;
	}
	/* Many small entries can make a bomb that no single entry reveals. */
	if (total > KHO_PACK_RATIO_FLOOR
		&& total / (total_compressed ? total_compressed : 1) > KHO_PACK_MAX_RATIO) {
		rc = kho_error_set(KHO_ELIMIT, "%s: its entries expand %llu times (%llu bytes from "
			"%llu): refused as a zip bomb", path,
			(unsigned long long)(total / (total_compressed ? total_compressed : 1)),
			(unsigned long long)total, (unsigned long long)total_compressed);
		goto fail;
	}
	zip_impl *z = calloc(1, sizeof *z);
	if (!z || !(z->source = strdup(path))) {
		free(z);
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
		goto fail;
	}
	z->za = za;
	z->inflater = libdeflate_alloc_decompressor(); /* NULL: libzip does it all */
	*out_impl = z;
	*out_ops = &zip_ops;
	*out_entries = entries;
	*out_count = count;
	return KHO_OK;
fail:
	pack_entries_free(entries, count);
	zip_discard(za);
	return rc;
}
