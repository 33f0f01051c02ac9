/*
 * printf.c: PID 1's own snprintf and vsnprintf.
 *
 * musl's printf family carries the floating-point formatter and the
 * positional-argument machinery (about 10 KiB), and PID 1 formats only
 * text and integers: this is the part of it PID 1 uses, linked in place
 * of musl's (PID 1 calls no FILE printf, so musl's vfprintf is not linked
 * at all). Conversions: %s %c %d %i %u %x %p %%; flags '-' and '0'; a
 * width and a precision, as digits or '*'; lengths hh h l ll z j t. It
 * returns what C says (the length the whole text would have), so that a
 * truncation is seen. Anything else is copied as it is written. Only
 * PID 1's build links it; tests/unit/test_init_printf.c holds it against
 * glibc's.
 */
#include "pid1.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t size, len; /* len: the whole text's, even past size */
};

static void put(struct out *o, char c, size_t n)
{
	for (; n > 0; n--, o->len++)
		if (o->len + 1 < o->size)
			o->buf[o->len] = c;
}

static void put_str(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, s[i], 1);
}

struct spec {
	bool left, zero;
	int width, prec; /* prec -1: none */
};

/* s (len bytes) in a field of width, with sign and zero padding for numbers. */
static void field(struct out *o, const struct spec *sp, const char *sign, const char *s, size_t len,
		  size_t zeros)
{
	size_t n = strlen(sign) + zeros + len;
	size_t pad = sp->width > 0 && (size_t)sp->width > n ? (size_t)sp->width - n : 0;

	if (!sp->left && !sp->zero)
		put(o, ' ', pad);
	put_str(o, sign, strlen(sign));
	if (!sp->left && sp->zero)
		put(o, '0', pad);
	put(o, '0', zeros);
	put_str(o, s, len);
	if (sp->left)
		put(o, ' ', pad);
}

static void number(struct out *o, struct spec *sp, unsigned long long v, bool neg, unsigned base)
{
	char digits[24], *p = digits + sizeof(digits);
	size_t len, zeros = 0;

	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	len = (size_t)(digits + sizeof(digits) - p);
	if (sp->prec >= 0) {
		sp->zero = false; /* C: a precision overrides the 0 flag */
		if (sp->prec == 0 && len == 1 && *p == '0')
			len = 0;
		if ((size_t)sp->prec > len)
			zeros = (size_t)sp->prec - len;
	}
	field(o, sp, neg ? "-" : "", p, len, zeros);
}

static int spec_int(const char **f, va_list *ap)
{
	int n = 0;

	if (**f == '*') {
		(*f)++;
		return va_arg(*ap, int);
	}
	while (**f >= '0' && **f <= '9')
		n = n * 10 + (*(*f)++ - '0');
	return n;
}

enum len { L_INT, L_LONG, L_LLONG, L_SIZE };

static enum len spec_len(const char **f)
{
	enum len l = L_INT;

	for (;; (*f)++)
		switch (**f) {
		case 'h':
			break; /* promoted to int: read as int, cut below */
		case 'l':
			l = l == L_LONG ? L_LLONG : L_LONG;
			break;
		case 'z':
		case 't':
			l = L_SIZE;
			break;
		case 'j':
			l = L_LLONG;
			break;
		default:
			return l;
		}
}

static long long arg_signed(enum len l, va_list *ap)
{
	switch (l) {
	case L_LONG:
		return va_arg(*ap, long);
	case L_LLONG:
		return va_arg(*ap, long long);
	case L_SIZE:
		return va_arg(*ap, ssize_t);
	case L_INT:
		break;
	}
	return va_arg(*ap, int);
}

static unsigned long long arg_unsigned(enum len l, va_list *ap)
{
	switch (l) {
	case L_LONG:
		return va_arg(*ap, unsigned long);
	case L_LLONG:
		return va_arg(*ap, unsigned long long);
	case L_SIZE:
		return va_arg(*ap, size_t);
	case L_INT:
		break;
	}
	return va_arg(*ap, unsigned);
}

/* One conversion at *f (after the '%'); advances *f. */
static void convert(struct out *o, const char **f, va_list *ap)
{
	struct spec sp = {.prec = -1};
	const char *start = *f - 1, *s;
	enum len l;
	char c;

	for (;; (*f)++)
		if (**f == '-')
			sp.left = true;
		else if (**f == '0')
			sp.zero = true;
		else
			break;
	if ((sp.width = spec_int(f, ap)) < 0) {
		sp.left = true;
		sp.width = -sp.width;
	}
	if (**f == '.') {
		(*f)++;
		if ((sp.prec = spec_int(f, ap)) < 0)
			sp.prec = -1;
	}
	if (sp.left)
		sp.zero = false;
	l = spec_len(f);
	switch ((c = *(*f)++)) {
	case 'd':
	case 'i': {
		long long v = arg_signed(l, ap);
		number(o, &sp, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0,
		       10);
		break;
	}
	case 'u':
	case 'x':
		number(o, &sp, arg_unsigned(l, ap), false, c == 'x' ? 16 : 10);
		break;
	case 'p':
		put_str(o, "0x", 2);
		number(o, &sp, (unsigned long long)(uintptr_t)va_arg(*ap, void *), false, 16);
		break;
	case 's':
		s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		sp.zero = false;
		field(o, &sp, "", s, sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s), 0);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		sp.zero = false;
		field(o, &sp, "", &c, 1, 0);
		break;
	case '%':
		put(o, '%', 1);
		break;
	default: /* not PID 1's: as written */
		if (!c)
			(*f)--;
		put_str(o, start, (size_t)(*f - start));
		break;
	}
}

int pid1_vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct out o = {.buf = buf, .size = size};
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; *f;) {
		if (*f != '%') {
			put(&o, *f++, 1);
			continue;
		}
		f++;
		convert(&o, &f, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT32_MAX ? -1 : (int)o.len;
}

/* Against musl (PID 1's build) these two names, so that musl's are not linked; not against
 * glibc (the unit test, which compares with glibc's own). */
#ifndef __GLIBC__
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	return pid1_vsnprintf(buf, size, fmt, ap);
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pid1_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
#endif
