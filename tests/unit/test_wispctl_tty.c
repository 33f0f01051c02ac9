/* wispctl's log bytes to a terminal (init/wispctl/tty.c): what a container
 * writes cannot act on root's terminal. One case a row: bytes in, text out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "wispctl/wispctl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	const char *out;
} cases[] = {
    {"plain text\n", 0, "plain text\n"},
    {"tab\there\n", 0, "tab\there\n"},
    {"UTF-8: \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n", 0, "UTF-8: \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n"},
    /* the cursor up and a line cleared: hides the line before */
    {"evil\n\x1b[1A\x1b[2Kok\n", 0, "evil\n\\x1b[1A\\x1b[2Kok\n"},
    /* OSC 52: root's clipboard, ended by BEL */
    {"\x1b]52;c;cm0gLXJmIC8=\x07", 0, "\\x1b]52;c;cm0gLXJmIC8=\\x07"},
    /* CSI as a C1 control in UTF-8 */
    {"a\xc2\x9b"
     "2Jb",
     0, "a\\x9b2Jb"},
    {"CRLF\r\n", 0, "CRLF\r\n"},
    /* a bare CR overwrites the line with what follows */
    {"secret\rpublic\n", 0, "secret\\x0dpublic\n"},
    {"cut at a CR\r", 0, "cut at a CR\\x0d"},
    {"nul\0del\x7f", 8, "nul\\x00del\\x7f"},
    {"\xc2", 0, "\xc2"}, /* a lone lead byte at the end: not a C1 control */
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&got, &size);

		assert_non_null(f);
		wctl_tty_write(f, cases[i].in, cases[i].len ? cases[i].len : strlen(cases[i].in));
		fclose(f);
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, got, cases[i].out);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};

	return cmocka_run_group_tests_name("wispctl_tty", tests, NULL, NULL);
}
