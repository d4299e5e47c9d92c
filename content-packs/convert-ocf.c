/*
 * convert-ocf.c — the container rules of EPUB (OCF 3.3, section 4) that
 * core's checks of any zip do not cover: a first entry "mimetype", stored,
 * without extra field, holding "application/epub+zip"; no file name with a
 * character OCF forbids; no two names that are equal once case-folded and
 * normalised (they would overwrite each other on many file systems).
 * Reading systems refuse such books, and so does kho, naming the rule.
 */
#include <utf8proc.h>

#include "convert-private.h"

#define MIMETYPE "application/epub+zip"

static int check_mimetype(conv *c)
{
	const char *src = kho_archive_source(c->ar);
	long i = kho_archive_entry_find(c->ar, "mimetype");
	if (i < 0)
		return kho_error_set(KHO_EINVALID, "%s: no 'mimetype' file; an EPUB begins with one "
			"holding '" MIMETYPE "' (OCF)", src);
	char *data = NULL;
	size_t len = 0;
	int rc = kho_archive_entry_read_all(&data, &len, c->ar, (size_t)i, 1024);
	if (rc)
		return rc;
	bool ok = len == strlen(MIMETYPE) && !memcmp(data, MIMETYPE, len);
	free(data);
	if (!ok)
		return kho_error_set(KHO_EINVALID, "%s: the 'mimetype' file does not hold exactly '"
			MIMETYPE "'", src);
	/* In a zip, the local header of the first entry: name at byte 30,
	 * then (no extra field) the stored content. */
	static const char expect[] = "mimetype" MIMETYPE;
	if (c->head_len && (c->head_len < 30 + sizeof expect - 1 || memcmp(c->head, "PK\3\4", 4)
		|| memcmp(c->head + 30, expect, sizeof expect - 1)))
		return kho_error_set(KHO_EINVALID, "%s: the 'mimetype' entry must be the first of the "
			"zip, stored uncompressed and without an extra field (OCF)", src);
	return KHO_OK;
}

/* True when code point `cp` may not appear in an OCF file name. */
static bool forbidden(utf8proc_int32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)
		|| (cp < 0x80 && strchr("\"*:<>?\\|", cp))
		|| (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xfdd0 && cp <= 0xfdef)
		|| (cp >= 0xfff0 && cp <= 0xffff) || (cp >= 0xe0000 && cp <= 0xe0fff)
		|| cp >= 0xf0000;
}

static int check_name(conv *c, const char *name)
{
	const char *src = kho_archive_source(c->ar);
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)name;
	utf8proc_int32_t cp, prev = 0;
	utf8proc_ssize_t n;
	while (*p && (n = utf8proc_iterate(p, -1, &cp)) > 0) {
		if (forbidden(cp))
			return kho_error_set(KHO_EINVALID, "%s: the file name '%s' has a character that "
				"EPUB forbids (OCF)", src, name);
		if (cp == '/' && prev == '.')
			return kho_error_set(KHO_EINVALID, "%s: the name '%s' has a part ending in '.', "
				"which EPUB forbids (OCF)", src, name);
		prev = cp;
		p += n;
	}
	if (prev == '.')
		return kho_error_set(KHO_EINVALID, "%s: the file name '%s' ends in '.', which EPUB "
			"forbids (OCF)", src, name);
	return KHO_OK;
}

int conv_epub_check_ocf(conv *c)
{
	int rc = check_mimetype(c);
	conv_set folded = { 0 };
	size_t n = kho_archive_entry_count(c->ar);
	for (size_t i = 0; i < n && !rc; i++) {
		const char *name = kho_archive_entry_name(c->ar, i);
		if ((rc = check_name(c, name)))
			break;
		utf8proc_uint8_t *key = NULL;
		if (utf8proc_map((const utf8proc_uint8_t *)name, 0, &key, UTF8PROC_NULLTERM
			| UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0) {
			rc = kho_error_set(KHO_EINVALID, "%s: the file name '%s' is not valid Unicode",
				kho_archive_source(c->ar), name);
			break;
		}
		if (conv_set_has(&folded, (const char *)key))
			rc = kho_error_set(KHO_EINVALID, "%s: '%s' and another file have the same name "
				"once case and Unicode normalisation are ignored, which EPUB forbids (OCF)",
				kho_archive_source(c->ar), name);
		else
			rc = conv_set_add(&folded, (const char *)key);
		free(key);
	}
	conv_set_free(&folded);
	return rc;
}
