/* test-install.c — installing pack versions: new, same again (no-op),
 * upgrade (old kept), older refused, removal, blobs shared across versions,
 * and an install that fails half-way leaving nothing behind. */
#include <dirent.h>
#include <unistd.h>

#include "../../core/core-private.h"
#include "kho-test.h"

static int64_t scalar(kho_store *s, const char *sql)
{
	return kho_test_scalar(kho_store_db(s), sql);
}

static int count_blobs(const char *home)
{
	char *dir = kho_path_join(home, "blobs");
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "tmp"))
			continue;
		char *sub = kho_path_join(dir, de->d_name);
		DIR *d2 = opendir(sub);
		struct dirent *e2;
		while (d2 && (e2 = readdir(d2)))
			n += e2->d_name[0] != '.';
		if (d2)
			closedir(d2);
		free(sub);
	}
	if (d)
		closedir(d);
	free(dir);
	return n;
}

typedef struct calls {
	int extracted, switched;
	int64_t last_old, last_new;
	bool fail;
} calls;

static int extract(void *payload, char **out, const char *html, size_t len)
{
	((calls *)payload)->extracted++;
	*out = strndup(html, len > 20 ? 20 : len);
	return KHO_OK;
}

static int switched(void *payload, int64_t old_pv, int64_t new_pv)
{
	calls *c = payload;
	c->switched++;
	c->last_old = old_pv;
	c->last_new = new_pv;
	return c->fail ? kho_error_set(KHO_EIO, "hook failed on purpose") : KHO_OK;
}

static int install(kho_install_info *info, kho_store *s, const char *pack_dir, calls *c)
{
	kho_install_hooks hooks = { .payload = c, .extract = extract, .switched = switched };
	kho_pack *p = NULL;
	char *path = kho_test_data(pack_dir);
	int rc = kho_pack_open(&p, path);
	if (!rc)
		rc = kho_store_install(info, s, p, &hooks);
	kho_pack_free(p);
	free(path);
	return rc;
}

int main(void)
{
	CHECK_OK(kho_crypto_init());
	char *home = kho_test_tmpdir("home");
	kho_store *s = NULL;
	kho_install_info info;
	calls c = { 0 };
	int64_t v = 0;
	CHECK_OK(kho_store_open(&s, home));

	/* what a killed install left in blobs/tmp goes at the next install */
	char *leftover = kho_path_join(home, "blobs/tmp/blob-left");
	FILE *f = fopen(leftover, "w");
	fputs("half a blob", f);
	fclose(f);

	CHECK_OK(install(&info, s, "packs/mini", &c));
	CHECK(info.outcome == KHO_INSTALL_NEW && info.lessons == 3 && info.files == 4);
	CHECK(access(leftover, F_OK) != 0);
	free(leftover);
	CHECK(c.extracted == 3 && c.switched == 1 && c.last_old == 0 && c.last_new > 0);
	CHECK_OK(kho_store_current_version(&v, s, "test.mini"));
	CHECK(v == 1);
	CHECK(count_blobs(home) == 4);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lesson_tags t JOIN lessons l ON l.id = t.lesson"
		" WHERE l.lesson_id = 'ban-hang' AND t.kind = 'grade'") == 2);
	CHECK(scalar(s, "SELECT COUNT(*) FROM units") == 1);
	CHECK(scalar(s, "SELECT length(manifest) FROM pack_versions") == 64);

	/* the same version again: a no-op that says so */
	CHECK_OK(install(&info, s, "packs/mini", &c));
	CHECK(info.outcome == KHO_INSTALL_SAME);
	CHECK(c.switched == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM pack_versions") == 1);

	/* a newer version: visible, old one kept; shared files stored once */
	int64_t first_pv = c.last_new;
	CHECK_OK(install(&info, s, "packs/mini-v2", &c));
	CHECK(info.outcome == KHO_INSTALL_UPGRADED && info.previous_version == 1);
	CHECK(c.last_old == first_pv && c.last_new > first_pv);
	CHECK_OK(kho_store_current_version(&v, s, "test.mini"));
	CHECK(v == 2);
	CHECK(scalar(s, "SELECT COUNT(*) FROM pack_versions") == 2);
	/* v2 adds a manifest and one new lesson file; the other two are shared */
	CHECK(count_blobs(home) == 6);

	kho_pack_info *infos = NULL;
	size_t n = 0;
	CHECK_OK(kho_store_list_packs(&infos, &n, s));
	CHECK(n == 1 && infos[0].version == 2 && infos[0].lessons == 3 && infos[0].older_versions == 1);
	kho_pack_info_free(infos, n);

	/* an older version is refused and changes nothing */
	CHECK_RC(install(&info, s, "packs/mini", &c), KHO_EVERSION);
	CHECK(strstr(kho_error_last(), "older") != NULL);
	CHECK_OK(kho_store_current_version(&v, s, "test.mini"));
	CHECK(v == 2);

	/* a failure inside the transaction rolls everything back */
	CHECK_OK(kho_store_exec(s, "UPDATE packs SET current_version = 1;"
		"DELETE FROM pack_versions WHERE version = 2;"));
	int blobs_before = count_blobs(home);
	c.fail = true;
	CHECK_RC(install(&info, s, "packs/mini-v2", &c), KHO_EIO);
	c.fail = false;
	CHECK(strstr(kho_error_last(), "on purpose") != NULL);
	CHECK_OK(kho_store_current_version(&v, s, "test.mini"));
	CHECK(v == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM pack_versions") == 1);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lessons") == 3);
	CHECK(count_blobs(home) == blobs_before);

	/* removal takes every version and row away */
	CHECK_OK(kho_store_remove(s, "test.mini", NULL));
	CHECK(scalar(s, "SELECT COUNT(*) FROM packs") == 0);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lessons") == 0);
	CHECK(scalar(s, "SELECT COUNT(*) FROM files") == 0);
	CHECK(scalar(s, "SELECT COUNT(*) FROM lesson_tags") == 0);
	CHECK_RC(kho_store_remove(s, "test.mini", NULL), KHO_ENOTFOUND);

	kho_store_free(s);
	free(home);
	return kho_test_done();
}
