/*
 * err.c: the error object, after crun's libcrun_error_t.
 *
 * The message is complete when it is made ("mount proc on /proc:
 * Operation not permitted"), so whoever finally logs it needs nothing
 * else; errno is kept beside it for callers that decide on it (ENOENT
 * is often "absent", not "broken").
 */
#include "base.h"
#include "errtext.h"

#include <stdarg.h>

_Static_assert(sizeof(((struct err *)0)->msg) <= ERRTEXT_MAX, "errtext.h makes it");

int err_set(struct err *e, int num, const char *fmt, ...)
{
	va_list ap;

	e->num = num;
	va_start(ap, fmt);
	errtext_set(e->msg, sizeof(e->msg), num, fmt, ap);
	va_end(ap);
	return -1;
}

int err_ctx(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_ctx(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}
