/* Unit tests: init/lib/cmdline.c (kernel command line) and hostname parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <string.h>

/* hostname.c logs; these tests do not look at it. */
void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

void log_err(const struct err *e)
{
	(void)e;
}

static const char *get(const char *line, const char *key)
{
	static char val[64];

	return cmdline_get(line, key, val, sizeof(val)) < 0 ? NULL : val;
}

static void test_get(void **state)
{
	const char *line = "BOOT_IMAGE=/vmlinuz console=tty0 console=ttyS0,115200 ro quiet "
			   "wisp.shutdown_timeout=12 wisp.x= root=PARTLABEL=ROOT-A\n";

	(void)state;
	assert_string_equal(get(line, "wisp.shutdown_timeout"), "12");
	/* The last one wins, as for the kernel's own parameters. */
	assert_string_equal(get(line, "console"), "ttyS0,115200");
	assert_string_equal(get(line, "root"), "PARTLABEL=ROOT-A");
	assert_string_equal(get(line, "wisp.x"), "");
	assert_null(get(line, "quiet")); /* a flag has no value */
	assert_null(get(line, "wisp"));
	assert_null(get(line, "wisp.shutdown"));
	assert_null(get(line, "timeout"));
	assert_null(get("", "root"));
}

static void test_quotes_and_dashes(void **state)
{
	const char *line = "a=1 \"wisp.msg=hello world\" b=\"x y\"  -- wisp.shutdown_timeout=3";

	(void)state;
	assert_string_equal(get(line, "wisp.msg"), "hello world");
	assert_string_equal(get(line, "b"), "x y");
	/* After "--" the words are init's arguments, not parameters. */
	assert_null(get(line, "wisp.shutdown_timeout"));
}

static void test_truncation(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(cmdline_get("k=abcdef", "k", small, sizeof(small)), 3);
	assert_string_equal(small, "abc");
}

static void test_uint(void **state)
{
	unsigned v = 99;
	struct err e = {0};

	(void)state;
	assert_int_equal(cmdline_uint("x=1", "wisp.shutdown_timeout", 3600, &v, &e), 0);
	assert_int_equal(v, 99);
	assert_int_equal(
	    cmdline_uint("wisp.shutdown_timeout=0", "wisp.shutdown_timeout", 3600, &v, &e), 1);
	assert_int_equal(v, 0);
	assert_int_equal(
	    cmdline_uint("wisp.shutdown_timeout=3600", "wisp.shutdown_timeout", 3600, &v, &e), 1);
	assert_int_equal(v, 3600);

	static const char *const bad[] = {
	    "wisp.shutdown_timeout=3601", "wisp.shutdown_timeout=-1",
	    "wisp.shutdown_timeout=5s",	  "wisp.shutdown_timeout=",
	    "wisp.shutdown_timeout=+5",	  "wisp.shutdown_timeout=99999999999999999999999",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		v = 7;
		assert_int_equal(cmdline_uint(bad[i], "wisp.shutdown_timeout", 3600, &v, &e), -1);
		assert_int_equal(v, 7);
	}
	assert_string_equal(e.msg,
			    "wisp.shutdown_timeout=99999999999999999999999: not a number from "
			    "0 to 3600");
}

static void test_hostname(void **state)
{
	char name[65];

	(void)state;
	assert_int_equal(hostname_parse("web-1.example.com\n", name, sizeof(name)), 0);
	assert_string_equal(name, "web-1.example.com");
	assert_int_equal(hostname_parse("\n  node7  \nignored\n", name, sizeof(name)), 0);
	assert_string_equal(name, "node7");
	assert_int_equal(hostname_parse("", name, sizeof(name)), -1);
	assert_int_equal(hostname_parse("\n\n", name, sizeof(name)), -1);
	assert_int_equal(hostname_parse("has space\n", name, sizeof(name)), -1);
	assert_int_equal(hostname_parse("-dash\n", name, sizeof(name)), -1);
	assert_int_equal(hostname_parse("semi;colon\n", name, sizeof(name)), -1);

	char longname[80];
	memset(longname, 'a', 65);
	longname[65] = '\0';
	assert_int_equal(hostname_parse(longname, name, sizeof(name)), -1);
	longname[64] = '\0';
	assert_int_equal(hostname_parse(longname, name, sizeof(name)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get),	       cmocka_unit_test(test_quotes_and_dashes),
	    cmocka_unit_test(test_truncation), cmocka_unit_test(test_uint),
	    cmocka_unit_test(test_hostname),
	};

	return cmocka_run_group_tests_name("init_cmdline", tests, NULL, NULL);
}
