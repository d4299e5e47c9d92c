/*
 * kho_convert.h — the importers: converters from foreign lesson packages
 * (SCORM 1.2 and 2004, IMS Common Cartridge 1.1–1.3, EPUB 2 and 3, H5P) to
 * a native kho pack folder (content-packs/FORMAT.md) that kho_pack_open()
 * accepts. What maps to what is written in content-packs/IMPORTERS.md.
 *
 * Foreign packages are read through kho_archive (core), with the same
 * safety rules as packs; their XML is parsed without network, DTD loading
 * or entities. Problems that leave the rest usable (a dangling reference, a
 * dropped script) are warnings in the report; anything else fails with a
 * kho_error whose message names the problem.
 */
#ifndef KHO_CONVERT_H
#define KHO_CONVERT_H

#include <stddef.h>

#include "kho_core.h"

typedef enum kho_convert_format {
	KHO_FORMAT_KHO = 0,    /* a native pack (manifest.xml): nothing to convert */
	KHO_FORMAT_SCORM12,    /* SCORM 1.2 (imsmanifest.xml) */
	KHO_FORMAT_SCORM2004,  /* SCORM 2004, any edition */
	KHO_FORMAT_IMSCC,      /* IMS Common Cartridge 1.0–1.3 (and Canvas exports) */
	KHO_FORMAT_EPUB,       /* EPUB 2 or 3 */
	KHO_FORMAT_H5P,        /* H5P (h5p.json) */
} kho_convert_format;

/* "kho", "SCORM 1.2", "SCORM 2004", "IMS Common Cartridge", "EPUB", "H5P". */
const char *kho_convert_format_name(kho_convert_format format);

/* What a conversion produced; filled by kho_convert(), emptied by
 * kho_convert_report_free(). Zero it before use. */
typedef struct kho_convert_report {
	kho_convert_format format;
	char *pack_id;     /* the pack's id in the manifest */
	char *title;       /* the pack's title */
	size_t lessons;
	size_t units;
	size_t files;      /* files written, manifest.xml included */
	char **warnings;   /* one sentence each, naming the package's part */
	size_t n_warnings;
} kho_convert_report;

/* Frees what the report holds (not the report itself); accepts NULL. */
void kho_convert_report_free(kho_convert_report *report);

/* Says what `path` (a zip file or a folder) is, by its content, not its
 * name: KHO_OK with *out set, or KHO_EINVALID with a message naming the
 * problem when it is no package kho knows (an AICC course, a manifest in a
 * sub-folder, a zip of loose files), or the archive's own error
 * (KHO_ENOTFOUND, KHO_EINVALID for a file that is not a zip, KHO_EUNSAFE,
 * KHO_ELIMIT, KHO_EIO). */
int kho_convert_detect(kho_convert_format *out, const char *path);

/* Converts the foreign package `input` into a new pack folder `out_dir`,
 * which must not exist yet (its parent must). On failure nothing is left at
 * `out_dir`. `report` (may be NULL) gets the outcome, warnings included;
 * free it with kho_convert_report_free() whatever the result.
 * KHO_EINVALID (not a foreign package, or one too broken to convert — the
 * message says what), KHO_EUNSAFE, KHO_ELIMIT, KHO_EEXISTS (out_dir
 * exists), KHO_EIO, KHO_ENOMEM. */
int kho_convert(kho_convert_report *report, const char *input, const char *out_dir);

/* For `kho import`: converts `input` into a new folder under $TMPDIR (or
 * /tmp); *out_dir (malloc'd) names it. Remove it with kho_convert_remove()
 * when done. Errors as kho_convert(). */
int kho_convert_to_temp(char **out_dir, kho_convert_report *report, const char *input);

/* Removes a folder tree that kho_convert() wrote (without following
 * links); accepts NULL. KHO_EIO when something stays behind. */
int kho_convert_remove(const char *dir);

/* Parses the foreign package held in memory (`len` bytes of a zip named
 * `name`) as far as a conversion would, without writing anything: for the
 * fuzz targets. KHO_OK or an error as kho_convert(). `format` says which
 * importer to run; KHO_FORMAT_KHO means "detect". */
int kho_convert_check_buffer(kho_convert_report *report, const void *data, size_t len,
	const char *name, kho_convert_format format);

/* Writes the pack folder `dir` as the .kho zip file `out`, after checking
 * the folder with kho_pack_open(): entries sorted by name, fixed time stamps
 * and modes, deflate level 9, no extra fields, so that the same folder
 * always gives the same bytes (pack-build.c). `out` is replaced whole or
 * not at all, then opened again as a check. Errors of kho_pack_open(), and
 * KHO_EIO when the file cannot be written. */
int kho_pack_build(const char *out, const char *dir);

/* Writes collection `c` (with its items, from kho_store_collection_get())
 * as the native pack `out` (.kho): its lessons in order, each with the
 * files it shows (collection-pack.c). Lessons no longer on the box are left
 * out; KHO_EINVALID when none is left. */
int kho_collection_export(kho_store *store, const kho_collection *c, const char *out);

/* ------------------------------------------------------ lint (lint.c) */

#define KHO_LINT_BIG_FILE (10u << 20)                 /* a warning above */
#define KHO_LINT_MAX_FILE KHO_PACK_MAX_ENTRY_SIZE     /* an error above */

/* One thing `kho pack lint` reports. */
typedef struct kho_lint_issue {
	bool error;      /* else a warning */
	char *file;      /* the pack's file it is about */
	char *message;
} kho_lint_issue;

/* Checks the pack folder or .kho file at `path` (the list is in lint.c and
 * FORMAT.md). Problems of the pack are issues, not errors: KHO_OK with
 * *out (malloc'd) empty when there is nothing to say; KHO_ENOTFOUND or
 * KHO_ENOMEM only when it could not look. */
int kho_lint(kho_lint_issue **out, size_t *out_count, const char *path);
void kho_lint_free(kho_lint_issue *issues, size_t count);

#endif
