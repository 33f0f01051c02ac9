/* err.c: crun-style error objects: errno plus a message naming the object. */
#include "image-builder.h"

#include <stdarg.h>
#include <string.h>

volatile sig_atomic_t ib_interrupted;

int ib_err_set(struct ib_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	err->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int ib_err_prefix(struct ib_err *err, const char *fmt, ...)
{
	char prefix[512];
	char buf[sizeof(prefix) + sizeof(err->msg)];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "%s%s", prefix, err->msg);
	n = strnlen(buf, sizeof(err->msg) - 1); /* overlong messages are cut */
	memcpy(err->msg, buf, n);
	err->msg[n] = '\0';
	return -1;
}

void ib_err_print(const struct ib_err *err, FILE *f)
{
	if (err->errnum)
		fprintf(f, "image-builder: %s: %s\n", err->msg, strerror(err->errnum));
	else
		fprintf(f, "image-builder: %s\n", err->msg);
}

int ib_check_interrupt(struct ib_err *err)
{
	if (ib_interrupted)
		return ib_err_set(err, 0, "interrupted by signal %d (%s)", (int)ib_interrupted,
				  strsignal((int)ib_interrupted));
	return 0;
}
