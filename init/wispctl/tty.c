/*
 * tty.c: a unit's log bytes onto root's terminal. A container writes them,
 * root reads them: an escape sequence among them would reach the terminal
 * as a command (moving the cursor up over lines it wants hidden, writing
 * root's clipboard with OSC 52, or making some terminals type an answer
 * back into root's shell). So, as journalctl and less do, the C0 controls
 * but tab and line feed, DEL, and the C1 controls in UTF-8 (U+0080-U+009F,
 * which some terminals take as ESC [) are written as \xHH text; a carriage
 * return too, unless a line feed follows (CRLF, a container's tty). The
 * rest, UTF-8 included, goes through as it is. Not to a pipe or a file:
 * `wispctl logs web > f` keeps the bytes.
 */
#include "wispctl.h"

static bool plain(const unsigned char *p, size_t i, size_t len)
{
	unsigned char c = p[i];

	if (c == '\t' || c == '\n')
		return true;
	if (c == '\r')
		return i + 1 < len && p[i + 1] == '\n';
	return c >= 0x20 && c != 0x7f;
}

void wctl_tty_write(FILE *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		bool c1 = p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f;

		if (plain(p, i, len) && !c1)
			continue;
		fwrite(p + start, 1, i - start, f);
		if (c1)
			fprintf(f, "\\x%02x", p[++i]);
		else
			fprintf(f, "\\x%02x", p[i]);
		start = i + 1;
	}
	fwrite(p + start, 1, len - start, f);
}
