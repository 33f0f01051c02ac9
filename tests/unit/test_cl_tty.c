/* containerd-lite's text from outside (runtime/tty.c, runtime/err.c): an
 * archive's image name, an image's config or a quoted token cannot act on
 * root's terminal (`wispctl images` shows `image list`'s lines there). One
 * case a row: the text, how it is printed, what comes out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "rendered.h"
#include "containerd-lite.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum how {
	ERR,	  /* cl_error's message quoting it */
	NAME,	  /* a field of `image list` or `image import` */
	JSON_TTY, /* a JSON document jansson made, to a terminal */
	JSON_PIPE,
};

static const struct {
	enum how how;
	const char *in, *out;
} cases[] = {
    {ERR, "web\n\x1b[1Aok", "image web??[1Aok: bad"},
    {ERR,
     "csi \xc2\x9b"
     "2J \x9b del\x7f",
     "image csi ??2J ? del?: bad"},
    {ERR, "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93", "image \xc3\xa9t\xc3\xa9 \xe2\x9c\x93: bad"},
    /* a name that forges a line of the listing and hides the one before */
    {NAME, "web\n\x1b[1A\x1b[2Kroot\tsha256:0\t1 layers",
     "web\\x0a\\x1b[1A\\x1b[2Kroot\\x09sha256:0\\x091 layers"},
    {NAME,
     "csi\xc2\x9b"
     "2J\x9b\x7f",
     "csi\\x9b2J\\x9b\\x7f"},
    {NAME, "docker.io/library/caf\xc3\xa9:1", "docker.io/library/caf\xc3\xa9:1"},
    {JSON_TTY,
     "[{\"ref\":\"csi\xc2\x9b"
     "2J\x7f\\u001b\"}]",
     "[{\"ref\":\"csi\\u009b2J\\u007f\\u001b\"}]"},
    {JSON_TTY, "{\n  \"Env\": [\n    \"\xc3\xa9\xc2\x85\"\n  ]\n}",
     "{\n  \"Env\": [\n    \"\xc3\xa9\\u0085\"\n  ]\n}"},
    {JSON_PIPE, "[{\"ref\":\"csi\xc2\x9b\"}]", "[{\"ref\":\"csi\xc2\x9b\"}]"},
};

static char *render(size_t i, const char **want)
{
	struct cl_err e;
	size_t size = 0;
	char *got = NULL;
	FILE *f = open_memstream(&got, &size);

	*want = cases[i].out;
	assert_non_null(f);
	if (cases[i].how == ERR) {
		cl_error(&e, 0, "image %s: bad", cases[i].in);
		fputs(e.msg, f);
	} else if (cases[i].how == NAME) {
		cl_print_name(f, cases[i].in);
	} else {
		cl_json_write(f, cases[i].in, cases[i].how == JSON_TTY);
	}
	fclose(f);
	return got;
}

int main(void)
{
	static const struct rendered r = {sizeof(cases) / sizeof(cases[0]), render};

	return run_rendered("cl_tty", &r);
}
