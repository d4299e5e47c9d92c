/*
 * pack-dir.c — a pack kept as a folder (an author's source tree, a bundled
 * pack). The folder is walked and read through folder descriptors, one
 * component at a time, never following a link: a symbolic link, a device or
 * any other special file is refused, and a folder swapped for a link while
 * kho works cannot make it read files from elsewhere. Names beginning with
 * '.' (.git, .DS_Store) are skipped. The same caps as for zip files apply.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core-private.h"

#define MAX_DEPTH 32

typedef struct dir_impl {
	char *root;
	int rootfd;
} dir_impl;

/* Opens `rel` (a checked relative path) below the folder `rootfd` without
 * following any link; -1 with errno set on failure. */
static int open_beneath(int rootfd, const char *rel)
{
	char *copy = strdup(rel);
	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	int cur = rootfd, fd = -1;
	char *part = copy, *slash;
	while ((slash = strchr(part, '/'))) {
		*slash = '\0';
		int next = openat(cur, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cur != rootfd)
			close(cur);
		if (next < 0)
			goto done;
		cur = next;
		part = slash + 1;
	}
	/* O_NONBLOCK: a file swapped for a FIFO must not hang the import */
	fd = openat(cur, part, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (cur != rootfd)
		close(cur);
done:
	free(copy);
	return fd;
}

static int read_file(void *impl, const pack_entry *entry,
	int (*sink)(void *payload, const void *data, size_t len), void *payload)
{
	dir_impl *d = impl;
	int rc = KHO_OK;
	int fd = open_beneath(d->rootfd, entry->name);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = kho_error_set(fd < 0 && errno == ELOOP ? KHO_EUNSAFE : KHO_EIO,
			"cannot read %s/%s: %s", d->root, entry->name,
			fd < 0 ? strerror(errno) : "not a regular file");
		goto done;
	}
	static _Thread_local char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = kho_error_set(KHO_EIO, "cannot read %s/%s: %s", d->root, entry->name,
				strerror(errno));
			break;
		}
		if (n == 0 || (rc = sink(payload, chunk, (size_t)n)))
			break;
	}
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

static void close_dir(void *impl)
{
	dir_impl *d = impl;
	if (d->rootfd >= 0)
		close(d->rootfd);
	free(d->root);
	free(d);
}

static const pack_ops dir_ops = { read_file, close_dir };

typedef struct walk {
	const char *root;
	pack_entry *entries;
	size_t count, cap;
} walk;

static int add(walk *w, const char *rel, uint64_t size)
{
	if (w->count == KHO_PACK_MAX_ENTRIES)
		return kho_error_set(KHO_ELIMIT, "%s: more than %d files", w->root, KHO_PACK_MAX_ENTRIES);
	if (size > KHO_PACK_MAX_ENTRY_SIZE)
		return kho_error_set(KHO_ELIMIT, "%s/%s: %llu bytes, more than the %llu allowed",
			w->root, rel, (unsigned long long)size, (unsigned long long)KHO_PACK_MAX_ENTRY_SIZE);
	if (w->count == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		pack_entry *e = realloc(w->entries, cap * sizeof *e);
		if (!e)
			return kho_error_set(KHO_ENOMEM, "out of memory");
		w->entries = e;
		w->cap = cap;
	}
	if (!(w->entries[w->count].name = strdup(rel)))
		return kho_error_set(KHO_ENOMEM, "out of memory");
	w->entries[w->count].size = size;
	w->entries[w->count].index = w->count;
	w->count++;
	return KHO_OK;
}

/* Walks the folder open as `fd` (taken over and closed), `rel` below the
 * root. */
static int walk_dir(walk *w, int fd, const char *rel, int depth)
{
	if (depth > MAX_DEPTH) {
		close(fd);
		return kho_error_set(KHO_ELIMIT, "%s/%s: folders nest deeper than %d", w->root, rel,
			MAX_DEPTH);
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int rc = kho_error_set(KHO_EIO, "cannot open folder %s/%s: %s", w->root, rel,
			strerror(errno));
		close(fd);
		return rc;
	}
	int rc = KHO_OK;
	struct dirent *de;
	while (!rc && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		char *child = *rel ? kho_path_join(rel, de->d_name) : strdup(de->d_name);
		if (!child) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		char shown[256];
		kho_printable(shown, sizeof shown, child);
		struct stat st;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = kho_error_set(KHO_EIO, "cannot stat %s/%s: %s", w->root, shown, strerror(errno));
		} else if (!kho_path_is_safe(child)) {
			rc = kho_error_set(KHO_EUNSAFE, "%s: the file name '%s' is not allowed in a pack "
				"(must be UTF-8, without control characters, backslashes or colons)",
				w->root, shown);
		} else if (S_ISLNK(st.st_mode)) {
			rc = kho_error_set(KHO_EUNSAFE, "%s/%s is a symbolic link; packs may not contain "
				"links", w->root, shown);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(dir), de->d_name,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = sub < 0 ? kho_error_set(KHO_EUNSAFE, "cannot open folder %s/%s: %s", w->root,
				shown, strerror(errno)) : walk_dir(w, sub, child, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			rc = add(w, child, (uint64_t)st.st_size);
		} else {
			rc = kho_error_set(KHO_EUNSAFE, "%s/%s is not a regular file", w->root, shown);
		}
		free(child);
	}
	closedir(dir);
	return rc;
}

int pack_dir_open(void **out_impl, const pack_ops **out_ops, pack_entry **out_entries,
	size_t *out_count, const char *path)
{
	walk w = { .root = path };
	dir_impl *d = calloc(1, sizeof *d);
	if (!d || !(d->root = strdup(path))) {
		free(d);
		return kho_error_set(KHO_ENOMEM, "out of memory");
	}
	int rc = KHO_OK, fd = -1;
	d->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0 || (fd = dup(d->rootfd)) < 0)
		rc = kho_error_set(KHO_EIO, "cannot open folder %s: %s", path, strerror(errno));
	else
		rc = walk_dir(&w, fd, "", 0);
	if (rc) {
		pack_entries_free(w.entries, w.count);
		close_dir(d);
		return rc;
	}
	*out_impl = d;
	*out_ops = &dir_ops;
	*out_entries = w.entries;
	*out_count = w.count;
	return KHO_OK;
}
