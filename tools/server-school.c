/*
 * server-school.c — what an administrator decides for the school in the
 * app (docs/api.md "School"): the subscriptions teachers' profiles suggest
 * (sync/suggest.c), accepted with one request. Teachers get 403.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kho_sync.h"
#include "server.h"

static char *dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

static enum MHD_Result suggestions(server_request *r, server_box *box)
{
	kho_suggestion *s = NULL;
	size_t n = 0;
	int rc = kho_sync_suggest(&s, &n, box->store);
	bool synced = rc != KHO_ENOTFOUND;
	if (rc && synced)
		return server_send_failure(r);
	kho_error_clear();
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:I}", "pack", s[i].pack,
			"title", s[i].title, "subjects", s[i].subjects, "grades", s[i].grades,
			"teachers", (json_int_t)s[i].teachers));
	kho_suggestions_free(s, n);
	return server_send_json(r, 200, dump(json_pack("{s:b, s:o}", "synced", synced,
		"suggestions", list)));
}

/* {"packs": [ID, …]}: a subscription to each. */
static enum MHD_Result subscribe(server_request *r, server_box *box)
{
	json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *packs = json_object_get(in, "packs");
	size_t i, added = 0;
	json_t *v;
	int rc = json_is_array(packs) && json_array_size(packs) <= 1000 ? KHO_OK :
		kho_error_set(KHO_EINVALID, "send {\"packs\": [pack id, …]}");
	json_array_foreach(packs, i, v) {
		const char *id = json_string_value(v);
		size_t len = id ? strlen(id) : 0;
		if (rc)
			break;
		if (!len || len > 128 || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789.-") != len) {
			rc = kho_error_set(KHO_EINVALID, "a pack id is lower-case letters, digits, '.' "
				"and '-'");
			break;
		}
		kho_subscription sub = { .pattern = (char *)id, .subject = "", .grade = "",
			.lang = "" };
		rc = kho_store_subscribe(box->store, &sub);
		if (rc == KHO_EEXISTS) {
			kho_error_clear();
			rc = KHO_OK;
		} else if (!rc) {
			added++;
			kho_log_info("subscribed to %s (accepted in the app)", id);
		}
	}
	json_decref(in);
	if (rc == KHO_EINVALID)
		return server_send_error(r, 400, kho_error_last());
	if (rc)
		return server_send_failure(r);
	return server_send_json(r, 200, dump(json_pack("{s:I}", "added", (json_int_t)added)));
}

enum MHD_Result server_school(server_request *r, server_box *box, const kho_user *u,
	const char *rest)
{
	if (!u->admin)
		return server_send_error(r, 403, "only an administrator of the box does this");
	bool get = !strcmp(r->method, "GET") || r->head;
	if (!strcmp(rest, "suggestions") && get)
		return suggestions(r, box);
	if (!strcmp(rest, "subscriptions") && !strcmp(r->method, "POST"))
		return subscribe(r, box);
	return server_send_error(r, 404, "GET /api/school/suggestions, POST /api/school/subscriptions");
}
