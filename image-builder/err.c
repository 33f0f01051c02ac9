/*
 * err.c: crun-style error objects, of one shape with init's (init/lib/err.c)
 * and containerd-lite's: the message is complete when it is made, "open
 * x.yaml: No such file or directory", and num keeps the errno beside it.
 */
#include "image-builder.h"

#include <stdarg.h>
#include <string.h>

volatile sig_atomic_t ib_interrupted;

int ib_err_set(struct ib_err *err, int num, const char *fmt, ...)
{
	va_list ap;
	int n;

	err->num = num;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (num != 0 && (size_t)n < sizeof(err->msg) &&
	    snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(num)) < 0)
		err->msg[n] = '\0';
	/* one line, whatever a spec's key or value held (a YAML key may
	 * span lines): control characters become '?' */
	for (char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

int ib_err_ctx(struct ib_err *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	va_list ap;
	int n;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* Truncation keeps the start, which names the object: good enough. */
	if (n >= 0 && (size_t)n < sizeof(err->msg) &&
	    snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", old) < 0)
		err->msg[n] = '\0';
	return -1;
}

void ib_err_print(const struct ib_err *err, FILE *f)
{
	fprintf(f, "image-builder: %s\n", err->msg);
}

int ib_check_interrupt(struct ib_err *err)
{
	if (ib_interrupted)
		return ib_err_set(err, 0, "interrupted by signal %d (%s)", (int)ib_interrupted,
				  strsignal((int)ib_interrupted));
	return 0;
}
