/*
 * store-collections.c — teachers' collections (tables `collections` and
 * `collection_items`, docs/store.md): named, ordered lists of lessons,
 * private or shared with the school. Who may do what is decided here, in
 * one place: `user_id` is always the teacher asking.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core-private.h"
#include "kho_core.h"

void kho_collection_free(kho_collection *c)
{
	if (!c)
		return;
	kho_collections_free(c, 1);
}

void kho_collections_free(kho_collection *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		free(list[i].name);
		free(list[i].owner);
		free(list[i].pack_id);
		free(list[i].queued);
		for (size_t j = 0; list[i].items && j < list[i].count; j++) {
			free(list[i].items[j].pack);
			free(list[i].items[j].lesson);
			free(list[i].items[j].title);
		}
		free(list[i].items);
	}
	free(list);
}

static int check_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (!len || len > 200 || !kho_utf8_valid(name, len))
		return kho_error_set(KHO_EINVALID, "a collection's name is 1 to 200 bytes of text");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return kho_error_set(KHO_EINVALID, "a collection's name has no control characters");
	return KHO_OK;
}

static int step_done(kho_store *store, sqlite3_stmt *st, const char *what)
{
	int src = st ? sqlite3_step(st) : SQLITE_ERROR;
	int rc = !st ? kho_error_last_code() : src == SQLITE_DONE ? KHO_OK :
		kho_store_error(store, src, what);
	sqlite3_finalize(st);
	return rc;
}

int kho_store_collection_new(int64_t *id, kho_store *store, int64_t user_id, const char *name,
	bool shared)
{
	int rc = check_name(name);
	if (rc)
		return rc;
	/* the id its exported pack will have: random, so that no teacher's name
	 * travels with it (into another box's usage figures, say) */
	unsigned char random[8];
	randombytes_buf(random, sizeof random);
	char pack_id[8 + 2 * sizeof random + 1] = "teacher.";
	sodium_bin2hex(pack_id + 8, sizeof pack_id - 8, random, sizeof random);
	sqlite3_stmt *st = store_prepare(store, "INSERT INTO collections (user_id, name, shared,"
		" pack_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?5, ?4, ?4)");
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, shared);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(st, 5, pack_id, -1, SQLITE_TRANSIENT);
	}
	rc = step_done(store, st, "making a collection");
	if (!rc)
		*id = sqlite3_last_insert_rowid(kho_store_db(store));
	return rc;
}

/* Whether `user_id` may read (KHO_OK), only read (KHO_EDENIED when
 * `write`) or not see (KHO_ENOTFOUND) collection `id`. */
static int access_check(kho_store *store, int64_t id, int64_t user_id, bool write)
{
	sqlite3_stmt *st = store_prepare(store, "SELECT user_id, shared FROM collections"
		" WHERE id = ?1");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, id);
	int src = sqlite3_step(st), rc;
	if (src == SQLITE_ROW) {
		bool mine = sqlite3_column_int64(st, 0) == user_id || user_id == KHO_BOX_ADMIN;
		bool shared = sqlite3_column_int(st, 1);
		rc = mine ? KHO_OK : !shared ? kho_error_set(KHO_ENOTFOUND, "no collection %lld",
			(long long)id) : write ? kho_error_set(KHO_EDENIED, "only its owner changes a "
			"collection") : KHO_OK;
	} else if (src == SQLITE_DONE)
		rc = kho_error_set(KHO_ENOTFOUND, "no collection %lld", (long long)id);
	else
		rc = kho_store_error(store, src, "reading a collection");
	sqlite3_finalize(st);
	return rc;
}

#define COLLECTION_COLUMNS "c.id, c.name, u.name, c.shared, c.user_id = ?1, c.updated_at," \
	" (SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id), c.pack_id," \
	" c.queued"

static int read_collection(kho_collection *c, sqlite3_stmt *st)
{
	*c = (kho_collection){ .id = sqlite3_column_int64(st, 0), .name = store_column_dup(st, 1),
		.owner = store_column_dup(st, 2), .shared = sqlite3_column_int(st, 3),
		.mine = sqlite3_column_int(st, 4), .updated_at = sqlite3_column_int64(st, 5),
		.count = (size_t)sqlite3_column_int64(st, 6), .pack_id = store_column_dup(st, 7),
		.queued = sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL : store_column_dup(st, 8) };
	return c->name && c->owner && c->pack_id && (c->queued ||
		sqlite3_column_type(st, 8) == SQLITE_NULL) ? KHO_OK :
		kho_error_set(KHO_ENOMEM, "out of memory");
}

