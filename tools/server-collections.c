/*
 * server-collections.c — teachers' collections in the API (docs/api.md
 * "Collections"): named, ordered lists of lessons, private or shared with
 * the school; exported as a native pack, or queued in the outbox for the
 * centre. Called by server-account.c with the signed-in teacher; who may
 * read or change what is decided by the store (store-collections.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kho_convert.h"
#include "kho_sync.h"
#include "server.h"

static char *dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

static json_t *collection_json(const kho_collection *c)
{
	json_t *j = json_pack("{s:I, s:s, s:s, s:b, s:b, s:I, s:I}", "id", (json_int_t)c->id,
		"name", c->name, "owner", c->owner, "shared", c->shared, "mine", c->mine,
		"updated_at", (json_int_t)c->updated_at, "count", (json_int_t)c->count);
	if (!j || !c->items)
		return j;
	json_t *items = json_array();
	for (size_t i = 0; i < c->count; i++) {
		const kho_collection_item *it = &c->items[i];
		json_array_append_new(items, json_pack("{s:s, s:s, s:o, s:o}", "pack", it->pack,
			"lesson", it->lesson, "title", it->title ? json_string(it->title) : json_null(),
			"url", it->title ? server_lesson_url(it->pack, it->lesson) : json_null()));
	}
	json_object_set_new(j, "items", items);
	return j;
}

/* 400 for malformed input, 403 for another teacher's collection, 404 when
 * it does not exist (or is private to another), 500 otherwise. */
static enum MHD_Result failure(server_request *r, int rc)
{
	switch (rc) {
	case KHO_EINVALID:
	case KHO_ELIMIT:
		return server_send_error(r, 400, kho_error_last());
	case KHO_EDENIED:
		return server_send_error(r, 403, kho_error_last());
	default:
		return server_send_failure(r);
	}
}

static enum MHD_Result send_one(server_request *r, server_box *box, int64_t id,
	const kho_user *u, int status)
{
	kho_collection *c = NULL;
	int rc = kho_store_collection_get(&c, box->store, id, u->id);
	if (rc)
		return failure(r, rc);
	char *json = dump(collection_json(c));
	kho_collection_free(c);
	return server_send_json(r, status, json);
}

static enum MHD_Result list(server_request *r, server_box *box, const kho_user *u)
{
	kho_collection *all = NULL;
	size_t n = 0;
	if (kho_store_collections(&all, &n, box->store, u->id))
		return server_send_failure(r);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, collection_json(&all[i]));
	kho_collections_free(all, n);
	return server_send_json(r, 200, dump(json_pack("{s:o}", "collections", items)));
}

static enum MHD_Result create(server_request *r, server_box *box, const kho_user *u)
{
	json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(in, "name"));
	json_t *shared = json_object_get(in, "shared");
	int64_t id = 0;
	int rc = !name || (shared && !json_is_boolean(shared)) ?
		kho_error_set(KHO_EINVALID, "send {\"name\": …, \"shared\": true or false}") :
		kho_store_collection_new(&id, box->store, u->id, name, json_is_true(shared));
	json_decref(in);
	return rc ? failure(r, rc) : send_one(r, box, id, u, 201);
}

/* {"name"?, "shared"?, "items"?: [{"pack", "lesson"}, …]}: what is given
 * changes; items replace the whole list, in their order. */
static int update(server_request *r, server_box *box, const kho_user *u, int64_t id)
{
	json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *name = json_object_get(in, "name"), *shared = json_object_get(in, "shared");
	json_t *items = json_object_get(in, "items");
	int rc = KHO_OK;
	if (!json_is_object(in) || (name && !json_is_string(name)) ||
	    (shared && !json_is_boolean(shared)) || (items && !json_is_array(items)))
		rc = kho_error_set(KHO_EINVALID, "send {\"name\": text, \"shared\": true or false, "
			"\"items\": [{\"pack\": …, \"lesson\": …}, …]}, each optional");
	size_t n = items ? json_array_size(items) : 0;
	kho_collection_item *list = rc ? NULL : calloc(n ? n : 1, sizeof *list);
	if (!rc && !list)
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		json_t *it = json_array_get(items, i);
		list[i].pack = (char *)json_string_value(json_object_get(it, "pack"));
		list[i].lesson = (char *)json_string_value(json_object_get(it, "lesson"));
		if (!list[i].pack || !list[i].lesson)
			rc = kho_error_set(KHO_EINVALID, "each item is {\"pack\": …, \"lesson\": …}");
	}
	/* the lessons first: when one is not on the box, nothing changes */
	if (!rc && items)
		rc = kho_store_collection_set(box->store, id, u->id, list, n);
	if (!rc && (name || shared))
		rc = kho_store_collection_update(box->store, id, u->id, json_string_value(name),
			shared ? json_is_true(shared) : -1);
	free(list);
	json_decref(in);
	return rc;
}

static enum MHD_Result add(server_request *r, server_box *box, const kho_user *u, int64_t id)
{
	json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *pack = json_string_value(json_object_get(in, "pack"));
	const char *lesson = json_string_value(json_object_get(in, "lesson"));
	int rc = pack && lesson ? kho_store_collection_add(box->store, id, u->id, pack, lesson) :
		kho_error_set(KHO_EINVALID, "send {\"pack\": …, \"lesson\": …}");
	json_decref(in);
	return rc ? failure(r, rc) : send_one(r, box, id, u, 200);
}

