/*
 * server-config.c — the settings a school changes, in a small text file
 * ($KHO_HOME/kho.conf unless `kho serve --config FILE`): one `key = value`
 * per line, `#` starts a comment, blank lines are ignored. The keys are in
 * tools/kho.conf.example. A key kho does not know, or a value it cannot use,
 * stops the server with the line named: a typo must not silently leave the
 * box on the wrong address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server.h"

#define MAX_LINE 1024
#define MAX_LINES 1000

void server_config_free(server_config *cfg)
{
	free(cfg->listen);
	free(cfg->name);
	*cfg = (server_config){ 0 };
}

int server_parse_listen(struct sockaddr_storage *out, size_t *out_len, const char *listen)
{
	memset(out, 0, sizeof *out);
	const char *colon = strrchr(listen, ':');
	char host[64];
	size_t host_len = colon ? (size_t)(colon - listen) : 0;
	if (!colon || host_len == 0 || host_len >= sizeof host)
		return kho_error_set(KHO_EINVALID, "'%s' is not ADDRESS:PORT (e.g. 0.0.0.0:8080)",
			listen);
	memcpy(host, listen, host_len);
	host[host_len] = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port > 65535)
		return kho_error_set(KHO_EINVALID, "'%s': the port must be a number up to 65535",
			listen);
	if (host[0] == '[' && host[host_len - 1] == ']') {
		host[host_len - 1] = '\0';
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return kho_error_set(KHO_EINVALID, "'%s' is not an IPv6 address", host + 1);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*out_len = sizeof *a;
		return KHO_OK;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)out;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return kho_error_set(KHO_EINVALID, "'%s' is not an IPv4 address (e.g. 0.0.0.0 for "
			"every network of this machine)", host);
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*out_len = sizeof *a;
	return KHO_OK;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static int set_text(char **field, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return kho_error_set(KHO_ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return KHO_OK;
}

static int set_key(server_config *cfg, const char *path, int line, const char *key,
	const char *value)
{
	if (!kho_utf8_valid(value, strlen(value)))
		return kho_error_set(KHO_EINVALID, "%s:%d: the value is not UTF-8 text", path, line);
	if (!strcmp(key, "listen")) {
		struct sockaddr_storage a;
		size_t n;
		if (server_parse_listen(&a, &n, value))
			return kho_error_set(KHO_EINVALID, "%s:%d: listen: %s", path, line,
				kho_error_last());
		return set_text(&cfg->listen, value);
	}
	if (!strcmp(key, "name"))
		return set_text(&cfg->name, value);
	if (!strcmp(key, "admin_password_hash")) {
		/* kept by early configuration files: administrators are accounts now */
		kho_log_warn("%s:%d: admin_password_hash is not used: make an administrator with "
			"kho user add NAME --admin", path, line);
		return KHO_OK;
	}
	if (!strcmp(key, "threads") || !strcmp(key, "idle_timeout")) {
		bool threads = !strcmp(key, "threads");
		unsigned long max = threads ? 64 : 3600;
		char *end;
		errno = 0;
		unsigned long n = strtoul(value, &end, 10);
		if (errno || end == value || *end || n < 1 || n > max)
			return kho_error_set(KHO_EINVALID, "%s:%d: %s must be a number from 1 to %lu",
				path, line, key, max);
		*(threads ? &cfg->threads : &cfg->idle_timeout) = (unsigned)n;
		return KHO_OK;
	}
	return kho_error_set(KHO_EINVALID, "%s:%d: unknown setting '%s' (see kho.conf.example)",
		path, line, key);
}

int server_config_read(server_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return kho_error_set(errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "cannot read %s: %s",
			path, strerror(errno));
	char buf[MAX_LINE + 2];
	int rc = KHO_OK, line = 0;
	while (!rc && fgets(buf, sizeof buf, f)) {
		line++;
		if (line > MAX_LINES) {
			rc = kho_error_set(KHO_ELIMIT, "%s: more than %d lines", path, MAX_LINES);
			break;
		}
		if (strlen(buf) > MAX_LINE && !strchr(buf, '\n')) {
			rc = kho_error_set(KHO_ELIMIT, "%s:%d: line longer than %d bytes", path, line,
				MAX_LINE);
			break;
		}
		char *s = trim(buf);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = kho_error_set(KHO_EINVALID, "%s:%d: expected 'key = value'", path, line);
			break;
		}
		*eq = '\0';
		rc = set_key(cfg, path, line, trim(s), trim(eq + 1));
	}
	if (!rc && ferror(f))
		rc = kho_error_set(KHO_EIO, "cannot read %s", path);
	fclose(f);
	return rc;
}