int kho_store_collections(kho_collection **out, size_t *out_count, kho_store *store,
	int64_t user_id)
{
	*out = NULL;
	*out_count = 0;
	sqlite3_stmt *st = store_prepare(store, "SELECT " COLLECTION_COLUMNS " FROM collections c"
		" JOIN users u ON u.id = c.user_id WHERE c.user_id = ?1 OR c.shared OR ?1 = 0"
		" ORDER BY c.user_id = ?1 DESC, c.updated_at DESC, c.id DESC");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, user_id);
	kho_collection *list = NULL;
	size_t n = 0;
	int rc = KHO_OK, src;
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_collection *grown = realloc(list, (n + 1) * sizeof *grown);
		if (!grown) {
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
			break;
		}
		list = grown;
		rc = read_collection(&list[n++], st);
	}
	if (!rc && src != SQLITE_DONE)
		rc = kho_store_error(store, src, "listing collections");
	sqlite3_finalize(st);
	if (rc) {
		kho_collections_free(list, n);
		return rc;
	}
	*out = list;
	*out_count = n;
	return KHO_OK;
}

static int read_items(kho_collection *c, kho_store *store)
{
	sqlite3_stmt *st = store_prepare(store, "SELECT i.pack_id, i.lesson_id, l.title"
		" FROM collection_items i LEFT JOIN packs p ON p.id = i.pack_id"
		" LEFT JOIN pack_versions v ON v.pack_id = p.id AND v.version = p.current_version"
		" LEFT JOIN lessons l ON l.pv = v.id AND l.lesson_id = i.lesson_id"
		" WHERE i.collection_id = ?1 ORDER BY i.position");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, c->id);
	c->items = calloc(c->count ? c->count : 1, sizeof *c->items);
	size_t n = 0;
	int rc = c->items ? KHO_OK : kho_error_set(KHO_ENOMEM, "out of memory"), src = SQLITE_DONE;
	while (!rc && n < c->count && (src = sqlite3_step(st)) == SQLITE_ROW) {
		kho_collection_item *it = &c->items[n++];
		it->pack = store_column_dup(st, 0);
		it->lesson = store_column_dup(st, 1);
		it->title = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : store_column_dup(st, 2);
		if (!it->pack || !it->lesson || (sqlite3_column_type(st, 2) != SQLITE_NULL && !it->title))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (!rc && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = kho_store_error(store, src, "reading a collection");
	c->count = n;
	sqlite3_finalize(st);
	return rc;
}

int kho_store_collection_get(kho_collection **out, kho_store *store, int64_t id,
	int64_t user_id)
{
	*out = NULL;
	int rc = access_check(store, id, user_id, false);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prepare(store, "SELECT " COLLECTION_COLUMNS " FROM collections c"
		" JOIN users u ON u.id = c.user_id WHERE c.id = ?2");
	if (!st)
		return kho_error_last_code();
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, id);
	kho_collection *c = calloc(1, sizeof *c);
	int src = sqlite3_step(st);
	if (!c)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	else if (src != SQLITE_ROW)
		rc = src == SQLITE_DONE ? kho_error_set(KHO_ENOTFOUND, "no collection %lld",
			(long long)id) : kho_store_error(store, src, "reading a collection");
	else
		rc = read_collection(c, st);
	sqlite3_finalize(st);
	if (!rc)
		rc = read_items(c, store);
	if (rc) {
		kho_collection_free(c);
		return rc;
	}
	*out = c;
	return KHO_OK;
}

static int touch(kho_store *store, int64_t id)
{
	sqlite3_stmt *st = store_prepare(store, "UPDATE collections SET updated_at = ?2"
		" WHERE id = ?1");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	}
	return step_done(store, st, "changing a collection");
}

int kho_store_collection_update(kho_store *store, int64_t id, int64_t user_id, const char *name,
	int shared)
{
	int rc = name ? check_name(name) : KHO_OK;
	if (!rc)
		rc = access_check(store, id, user_id, true);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prepare(store, "UPDATE collections SET name = coalesce(?2, name),"
		" shared = CASE WHEN ?3 < 0 THEN shared ELSE ?3 END, updated_at = ?4 WHERE id = ?1");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (name)
			sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, shared < 0 ? -1 : shared > 0);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	}
	return step_done(store, st, "changing a collection");
}

/* KHO_EINVALID unless `pack` is installed with a lesson `lesson`. */
static int lesson_exists(kho_store *store, const char *pack, const char *lesson)
{
	kho_lesson_info *info = NULL;
	int rc = pack && lesson ? kho_store_lesson(&info, store, pack, lesson) :
		kho_error_set(KHO_EINVALID, "a collection's lesson needs a pack and a lesson");
	kho_lesson_info_free(info);
	if (rc == KHO_ENOTFOUND)
		rc = kho_error_set(KHO_EINVALID, "no lesson %s/%s on this box", pack, lesson);
	return rc;
}

