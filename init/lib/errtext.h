/*
 * lib/errtext.h: the text of an error object, after crun's libcrun_error_t.
 *
 * init (lib/err.c), containerd-lite (runtime/err.c) and image-builder (err.c)
 * each have an error object of this one shape, an errno beside a message that
 * is complete when it is made ("mount proc on /proc: Operation not
 * permitted"), with sizes and a one-line filter of their own; the text is
 * made here, once. Header-only (two short functions) so that each program
 * links nothing more; system headers only, as ttyesc.h.
 */
#ifndef WISP_LIB_ERRTEXT_H
#define WISP_LIB_ERRTEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The longest message of the three objects (containerd-lite's). */
#define ERRTEXT_MAX 1024

/* msg (size bytes) := fmt's text, then ": strerror(num)" when num != 0. */
static inline void errtext_set(char *msg, size_t size, int num, const char *fmt, va_list ap)
{
	int n = vsnprintf(msg, size, fmt, ap);

	if (n < 0)
		n = 0;
	if (num != 0 && (size_t)n < size &&
	    snprintf(msg + n, size - (size_t)n, ": %s", strerror(num)) < 0)
		msg[n] = '\0';
}

/* msg := fmt's text, ": ", what msg held. Truncation keeps the start, which names
 * the object: good enough. */
static inline void errtext_ctx(char *msg, size_t size, const char *fmt, va_list ap)
{
	char old[ERRTEXT_MAX];
	int n;

	if (size > sizeof(old))
		size = sizeof(old);
	memcpy(old, msg, size);
	old[size - 1] = '\0';
	n = vsnprintf(msg, size, fmt, ap);
	if (n >= 0 && (size_t)n < size && snprintf(msg + n, size - (size_t)n, ": %s", old) < 0)
		msg[n] = '\0';
}

#endif
