/*
 * server-usage.c — what `kho serve` counts for the centre (docs/privacy.md):
 * a search on /api/search (not the completions of /api/suggest), a lesson
 * shown by /api/lessons/PACK/LESSON, a favourite added. The asker is the
 * signed-in teacher's id, else the client's address; core keeps only a
 * hash of it under a key of the day. Counting never fails a request: a
 * problem (the store busy with an install, a full disk) is logged without
 * the query or the address, and the request goes on.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server.h"
#include "usage.h"

/* "u:ID" for a signed-in teacher, "a:ADDRESS" otherwise. */
static void asker(char out[64], server_request *r, const kho_user *user)
{
	if (user) {
		snprintf(out, 64, "u:%lld", (long long)user->id);
		return;
	}
	char ip[48];
	server_client_ip(r, ip);
	snprintf(out, 64, "a:%s", ip);
}

static bool counted(const server_request *r)
{
	return !r->head && !strcmp(r->method, "GET");
}

static void failed(int rc)
{
	if (!rc)
		return;
	kho_log_warn("usage not recorded: %s", kho_error_last());
	kho_error_clear();
}

void server_usage_search(server_request *r, server_box *box, const kho_user *user,
	const kho_search_query *q, const kho_search_result *res)
{
	if (!counted(r) || !q->text || !res)
		return;
	char who[64];
	asker(who, r, user);
	failed(kho_store_usage_search(box->store, who, q->text, res->total > 0, q->typing,
		(int64_t)time(NULL)));
}

void server_usage_open(server_request *r, server_box *box, const char *pack, const char *lesson)
{
	if (!counted(r))
		return;
	char csrf[65], who[64];
	kho_user *user = server_session_user(r, box, csrf);
	asker(who, r, user);
	kho_user_free(user);
	failed(kho_store_usage_open(box->store, who, pack, lesson, (int64_t)time(NULL)));
}

void server_usage_favourite(server_request *r, server_box *box, const kho_user *user,
	const char *pack, const char *lesson)
{
	char who[64];
	asker(who, r, user);
	failed(kho_store_usage_favourite(box->store, who, pack, lesson, (int64_t)time(NULL)));
}
