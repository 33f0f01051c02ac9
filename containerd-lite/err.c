/* err.c: the error object (crun's convention). */
#include "containerd-lite.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cl_error(struct cl_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	e->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int cl_error_wrap(struct cl_err *e, const char *fmt, ...)
{
	char prefix[512], old[sizeof(e->msg)], both[sizeof(prefix) + sizeof(old) + 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(both, sizeof(both), "%s: %s", prefix, old);
	/* truncated if it must be */
	memcpy(e->msg, both, sizeof(e->msg) - 1);
	e->msg[sizeof(e->msg) - 1] = 0;
	return -1;
}

const char *cl_error_text(const struct cl_err *e, char *buf, size_t size)
{
	if (e->errnum)
		snprintf(buf, size, "%s: %s", e->msg, strerror(e->errnum));
	else
		snprintf(buf, size, "%s", e->msg);
	return buf;
}
