/*
 * error.c — the project's one error type: a code returned by every fallible
 * call and a message kept per thread, set where the error happens and read by
 * whoever reports it (libgit2's giterr model, reduced to what kho needs).
 */
#include <stdio.h>
#include <string.h>

#include "kho_core.h"

static _Thread_local char last_message[2048];
static _Thread_local int last_code;

const char *kho_error_name(int code)
{
	switch (code) {
	case KHO_OK: return "success";
	case KHO_ERROR: return "error";
	case KHO_ENOMEM: return "out of memory";
	case KHO_ENOTFOUND: return "not found";
	case KHO_EEXISTS: return "already exists";
	case KHO_EINVALID: return "invalid input";
	case KHO_ECORRUPT: return "corrupt data";
	case KHO_EVERSION: return "version conflict";
	case KHO_ENOSPACE: return "no space left";
	case KHO_EIO: return "input/output error";
	case KHO_ESIGNATURE: return "bad signature";
	case KHO_EUNSAFE: return "unsafe input";
	case KHO_ELIMIT: return "limit exceeded";
	case KHO_EBUSY: return "store busy";
	case KHO_EDENIED: return "not allowed";
	default: return "unknown error";
	}
}

int kho_error_set(int code, const char *fmt, ...)
{
	/* Formatted apart first: the arguments may include kho_error_last(). */
	char message[sizeof last_message];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	memcpy(last_message, message, sizeof message);
	last_code = code;
	return code;
}

const char *kho_error_last(void)
{
	return last_message;
}

int kho_error_last_code(void)
{
	return last_code;
}

void kho_error_clear(void)
{
	last_message[0] = '\0';
	last_code = KHO_OK;
}
