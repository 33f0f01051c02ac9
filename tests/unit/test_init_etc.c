/* Unit tests: init/pid1/etc.c, what init renders into the /etc overlay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <string.h>

/* etc.c logs; these tests do not look at it. */
void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

void log_err(const struct err *e)
{
	(void)e;
}

static void test_hosts(void **state)
{
	char buf[512];
	int n;

	(void)state;
	n = etc_hosts_render("web-1", buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "\n127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(buf, "\n127.0.1.1\tweb-1\n"));
	assert_non_null(strstr(buf, "\n::1\tlocalhost"));
	/* Too small a buffer: an error, never a cut file. */
	assert_int_equal(etc_hosts_render("web-1", buf, 40), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts),
	};

	return cmocka_run_group_tests_name("init_etc", tests, NULL, NULL);
}