static int insert_item(kho_store *store, int64_t id, int64_t position, const char *pack,
	const char *lesson)
{
	sqlite3_stmt *st = store_prepare(store, "INSERT INTO collection_items (collection_id,"
		" position, pack_id, lesson_id) VALUES (?1, ?2, ?3, ?4)");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, position);
		sqlite3_bind_text(st, 3, pack, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, lesson, -1, SQLITE_STATIC);
	}
	return step_done(store, st, "adding to a collection");
}

static int finish(kho_store *store, int rc)
{
	if (!rc)
		rc = kho_store_exec(store, "COMMIT;");
	if (rc) {
		char *message = strdup(kho_error_last());
		sqlite3_exec(kho_store_db(store), "ROLLBACK;", NULL, NULL, NULL);
		kho_error_set(rc, "%s", message ? message : "out of memory");
		free(message);
	}
	return rc;
}

int kho_store_collection_set(kho_store *store, int64_t id, int64_t user_id,
	const kho_collection_item *items, size_t count)
{
	if (count > KHO_COLLECTION_MAX)
		return kho_error_set(KHO_ELIMIT, "a collection holds at most %d lessons",
			KHO_COLLECTION_MAX);
	int rc = kho_store_exec(store, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	rc = access_check(store, id, user_id, true);
	sqlite3_stmt *st = rc ? NULL : store_prepare(store, "DELETE FROM collection_items"
		" WHERE collection_id = ?1");
	if (st)
		sqlite3_bind_int64(st, 1, id);
	if (!rc)
		rc = step_done(store, st, "changing a collection");
	int64_t position = 0;
	for (size_t i = 0; !rc && i < count; i++) {
		bool again = false; /* a lesson listed twice keeps its first place */
		for (size_t k = 0; k < i && !again; k++)
			again = items[k].pack && items[i].pack && items[k].lesson && items[i].lesson &&
				!strcmp(items[k].pack, items[i].pack) && !strcmp(items[k].lesson, items[i].lesson);
		if (!again && !(rc = lesson_exists(store, items[i].pack, items[i].lesson)))
			rc = insert_item(store, id, position++, items[i].pack, items[i].lesson);
	}
	if (!rc)
		rc = touch(store, id);
	return finish(store, rc);
}

int kho_store_collection_add(kho_store *store, int64_t id, int64_t user_id, const char *pack,
	const char *lesson)
{
	int rc = kho_store_exec(store, "BEGIN IMMEDIATE;");
	if (rc)
		return rc;
	rc = access_check(store, id, user_id, true);
	if (!rc)
		rc = lesson_exists(store, pack, lesson);
	sqlite3_stmt *st = rc ? NULL : store_prepare(store, "SELECT count(*), coalesce(max(position)"
		" + 1, 0), coalesce(sum(pack_id = ?2 AND lesson_id = ?3), 0) FROM collection_items"
		" WHERE collection_id = ?1");
	int64_t count = 0, next = 0, there = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, pack, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, lesson, -1, SQLITE_STATIC);
		int src = sqlite3_step(st);
		if (src == SQLITE_ROW) {
			count = sqlite3_column_int64(st, 0);
			next = sqlite3_column_int64(st, 1);
			there = sqlite3_column_int64(st, 2);
		} else
			rc = kho_store_error(store, src, "reading a collection");
		sqlite3_finalize(st);
	} else if (!rc)
		rc = kho_error_last_code();
	if (!rc && !there && count >= KHO_COLLECTION_MAX)
		rc = kho_error_set(KHO_ELIMIT, "a collection holds at most %d lessons",
			KHO_COLLECTION_MAX);
	if (!rc && !there)
		rc = insert_item(store, id, next, pack, lesson);
	if (!rc && !there)
		rc = touch(store, id);
	return finish(store, rc);
}

int kho_store_collection_remove(kho_store *store, int64_t id, int64_t user_id)
{
	int rc = access_check(store, id, user_id, true);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prepare(store, "DELETE FROM collections WHERE id = ?1");
	if (st)
		sqlite3_bind_int64(st, 1, id);
	return step_done(store, st, "removing a collection");
}

int kho_store_collection_queued(kho_store *store, int64_t id, const char *name)
{
	sqlite3_stmt *st = store_prepare(store, "UPDATE collections SET queued = ?2 WHERE id = ?1");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	}
	return step_done(store, st, "recording a collection's pack in the outbox");
}
