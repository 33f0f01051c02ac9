/*
 * runtime/tty.c: text from outside (an archive's image name, an image's
 * config) in what the runtime prints. `wispctl images` shows `image list`'s
 * lines on root's terminal: a name holding ESC [ 1 A or a line feed would
 * hide or forge lines there. The filter is init/lib/ttyesc.c, which wispctl
 * links too (this program and wispctl include nothing of each other's; that
 * file is neither's).
 */
#include "../containerd-lite.h"
#include "../../init/lib/ttyesc.h"
#include <string.h>

void cl_print_name(FILE *f, const char *s)
{
	tty_esc_name(f, s);
}

/* jansson escapes the C0 controls in strings (a raw line feed is its
 * indentation's) and writes the rest as UTF-8, the C1 controls and DEL
 * included: those become JSON's own \u escapes, which read back the same. */
void cl_json_write(FILE *f, const char *text, bool tty)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), start = 0, n;
	int ctl;

	for (size_t i = 0; tty && i < len; i += n) {
		n = tty_unit(p + i, len - i, true, &ctl);
		if (ctl < 0x7f)
			continue;
		fwrite(p + start, 1, i - start, f);
		fprintf(f, "\\u%04x", (unsigned)ctl);
		start = i + n;
	}
	fputs(text + start, f);
}
