/*
 * ttyesc.c: controls among bytes from outside written as \xHH text before
 * they reach a terminal (ttyesc.h says why and which).
 */
#include "ttyesc.h"

#include <string.h>

/* UTF-8's lead bytes (RFC 3629): the character's length and the range of its
 * second byte, which rules out overlong forms and surrogates; the others are
 * 0x80-0xbf. An overlong ESC (0xC0 0x9B) is then a byte and a C1 control. */
static const struct {
	unsigned char lo, hi, len, lo2, hi2;
} leads[] = {
    {0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf}, {0xe1, 0xec, 3, 0x80, 0xbf},
    {0xed, 0xed, 3, 0x80, 0x9f}, {0xee, 0xef, 3, 0x80, 0xbf}, {0xf0, 0xf0, 4, 0x90, 0xbf},
    {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f},
};

/* The length of the UTF-8 character at P, 0 for none; *CUT: a valid start
 * that N ends. */
static size_t utf8_len(const unsigned char *p, size_t n, bool *cut)
{
	*cut = false;
	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		if (p[0] < leads[i].lo || p[0] > leads[i].hi)
			continue;
		for (size_t k = 1; k < leads[i].len; k++) {
			unsigned char lo = k == 1 ? leads[i].lo2 : 0x80,
				      hi = k == 1 ? leads[i].hi2 : 0xbf;

			if (k == n) {
				*cut = true;
				return 0;
			}
			if (p[k] < lo || p[k] > hi)
				return 0;
		}
		return leads[i].len;
	}
	return 0;
}

size_t tty_unit(const unsigned char *p, size_t n, bool end, int *ctl)
{
	size_t len;
	bool cut;

	*ctl = -1;
	/* a byte 0x80-0x9f here has no lead before it: no UTF-8, a C1 control */
	if (p[0] < 0x20 || p[0] == 0x7f || (p[0] >= 0x80 && p[0] <= 0x9f)) {
		*ctl = p[0];
		return 1;
	}
	if (p[0] < 0x80)
		return 1;
	len = utf8_len(p, n, &cut);
	if (cut && !end)
		return 0;
	if (len == 0)
		return 1; /* the lead alone; what follows it is looked at afresh */
	if (p[0] == 0xc2 && p[1] <= 0x9f)
		*ctl = p[1]; /* U+0080-U+009F */
	return len;
}

/* The unit at P as T writes it: its length (0: hold it), *ESC the code to
 * write as \xHH instead, or -1. */
static size_t step(const struct tty_esc *t, const unsigned char *p, size_t n, bool end, int *esc)
{
	size_t len = tty_unit(p, n, end, esc);

	if (!t->lines || (*esc != '\t' && *esc != '\n' && *esc != '\r'))
		return len;
	if (*esc != '\r') {
		*esc = -1;
		return len;
	}
	/* a bare CR overwrites the line with what follows; CR LF (a container's
	 * tty) is a line's end */
	if (n == 1 && !end)
		return 0;
	if (n > 1 && p[1] == '\n')
		*esc = -1;
	return len;
}

/* P's units written, plain runs in one piece: how many bytes (the rest is a
 * unit cut at N). */
static size_t put(const struct tty_esc *t, FILE *f, const unsigned char *p, size_t n, bool end)
{
	size_t i = 0, start = 0, len;
	int esc;

	while (i < n && (len = step(t, p + i, n - i, end, &esc)) > 0) {
		if (esc >= 0) {
			fwrite(p + start, 1, i - start, f);
			fprintf(f, "\\x%02x", (unsigned)esc);
			start = i + len;
		}
		i += len;
	}
	fwrite(p + start, 1, i - start, f);
	return i;
}

/* The held bytes and the first of BUF, up to a unit's longest (4) more: how
 * many of BUF they took, or -1 when they are all held again. */
static long finish_held(struct tty_esc *t, FILE *f, const unsigned char *p, size_t len)
{
	unsigned char u[8];
	size_t k = len < 4 ? len : 4, n = t->nheld + k, done;

	memcpy(u, t->held, t->nheld);
	memcpy(u + t->nheld, p, k);
	done = put(t, f, u, n, false);
	if (done < t->nheld) { /* still cut: then all of BUF is in U */
		memmove(t->held, u + done, n - done);
		t->nheld = n - done;
		return -1;
	}
	done -= t->nheld;
	t->nheld = 0;
	return (long)done;
}

void tty_esc_write(struct tty_esc *t, FILE *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done;

	if (t->nheld) {
		long took = finish_held(t, f, p, len);

		if (took < 0)
			return;
		p += took;
		len -= (size_t)took;
	}
	done = put(t, f, p, len, false);
	memcpy(t->held, p + done, len - done);
	t->nheld = len - done;
}

void tty_esc_end(struct tty_esc *t, FILE *f)
{
	put(t, f, t->held, t->nheld, true);
	t->nheld = 0;
}

void tty_esc_name(FILE *f, const char *s)
{
	struct tty_esc t = {.lines = false};

	put(&t, f, (const unsigned char *)s, strlen(s), true);
}
