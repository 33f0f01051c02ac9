/* wispctl's output of bytes from outside to a terminal (init/wispctl/tty.c,
 * init/lib/ttyesc.c): what a container writes or an archive names cannot act
 * on root's terminal. One case a row: what comes in (one or two pieces, as
 * init's messages cut it), what the terminal gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "rendered.h"
#include "wispctl/wispctl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum how {
	LOGS,  /* `wispctl logs` to a terminal: the pieces, then the end */
	JSON,  /* a JSON string (--json) to a terminal */
	IMAGE, /* `wispctl images`: a line of containerd-lite's `image list` naming IN */
};

static const struct {
	enum how how;
	const char *in, *in2; /* in2: a second message, or NULL */
	size_t len;	      /* 0: strlen */
	const char *out;
} cases[] = {
    {LOGS, "plain text\n", NULL, 0, "plain text\n"},
    {LOGS, "tab\there\n", NULL, 0, "tab\there\n"},
    {LOGS, "UTF-8: \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n", NULL, 0,
     "UTF-8: \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n"},
    /* the cursor up and a line cleared: hides the line before */
    {LOGS, "evil\n\x1b[1A\x1b[2Kok\n", NULL, 0, "evil\n\\x1b[1A\\x1b[2Kok\n"},
    /* OSC 52: root's clipboard, ended by BEL */
    {LOGS, "\x1b]52;c;cm0gLXJmIC8=\x07", NULL, 0, "\\x1b]52;c;cm0gLXJmIC8=\\x07"},
    /* CSI as a C1 control in UTF-8 */
    {LOGS,
     "a\xc2\x9b"
     "2Jb",
     NULL, 0, "a\\x9b2Jb"},
    /* CSI as a raw byte: an 8-bit terminal's ESC [ */
    {LOGS,
     "a\x9b"
     "2Jb",
     NULL, 0, "a\\x9b2Jb"},
    /* a UTF-8 CSI cut between two messages (a line over one message) */
    {LOGS, "a\xc2",
     "\x9b"
     "2Jb",
     0, "a\\x9b2Jb"},
    {LOGS, "\xe2\x9c", "\x93 ok\n", 0, "\xe2\x9c\x93 ok\n"},
    /* continuations without their lead, and an overlong ESC: bytes */
    {LOGS, "\xe2\x9c\x93\x93\xc0\x9b", NULL, 0, "\xe2\x9c\x93\\x93\xc0\\x9b"},
    {LOGS, "CRLF\r\n", NULL, 0, "CRLF\r\n"},
    {LOGS, "CR|LF\r", "\n", 0, "CR|LF\r\n"},
    /* a bare CR overwrites the line with what follows */
    {LOGS, "secret\rpublic\n", NULL, 0, "secret\\x0dpublic\n"},
    {LOGS, "cut at a CR\r", NULL, 0, "cut at a CR\\x0d"},
    {LOGS, "nul\0del\x7f", NULL, 8, "nul\\x00del\\x7f"},
    {LOGS, "\xc2", NULL, 0, "\xc2"}, /* a lone lead byte at the end: not a C1 control */
    {JSON, "a\"b\\c\nd\x1b[1A\x7f", NULL, 0, "\"a\\\"b\\\\c\\nd\\u001b[1A\\u007f\""},
    {JSON,
     "csi \xc2\x9b"
     "2J",
     NULL, 0, "\"csi \\u009b2J\""},
    {JSON,
     "raw \x9b"
     "2J",
     NULL, 0, "\"raw \\u009b2J\""},
    {JSON, "\xc3\xa9t\xc3\xa9 \xc2\xa0", NULL, 0, "\"\xc3\xa9t\xc3\xa9 \xc2\xa0\""},
    /* a name that forges a line of the listing and hides the one before */
    {IMAGE, "web\n\x1b[1A\x1b[2Kroot\tsha256:0\t1 layers", NULL, 0,
     "web\\x0a\\x1b[1A\\x1b[2Kroot\\x09sha256:0\\x091 layers\tsha256:c0ffee\t1 layers\n"},
    {IMAGE, "csi\xc2\x9b", NULL, 0, "csi\\x9b\tsha256:c0ffee\t1 layers\n"},
};

/* What the terminal gets of case I. */
static char *render(size_t i, const char **want)
{
	size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in), size = 0;
	char *got = NULL, *line = NULL;
	FILE *f = open_memstream(&got, &size), *l;

	*want = cases[i].out;
	assert_non_null(f);
	if (cases[i].how == JSON) {
		wctl_json_str(f, cases[i].in, len, true);
	} else if (cases[i].how == IMAGE) {
		/* containerd-lite's line (image/query.c), through init to wispctl */
		assert_non_null(l = open_memstream(&line, &size));
		tty_esc_name(l, cases[i].in);
		fputs("\tsha256:c0ffee\t1 layers\n", l);
		fclose(l);
		wctl_tty_write(f, line, strlen(line));
		wctl_tty_end(f);
	} else {
		wctl_tty_write(f, cases[i].in, len);
		if (cases[i].in2)
			wctl_tty_write(f, cases[i].in2, strlen(cases[i].in2));
		wctl_tty_end(f);
	}
	fclose(f);
	free(line);
	return got;
}

int main(void)
{
	static const struct rendered r = {sizeof(cases) / sizeof(cases[0]), render};

	return run_rendered("wispctl_tty", &r);
}
