/*
 * pack-build.c — writes a pack folder as a .kho zip file, deterministically:
 * the same files give the same bytes, whenever and wherever they are built,
 * so that a signature or a content hash of a pack can be reproduced. Entries
 * are in byte order of their names (kho_pack's order), without folder
 * entries; every entry has the same time stamp (1980-01-01 00:00, the zip
 * epoch, written as DOS fields so that no time zone enters), the same Unix
 * mode (0644), deflate at level 9, and no extra fields.
 */
#include <zip.h>

#include "convert-private.h"

/* 1980-01-01 00:00:00 as DOS date and time fields. */
#define DOS_DATE ((0 << 9) | (1 << 5) | 1)
#define DOS_TIME 0

static int zip_fail(zip_t *za, const char *out, const char *what)
{
	int rc = kho_error_set(KHO_EIO, "cannot write %s: %s: %s", out, what, zip_strerror(za));
	zip_discard(za);
	return rc;
}

static int add_entry(zip_t *za, const char *dir, const char *name, const char *out)
{
	char *path = kho_path_join(dir, name);
	if (!path)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	zip_source_t *src = zip_source_file(za, path, 0, 0);
	free(path);
	if (!src)
		return kho_error_set(KHO_EIO, "cannot read %s/%s: %s", dir, name, zip_strerror(za));
	zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(src);
		return kho_error_set(KHO_EIO, "cannot write %s: %s", out, zip_strerror(za));
	}
	zip_uint64_t i = (zip_uint64_t)idx;
	if (zip_set_file_compression(za, i, ZIP_CM_DEFLATE, 9) != 0
		|| zip_file_set_dostime(za, i, DOS_TIME, DOS_DATE, 0) != 0
		|| zip_file_set_external_attributes(za, i, 0, ZIP_OPSYS_UNIX, 0100644u << 16) != 0
		|| zip_file_extra_field_delete(za, i, ZIP_EXTRA_FIELD_ALL, ZIP_FL_LOCAL | ZIP_FL_CENTRAL)
			!= 0)
		return kho_error_set(KHO_EIO, "cannot write %s: %s", out, zip_strerror(za));
	return KHO_OK;
}

int kho_pack_build(const char *out, const char *dir)
{
	kho_pack *pack = NULL;
	int rc = kho_pack_open(&pack, dir);
	if (rc)
		return rc;
	int ze = 0;
	zip_t *za = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &ze);
	if (!za) {
		zip_error_t error;
		zip_error_init_with_code(&error, ze);
		rc = kho_error_set(KHO_EIO, "cannot write %s: %s", out, zip_error_strerror(&error));
		zip_error_fini(&error);
		kho_pack_free(pack);
		return rc;
	}
	size_t n = kho_pack_entry_count(pack);
	for (size_t i = 0; i < n && !rc; i++)
		rc = add_entry(za, dir, kho_pack_entry_name(pack, i), out);
	kho_pack_free(pack);
	if (rc) {
		zip_discard(za);
		return rc;
	}
	/* libzip writes a temporary file beside `out` and renames it on close */
	if (zip_close(za) != 0)
		return zip_fail(za, out, "closing the zip");
	/* what was written must open as a pack again */
	rc = kho_pack_open(&pack, out);
	kho_pack_free(pack);
	return rc;
}
