/*
 * err.c: crun-style error objects, of one shape with init's (init/lib/err.c)
 * and containerd-lite's: the message is complete when it is made, "open
 * x.yaml: No such file or directory", and num keeps the errno beside it.
 */
#include "image-builder.h"
#include "../init/lib/errtext.h" /* the text, made as init's and containerd-lite's */

#include <stdarg.h>

volatile sig_atomic_t ib_interrupted;

_Static_assert(sizeof(((struct ib_err *)0)->msg) <= ERRTEXT_MAX, "errtext.h makes it");

int ib_err_set(struct ib_err *err, int num, const char *fmt, ...)
{
	va_list ap;

	err->num = num;
	va_start(ap, fmt);
	errtext_set(err->msg, sizeof(err->msg), num, fmt, ap);
	va_end(ap);
	/* one line, whatever a spec's key or value held (a YAML key may
	 * span lines): control characters become '?' */
	for (char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

int ib_err_ctx(struct ib_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_ctx(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
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
