/*
 * tty.c: a unit's log bytes, and JSON strings from outside, onto root's
 * terminal. A container writes them, root reads them: an escape sequence
 * among them would reach the terminal as a command (lib/ttyesc.h has the
 * filter and the list). Not to a pipe or a file: `wispctl logs web > f`
 * keeps the bytes.
 */
#include "wispctl.h"

/* One stream: stdout's. The lines of `images` come cut at ~4 KiB, a name
 * longer than that in two messages, so a character may be cut too. */
static struct tty_esc out = {.lines = true};

void wctl_tty_write(FILE *f, const void *buf, size_t len)
{
	tty_esc_write(&out, f, buf, len);
}

void wctl_tty_end(FILE *f)
{
	tty_esc_end(&out, f);
}

void wctl_json_str(FILE *f, const char *s, size_t len, bool tty)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	int ctl;

	putc('"', f);
	for (size_t i = 0; i < len; i += n) {
		/* a JSON string stands alone: a character cut at its end is bytes */
		n = tty_unit(p + i, len - i, true, &ctl);
		if (p[i] == '"' || p[i] == '\\')
			fprintf(f, "\\%c", p[i]);
		else if (ctl == '\n')
			fputs("\\n", f);
		else if (ctl >= 0 && (ctl < 0x80 || tty))
			fprintf(f, "\\u%04x", (unsigned)ctl);
		else
			fwrite(p + i, 1, n, f);
	}
	putc('"', f);
}
