/*
 * log.c — one-line log messages on stderr, filtered by level. The level comes
 * from $KHO_LOG until a command sets it (--verbose, --quiet).
 */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "kho_core.h"

static int level = -1;

static kho_log_level level_from_env(void)
{
	const char *env = getenv("KHO_LOG");
	if (env) {
		if (!strcmp(env, "error")) return KHO_LOG_ERROR;
		if (!strcmp(env, "info")) return KHO_LOG_INFO;
		if (!strcmp(env, "debug")) return KHO_LOG_DEBUG;
	}
	return KHO_LOG_WARN;
}

void kho_log_set_level(kho_log_level l)
{
	level = (int)l;
}

kho_log_level kho_log_get_level(void)
{
	if (level < 0)
		level = (int)level_from_env();
	return (kho_log_level)level;
}

void kho_log(kho_log_level l, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if ((int)l > (int)kho_log_get_level())
		return;
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "kho: %s: %s\n", names[l], line);
}

double kho_log_clock(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