/* The collection `id` exported as a pack into a new temporary file, whose
 * name is returned in *path (malloc'd; the caller unlinks it), and the
 * collection's name in *name (malloc'd). With
 * `own_only`, KHO_EDENIED unless the teacher owns it. */
static int export_temp(char **path, char **name, server_box *box, const kho_user *u,
	int64_t id, bool own_only)
{
	*path = NULL;
	*name = NULL;
	kho_collection *c = NULL;
	int rc = kho_store_collection_get(&c, box->store, id, u->id);
	if (!rc && own_only && !c->mine)
		rc = kho_error_set(KHO_EDENIED, "only its owner sends a collection to the centre");
	const char *tmp = getenv("TMPDIR");
	if (!rc && asprintf(path, "%s/kho-export-XXXXXX.kho", tmp && *tmp ? tmp : "/tmp") < 0) {
		*path = NULL;
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	int fd = rc ? -1 : mkstemps(*path, 4);
	if (!rc && fd < 0)
		rc = kho_error_set(KHO_EIO, "cannot make a temporary file: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	if (!rc)
		rc = kho_collection_export(box->store, c, *path);
	if (!rc && !(*name = strdup(c->name)))
		rc = kho_error_set(KHO_ENOMEM, "out of memory");
	if (rc && fd >= 0)
		unlink(*path);
	if (rc) {
		free(*path);
		*path = NULL;
	}
	kho_collection_free(c);
	return rc;
}

/* One export at a time: each reads and writes every file of its lessons. */
static pthread_mutex_t exporting = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result busy(server_request *r)
{
	return server_send_error(r, 503, "another collection is being exported: try again in a "
		"moment");
}

static enum MHD_Result download(server_request *r, server_box *box, const kho_user *u,
	int64_t id)
{
	char *path = NULL, *name = NULL;
	if (pthread_mutex_trylock(&exporting))
		return busy(r);
	int rc = export_temp(&path, &name, box, u, id, false);
	pthread_mutex_unlock(&exporting);
	if (rc)
		return failure(r, rc);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path); /* the open file stays readable until it is sent */
	free(path);
	struct stat st;
	struct MHD_Response *resp = fd >= 0 && fstat(fd, &st) == 0 ?
		MHD_create_response_from_fd((uint64_t)st.st_size, fd) : NULL;
	if (!resp) {
		if (fd >= 0)
			close(fd);
		free(name);
		return server_send_error(r, 500, "cannot read the exported pack");
	}
	/* the collection's name as the file's (RFC 6266), an ASCII one for old
	 * browsers */
	char *escaped = curl_easy_escape(NULL, name, 0);
	char *disposition = NULL;
	if (asprintf(&disposition, "attachment; filename=\"collection-%lld.kho\"%s%s%s",
		(long long)id, escaped ? "; filename*=UTF-8''" : "", escaped ? escaped : "",
		escaped ? ".kho" : "") < 0)
		disposition = NULL;
	curl_free(escaped);
	free(name);
	r->bytes = (uint64_t)st.st_size;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zip");
	if (disposition)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	free(disposition);
	return server_send(r, 200, resp);
}

static enum MHD_Result to_outbox(server_request *r, server_box *box, const kho_user *u,
	int64_t id)
{
	char *path = NULL, *name = NULL, *queued = NULL;
	if (pthread_mutex_trylock(&exporting))
		return busy(r);
	int rc = export_temp(&path, &name, box, u, id, true);
	free(name);
	kho_collection *c = NULL;
	if (!rc)
		rc = kho_store_collection_get(&c, box->store, id, u->id);
	if (!rc)
		rc = cli_collection_queue(&queued, box->store, c, path);
	kho_collection_free(c);
	if (path)
		unlink(path);
	free(path);
	pthread_mutex_unlock(&exporting);
	if (rc)
		return failure(r, rc);
	kho_log_info("collection %lld queued for the centre as %s", (long long)id, queued);
	char *json = dump(json_pack("{s:s}", "queued", queued));
	free(queued);
	return server_send_json(r, 201, json);
}

enum MHD_Result server_collections(server_request *r, server_box *box, const kho_user *u,
	const char *rest)
{
	bool get = !strcmp(r->method, "GET") || r->head, post = !strcmp(r->method, "POST");
	if (!*rest)
		return get ? list(r, box, u) : post ? create(r, box, u) :
			server_send_error(r, 405, "GET or POST /api/collections");
	char *end = NULL;
	errno = 0;
	long long id = strtoll(rest, &end, 10);
	if (errno || id <= 0 || end == rest || (*end && *end != '/'))
		return server_send_error(r, 404, "no such collection");
	const char *what = *end ? end + 1 : "";
	if (!*what && get)
		return send_one(r, box, id, u, 200);
	if (!*what && post) {
		int rc = update(r, box, u, id);
		return rc ? failure(r, rc) : send_one(r, box, id, u, 200);
	}
	if (!*what && !strcmp(r->method, "DELETE")) {
		int rc = kho_store_collection_remove(box->store, id, u->id);
		return rc ? failure(r, rc) : server_send_json(r, 200, dump(json_pack("{s:b}", "ok", 1)));
	}
	if (!strcmp(what, "items") && post)
		return add(r, box, u, id);
	if (!strcmp(what, "export") && get)
		return download(r, box, u, id);
	if (!strcmp(what, "outbox") && post)
		return to_outbox(r, box, u, id);
	return server_send_error(r, 405, "see docs/api.md, Collections");
}
