/*
 * convert.c — the importers' entry points: detection of a package by its
 * content (never by its file name), the conversion into a pack folder that
 * is removed again when anything fails, and the report.
 */
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert-private.h"

const char *kho_convert_format_name(kho_convert_format format)
{
	switch (format) {
	case KHO_FORMAT_KHO: return "kho";
	case KHO_FORMAT_SCORM12: return "SCORM 1.2";
	case KHO_FORMAT_SCORM2004: return "SCORM 2004";
	case KHO_FORMAT_IMSCC: return "IMS Common Cartridge";
	case KHO_FORMAT_EPUB: return "EPUB";
	case KHO_FORMAT_H5P: return "H5P";
	}
	return "unknown";
}

void kho_convert_report_free(kho_convert_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->pack_id);
	free(r->title);
	*r = (kho_convert_report){ 0 };
}

/* ------------------------------------------------------------ detection */

static bool has_entry(kho_archive *ar, const char *name)
{
	return kho_archive_entry_find(ar, name) >= 0;
}

/* SCORM and Common Cartridge share imsmanifest.xml: the namespaces and the
 * schema version tell them apart without a full parse. */
static int detect_ims(kho_convert_format *out, kho_archive *ar)
{
	char *xml = NULL;
	size_t len = 0;
	int rc = kho_archive_entry_read_all(&xml, &len, ar,
		(size_t)kho_archive_entry_find(ar, "imsmanifest.xml"), CONV_MAX_DOC);
	if (rc)
		return rc;
	if (strstr(xml, "imsccv1p") || strstr(xml, "IMS Common Cartridge")
		|| strstr(xml, "/imscc_v1p") || strstr(xml, "imsglobal.org/xsd/imscc"))
		*out = KHO_FORMAT_IMSCC;
	else if (strstr(xml, "adlcp_v1p3") || strstr(xml, "imscp_v1p1\"")
		|| strstr(xml, "<schemaversion>2004") || strstr(xml, "CAM 1.3"))
		*out = KHO_FORMAT_SCORM2004;
	else
		*out = KHO_FORMAT_SCORM12;
	free(xml);
	return KHO_OK;
}

/* Says why a package is none kho knows, as precisely as it can. */
static int unknown(kho_archive *ar)
{
	const char *src = kho_archive_source(ar);
	size_t n = kho_archive_entry_count(ar);
	for (size_t i = 0; i < n; i++) {
		const char *name = kho_archive_entry_name(ar, i);
		const char *slash = strrchr(name, '/');
		if (!conv_is_junk(name) && slash && (!strcmp(slash + 1, "imsmanifest.xml")
			|| !strcmp(slash + 1, "manifest.xml") || !strcmp(slash + 1, "h5p.json")))
			return kho_error_set(KHO_EINVALID, "%s: its %s is in the sub-folder '%.*s/', not "
				"at the top of the package (zip the folder's content, not the folder)", src,
				slash + 1, (int)(slash - name), name);
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = kho_archive_entry_name(ar, i);
		if (conv_has_ext(name, "cst") || conv_has_ext(name, "au") || conv_has_ext(name, "crs")
			|| conv_has_ext(name, "des"))
			return kho_error_set(KHO_EINVALID, "%s: an AICC course ('%s'), which kho does "
				"not import; export the course as SCORM instead", src, name);
	}
	return kho_error_set(KHO_EINVALID, "%s: not a package kho knows: none of manifest.xml "
		"(kho pack), imsmanifest.xml (SCORM, IMS Common Cartridge), META-INF/container.xml "
		"or mimetype (EPUB), h5p.json (H5P) is at its top", src);
}

int conv_detect_archive(kho_convert_format *out, kho_archive *ar)
{
	if (has_entry(ar, "manifest.xml"))
		*out = KHO_FORMAT_KHO;
	else if (has_entry(ar, "imsmanifest.xml"))
		return detect_ims(out, ar);
	else if (has_entry(ar, "META-INF/container.xml") || has_entry(ar, "mimetype"))
		*out = KHO_FORMAT_EPUB;
	else if (has_entry(ar, "h5p.json"))
		*out = KHO_FORMAT_H5P;
	else
		return unknown(ar);
	return KHO_OK;
}

int kho_convert_detect(kho_convert_format *out, const char *path)
{
	kho_archive *ar = NULL;
	int rc = kho_archive_open(&ar, path);
	kho_convert_format f = KHO_FORMAT_KHO;
	if (!rc)
		rc = conv_detect_archive(&f, ar);
	kho_archive_free(ar);
	if (!rc)
		*out = f;
	return rc;
}

