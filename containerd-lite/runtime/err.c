/*
 * runtime/err.c: the error object (crun's convention), of one shape with init's
 * (init/lib/err.c) and image-builder's: the message is complete when it is
 * made, "mount proc on /proc: Operation not permitted", and num keeps the
 * errno beside it for callers that decide on it.
 */
#include "../containerd-lite.h"
#include "../../init/lib/errtext.h" /* the text, made as init's and image-builder's */
#include "../../init/lib/ttyesc.h"  /* the terminal's controls, as wispctl sees them */
#include <stdarg.h>
#include <string.h>

/* One line, always: a message quotes what it was given (a path, a JSON
 * token from config.json, an archive's image name), and a newline there must
 * not forge a second line in the log or on the terminal (init's log.c does
 * the same), nor a control act on the terminal: each byte of a C0 or C1
 * control (UTF-8's U+009B is CSI) or DEL becomes '?'. */
static void one_line(char *s)
{
	size_t len = strlen(s), n;
	int ctl;

	for (size_t i = 0; i < len; i += n) {
		n = tty_unit((unsigned char *)s + i, len - i, true, &ctl);
		if (ctl >= 0)
			memset(s + i, '?', n);
	}
}

_Static_assert(sizeof(((struct cl_err *)0)->msg) <= ERRTEXT_MAX, "errtext.h makes it");

int cl_error(struct cl_err *e, int num, const char *fmt, ...)
{
	va_list ap;

	e->num = num;
	va_start(ap, fmt);
	errtext_set(e->msg, sizeof(e->msg), num, fmt, ap);
	va_end(ap);
	one_line(e->msg);
	return -1;
}

int cl_error_wrap(struct cl_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_ctx(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	one_line(e->msg);
	return -1;
}
