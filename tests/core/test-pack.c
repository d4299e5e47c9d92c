/* test-pack.c — opening packs from folders, zip files and memory; entries
 * streamed with their sizes checked; unsafe containers refused. */
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "../../core/core-private.h"
#include "kho-test.h"

static const char *files[] = {
	"manifest.xml", "lessons/duong-tron.html", "lessons/ban-hang.html", "lessons/ban-be.html",
};

/* Writes the mini pack as a zip, plus one extra entry when `extra` is set. */
static char *make_zip(const char *dir, const char *name, const char *extra, bool symlink)
{
	char *path = kho_path_join(dir, name);
	int err = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *rel = kho_path_join("packs/mini", files[i]);
		char *src = kho_test_data(rel);
		zip_source_t *zs = zip_source_file(za, src, 0, -1);
		zip_file_add(za, files[i], zs, ZIP_FL_ENC_UTF_8);
		free(rel);
		free(src);
	}
	if (extra) {
		zip_source_t *zs = zip_source_buffer(za, "x", 1, 0);
		zip_int64_t idx = zip_file_add(za, extra, zs, ZIP_FL_ENC_RAW);
		if (symlink)
			zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
				(zip_uint32_t)(S_IFLNK | 0777) << 16);
	}
	CHECK(zip_close(za) == 0);
	return path;
}

static int sink_count(void *payload, const void *data, size_t len)
{
	(void)data;
	*(size_t *)payload += len;
	return 0;
}

static void refused(const char *path, int code, const char *needle, int line)
{
	kho_pack *p = NULL;
	int rc = kho_pack_open(&p, path);
	if (rc != code || !strstr(kho_error_last(), needle) || p) {
		fprintf(stderr, "%s:%d: %s: expected %d with \"%s\", got %d: %s\n", __FILE__, line,
			path, code, needle, rc, kho_error_last());
		kho_test_failures++;
	}
	kho_pack_free(p);
}
#define REFUSED(path, code, needle) refused(path, code, needle, __LINE__)

static char *write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = kho_path_join(dir, name);
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

int main(void)
{
	char *dir = kho_test_tmpdir("pack");
	kho_pack *p = NULL;

	/* a folder */
	char *folder = kho_test_data("packs/mini");
	CHECK_OK(kho_pack_open(&p, folder));
	if (p) {
		CHECK(kho_pack_entry_count(p) == 4);
		CHECK_STR(kho_pack_manifest(p)->id, "test.mini");
		long i = kho_pack_entry_find(p, "lessons/ban-be.html");
		CHECK(i >= 0);
		size_t seen = 0;
		CHECK_OK(kho_pack_entry_read(p, (size_t)i, sink_count, &seen));
		CHECK(seen == kho_pack_entry_size(p, (size_t)i));
		CHECK(kho_pack_entry_find(p, "nope") == -1);
	}
	kho_pack_free(p);

	/* the same pack as a zip, from a file and from memory */
	char *zip = make_zip(dir, "mini.kho", NULL, false);
	CHECK_OK(kho_pack_open(&p, zip));
	if (p)
		CHECK(kho_pack_entry_count(p) == 4);
	kho_pack_free(p);
	FILE *f = fopen(zip, "rb");
	char buf[65536];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	CHECK_OK(kho_pack_open_buffer(&p, buf, len, "mini.kho"));
	if (p) {
		char *text = NULL;
		size_t tlen = 0;
		CHECK_OK(kho_pack_entry_read_all(&text, &tlen, p, 0, 1 << 20));
		CHECK(tlen == kho_pack_entry_size(p, 0));
		free(text);
		CHECK_RC(kho_pack_entry_read_all(&text, &tlen, p, 0, 10), KHO_ELIMIT);
	}
	kho_pack_free(p);

	/* an empty buffer is an empty zip, never the file its name names */
	CHECK_RC(kho_pack_open_buffer(&p, NULL, 0, zip), KHO_EINVALID);

	/* damaged containers */
	CHECK_RC(kho_pack_open_buffer(&p, buf, len / 2, "half.kho"), KHO_EINVALID);
	char *empty = write_file(dir, "empty.kho", "", 0);
	REFUSED(empty, KHO_EINVALID, "not a zip");
	char *text = write_file(dir, "text.kho", "hello, this is not a zip file", 29);
	REFUSED(text, KHO_EINVALID, "not a zip");
	char *cut = write_file(dir, "cut.kho", buf, len - 30);
	REFUSED(cut, KHO_EINVALID, "cut.kho");
	char *missing = kho_path_join(dir, "missing.kho");
	REFUSED(missing, KHO_ENOTFOUND, "no such file");

	/* unsafe entries */
	char *z1 = make_zip(dir, "dotdot.kho", "../../evil.html", false);
	REFUSED(z1, KHO_EUNSAFE, "../../evil.html");
	char *z2 = make_zip(dir, "abs.kho", "/etc/evil", false);
	REFUSED(z2, KHO_EUNSAFE, "/etc/evil");
	char *z3 = make_zip(dir, "link.kho", "lessons/link.html", true);
	REFUSED(z3, KHO_EUNSAFE, "symbolic link");
	char *z4 = make_zip(dir, "latin1.kho", "lessons/caf\xe9.html", false);
	REFUSED(z4, KHO_EUNSAFE, "not valid UTF-8");
	char *z5 = make_zip(dir, "backslash.kho", "..\\..\\evil.html", false);
	REFUSED(z5, KHO_EUNSAFE, "evil.html");

	/* a folder with a link in it, or a missing lesson file */
	char *linkdir = kho_test_tmpdir("linked");
	char *lessons = kho_path_join(linkdir, "lessons");
	mkdir(lessons, 0755);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *rel = kho_path_join("packs/mini", files[i]);
		char *src = kho_test_data(rel);
		char *dst = kho_path_join(linkdir, files[i]);
		FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
		size_t n = fread(buf, 1, sizeof buf, in);
		fwrite(buf, 1, n, out);
		fclose(in);
		fclose(out);
		free(rel);
		free(src);
		free(dst);
	}
	CHECK_OK(kho_pack_open(&p, linkdir));
	kho_pack_free(p);
	char *target = kho_path_join(lessons, "ban-be.html");
	unlink(target);
	REFUSED(linkdir, KHO_EINVALID, "'lessons/ban-be.html' is not in the pack");
	CHECK(symlink("/etc/passwd", target) == 0);
	REFUSED(linkdir, KHO_EUNSAFE, "symbolic link");

	free(target);
	free(lessons);
	free(linkdir);
	free(z1); free(z2); free(z3); free(z4); free(z5);
	free(missing); free(cut); free(text); free(empty);
	free(zip);
	free(folder);
	free(dir);
	return kho_test_done();
}
