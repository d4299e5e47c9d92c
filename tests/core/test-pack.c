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

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The offsets in a zip of entry `name`'s local header and central record. */
static void find_entry(const unsigned char *zip, size_t len, const char *name, size_t *local,
	size_t *central)
{
	size_t n = strlen(name);
	*local = *central = SIZE_MAX;
	for (size_t i = 0; i + 46 + n <= len; i++) {
		uint32_t sig = le32(zip + i);
		if (sig == 0x04034b50 && zip[i + 26] == n && !memcmp(zip + i + 30, name, n))
			*local = i;
		if (sig == 0x02014b50 && zip[i + 28] == n && !memcmp(zip + i + 46, name, n))
			*central = i;
	}
	CHECK(*local != SIZE_MAX && *central != SIZE_MAX);
}

/* Reading entry `name` of the zip in `zip` fails as damaged. */
static void damaged_entry(const unsigned char *zip, size_t len, const char *name, int line)
{
	kho_archive *a = NULL;
	int rc = kho_archive_open_buffer(&a, zip, len, "damaged.zip");
	long i = rc ? -1 : kho_archive_entry_find(a, name);
	size_t seen = 0;
	if (i >= 0)
		rc = kho_archive_entry_read(a, (size_t)i, sink_count, &seen);
	if (rc != KHO_ECORRUPT) {
		fprintf(stderr, "%s:%d: %s: expected %d, got %d: %s\n", __FILE__, line, name,
			KHO_ECORRUPT, rc, kho_error_last());
		kho_test_failures++;
	}
	kho_archive_free(a);
}

/* Small deflated entries are inflated whole (libdeflate), larger ones
 * streamed (libzip): either way damage is found, never passed on. */
static void inflating(const char *dir)
{
	static unsigned char big[6u << 20];
	uint32_t seed = 7; /* letters at random: compressible, not a bomb */
	for (size_t i = 0; i < sizeof big; i++) {
		seed = seed * 1103515245u + 12345u;
		big[i] = (unsigned char)('a' + (seed >> 16) % 26);
	}
	char *path = kho_path_join(dir, "inflate.zip");
	int err = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	char *src = kho_test_data("packs/mini/lessons/duong-tron.html");
	zip_file_add(za, "small.html", zip_source_file(za, src, 0, -1), ZIP_FL_ENC_UTF_8);
	zip_file_add(za, "big.txt", zip_source_buffer(za, big, sizeof big, 0), ZIP_FL_ENC_UTF_8);
	CHECK(zip_close(za) == 0);
	free(src);
	FILE *f = fopen(path, "rb");
	unsigned char *zip = malloc(sizeof big);
	size_t len = f && zip ? fread(zip, 1, sizeof big, f) : 0;
	if (f)
		fclose(f);
	CHECK(len > 0 && len < sizeof big);

	/* whole both: the same bytes as the files */
	kho_archive *a = NULL;
	CHECK_OK(kho_archive_open_buffer(&a, zip, len, "inflate.zip"));
	for (long i = 0; a && i < 2; i++) {
		char *data = NULL;
		size_t n = 0;
		CHECK_OK(kho_archive_entry_read_all(&data, &n, a, (size_t)i, 8u << 20));
		CHECK(n == kho_archive_entry_size(a, (size_t)i));
		if (!strcmp(kho_archive_entry_name(a, (size_t)i), "big.txt"))
			CHECK(n == sizeof big && !memcmp(data, big, n));
		free(data);
	}
	kho_archive_free(a);

	unsigned char *copy = malloc(len);
	const char *names[] = { "small.html", "big.txt" };
	for (int e = 0; e < 2; e++) {
		size_t local = 0, central = 0;
		find_entry(zip, len, names[e], &local, &central);
		if (local == SIZE_MAX || central == SIZE_MAX)
			continue;
		size_t data = local + 30 + zip[local + 26] + (zip[local + 27] << 8) + zip[local + 28] +
			(zip[local + 29] << 8);
		uint32_t comp = le32(zip + central + 20), size = le32(zip + central + 24);
		/* a byte of the compressed data changed */
		memcpy(copy, zip, len);
		copy[data + comp / 2] ^= 0x55;
		damaged_entry(copy, len, names[e], __LINE__);
		/* another checksum declared */
		memcpy(copy, zip, len);
		put32(copy + local + 14, le32(zip + local + 14) ^ 1);
		put32(copy + central + 16, le32(zip + central + 16) ^ 1);
		damaged_entry(copy, len, names[e], __LINE__);
		/* a byte fewer or more declared than it inflates to */
		for (int d = -1; d <= 1; d += 2) {
			memcpy(copy, zip, len);
			put32(copy + local + 22, size + (uint32_t)d);
			put32(copy + central + 24, size + (uint32_t)d);
			damaged_entry(copy, len, names[e], __LINE__);
		}
	}
	free(copy);
	free(zip);
	free(path);
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
	inflating(dir);
	free(folder);
	free(dir);
	return kho_test_done();
}