/* ----------------------------------------------------------- conversion */

static int run(conv *c, kho_convert_format format)
{
	switch (format) {
	case KHO_FORMAT_SCORM12:
	case KHO_FORMAT_SCORM2004: return conv_scorm(c, format);
	case KHO_FORMAT_IMSCC: return conv_imscc(c);
	case KHO_FORMAT_EPUB: return conv_epub(c);
	case KHO_FORMAT_H5P: return conv_h5p(c);
	case KHO_FORMAT_KHO: break;
	}
	return kho_error_set(KHO_EINVALID, "%s is a kho pack already; there is nothing to convert",
		kho_archive_source(c->ar));
}

static void conv_free(conv *c)
{
	free(c->pack_id);
	free(c->title);
	free(c->summary);
	free(c->publisher);
	free(c->license);
	free(c->lang);
	free(c->keywords);
	conv_buf_free(&c->body);
	conv_buf_free(&c->pending_unit);
	conv_set_free(&c->ids);
	conv_set_free(&c->files);
}

/* Converts the opened archive into `out_dir` (NULL: a dry run). */
static int convert_archive(kho_convert_report *report, kho_archive *ar, const char *out_dir,
	kho_convert_format format, const void *head, size_t head_len)
{
	kho_convert_report scratch = { 0 };
	conv c = { .ar = ar, .report = report ? report : &scratch, .out_dir = out_dir,
		.version = 1 };
	c.head_len = head_len < sizeof c.head ? head_len : sizeof c.head;
	if (head)
		memcpy(c.head, head, c.head_len);
	int rc = conv_detect_archive(&c.report->format, ar);
	if (!rc && format != KHO_FORMAT_KHO)
		c.report->format = format;
	if (!rc)
		rc = run(&c, c.report->format);
	if (!rc)
		rc = conv_finish(&c);
	conv_free(&c);
	kho_convert_report_free(&scratch);
	return rc;
}

/* Converts `input` into the existing empty folder `out_dir`; removes the
 * folder when it fails, keeping the error that made it fail. */
static int convert_path(kho_convert_report *report, const char *input, const char *out_dir)
{
	kho_archive *ar = NULL;
	int rc = kho_archive_open(&ar, input);
	unsigned char head[64];
	size_t head_len = 0;
	struct stat st;
	if (!rc && stat(input, &st) == 0 && S_ISREG(st.st_mode)) {
		FILE *f = fopen(input, "rb");
		if (f) {
			head_len = fread(head, 1, sizeof head, f);
			fclose(f);
		}
	}
	if (!rc)
		rc = convert_archive(report, ar, out_dir, KHO_FORMAT_KHO, head, head_len);
	kho_archive_free(ar);
	if (rc) {
		char message[2048];
		snprintf(message, sizeof message, "%s", kho_error_last());
		kho_convert_remove(out_dir);
		kho_error_set(rc, "%s", message);
	}
	return rc;
}

int kho_convert(kho_convert_report *report, const char *input, const char *out_dir)
{
	if (mkdir(out_dir, 0755) != 0)
		return kho_error_set(errno == EEXIST ? KHO_EEXISTS : KHO_EIO, "cannot make the "
			"folder %s: %s", out_dir, strerror(errno));
	return convert_path(report, input, out_dir);
}

int kho_convert_to_temp(char **out_dir, kho_convert_report *report, const char *input)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = NULL;
	if (asprintf(&dir, "%s/kho-convert-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	if (!mkdtemp(dir)) {
		int rc = kho_error_set(KHO_EIO, "cannot make a temporary folder in %s: %s",
			tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(dir);
		return rc;
	}
	int rc = convert_path(report, input, dir);
	if (rc) {
		free(dir);
		return rc;
	}
	*out_dir = dir;
	return KHO_OK;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT;
}

int kho_convert_remove(const char *dir)
{
	if (!dir)
		return KHO_OK;
	struct stat st;
	if (lstat(dir, &st) != 0 && errno == ENOENT)
		return KHO_OK;
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return kho_error_set(KHO_EIO, "cannot remove %s entirely: %s", dir, strerror(errno));
	return KHO_OK;
}

int kho_convert_check_buffer(kho_convert_report *report, const void *data, size_t len,
	const char *name, kho_convert_format format)
{
	kho_archive *ar = NULL;
	int rc = kho_archive_open_buffer(&ar, data, len, name);
	if (!rc)
		rc = convert_archive(report, ar, NULL, format, data, len);
	kho_archive_free(ar);
	return rc;
}
