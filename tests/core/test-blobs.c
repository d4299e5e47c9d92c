/* test-blobs.c — the content-addressed blob store: staging, commit, abort,
 * deduplication and verification on read. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/core-private.h"
#include "kho-test.h"

static int count_files(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	CHECK_OK(kho_crypto_init());
	char *dir = kho_test_tmpdir("blobs");
	char *tmp = kho_path_join(dir, "tmp");
	kho_blobs *b = NULL;
	CHECK_OK(kho_blobs_open(&b, dir));

	/* BLAKE2b-256 of "abc", a published test vector */
	kho_hash h1, h2, h3;
	char hex[KHO_HASH_HEX_SIZE];
	kho_hash_buffer(&h1, "abc", 3);
	kho_hash_to_hex(hex, &h1);
	CHECK_STR(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	kho_hash back;
	CHECK_OK(kho_hash_from_hex(&back, hex));
	CHECK(!memcmp(back.bytes, h1.bytes, KHO_HASH_SIZE));
	CHECK_RC(kho_hash_from_hex(&back, "xyz"), KHO_EINVALID);

	/* streaming equals one-shot; the same content staged twice is one file */
	kho_blob_writer *w = NULL;
	CHECK_OK(kho_blob_writer_new(&w, b));
	CHECK_OK(kho_blob_writer_write(w, "ab", 2));
	CHECK_OK(kho_blob_writer_write(w, "c", 1));
	uint64_t size = 0;
	CHECK_OK(kho_blob_writer_finish(w, &h2, &size));
	CHECK(size == 3 && !memcmp(h1.bytes, h2.bytes, KHO_HASH_SIZE));
	CHECK_OK(kho_blobs_put(b, &h3, "abc", 3));
	CHECK(count_files(tmp) == 1);

	/* nothing is visible before commit */
	char *path = kho_blobs_path(b, &h1);
	CHECK(access(path, F_OK) != 0);
	CHECK_OK(kho_blobs_commit(b));
	CHECK(access(path, F_OK) == 0);
	CHECK(count_files(tmp) == 0);

	char *data = NULL;
	size_t len = 0;
	CHECK_OK(kho_blobs_read(&data, &len, b, &h1));
	CHECK(len == 3 && !memcmp(data, "abc", 3));
	free(data);

	/* an existing blob is not staged again */
	CHECK_OK(kho_blobs_put(b, &h3, "abc", 3));
	CHECK(count_files(tmp) == 0);

	/* abort drops what was staged */
	kho_hash h4;
	CHECK_OK(kho_blobs_put(b, &h4, "other", 5));
	CHECK(count_files(tmp) == 1);
	kho_blobs_abort(b);
	CHECK(count_files(tmp) == 0);
	char *path4 = kho_blobs_path(b, &h4);
	CHECK(access(path4, F_OK) != 0);
	CHECK_RC(kho_blobs_read(&data, &len, b, &h4), KHO_ENOTFOUND);

	/* an abandoned writer leaves nothing */
	CHECK_OK(kho_blob_writer_new(&w, b));
	CHECK_OK(kho_blob_writer_write(w, "x", 1));
	kho_blob_writer_free(w);
	CHECK(count_files(tmp) == 0);

	/* a damaged blob is reported, not returned */
	FILE *f = fopen(path, "w");
	fputs("abd", f);
	fclose(f);
	CHECK_RC(kho_blobs_read(&data, &len, b, &h1), KHO_ECORRUPT);

	/* a large blob is streamed through a temporary file */
	{
		static char big[1 << 20];
		for (size_t i = 0; i < sizeof big; i++)
			big[i] = (char)(i * 7919 % 251);
		kho_hash whole, streamed;
		kho_hash_buffer(&whole, big, sizeof big);
		CHECK_OK(kho_blob_writer_new(&w, b));
		for (size_t off = 0; off < sizeof big; off += 100000)
			CHECK_OK(kho_blob_writer_write(w, big + off,
				sizeof big - off < 100000 ? sizeof big - off : 100000));
		CHECK(count_files(tmp) == 1);
		CHECK_OK(kho_blob_writer_finish(w, &streamed, &size));
		CHECK(size == sizeof big && !memcmp(whole.bytes, streamed.bytes, KHO_HASH_SIZE));
		CHECK_OK(kho_blobs_commit(b));
		CHECK_OK(kho_blobs_read(&data, &len, b, &whole));
		CHECK(len == sizeof big && !memcmp(data, big, len));
		free(data);
	}

	/* many blobs: the staging set grows */
	for (int i = 0; i < 1000; i++) {
		char s[32];
		int n = snprintf(s, sizeof s, "blob %d", i);
		CHECK_OK(kho_blobs_put(b, &h4, s, (size_t)n));
		CHECK_OK(kho_blobs_put(b, &h4, s, (size_t)n));
	}
	CHECK(count_files(tmp) == 1000);
	CHECK_OK(kho_blobs_commit(b));
	CHECK(count_files(tmp) == 0);

	/* a commit in a thread of its own: the same result; its failure is
	 * told with its message; abort waits for it */
	kho_hash h5;
	CHECK_OK(kho_blobs_put(b, &h5, "in the background", 17));
	char *path5 = kho_blobs_path(b, &h5);
	kho_blobs_commit_begin(b);
	CHECK_OK(kho_blobs_commit_end(b));
	CHECK(access(path5, F_OK) == 0 && count_files(tmp) == 0);
	CHECK_OK(kho_blobs_commit_end(b)); /* nothing staged: nothing to do */
	CHECK_OK(kho_blobs_put(b, &h5, "lost before commit", 18));
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			CHECK(unlinkat(dirfd(d), de->d_name, 0) == 0);
	if (d)
		closedir(d);
	kho_blobs_commit_begin(b);
	CHECK_RC(kho_blobs_commit_end(b), KHO_EIO);
	CHECK(strstr(kho_error_last(), "cannot rename") != NULL);
	kho_blobs_abort(b);
	CHECK_OK(kho_blobs_put(b, &h5, "staged, then dropped", 20));
	kho_blobs_commit_begin(b);
	kho_blobs_abort(b);
	CHECK(count_files(tmp) == 0);
	free(path5);

	free(path);
	free(path4);
	free(tmp);
	free(dir);
	kho_blobs_free(b);
	return kho_test_done();
}
