/* Unit tests: init/pid1/bootlog.c, the boot's timeline: order (longest first), waits,
 * entries not done yet, the first end counts, a full timeline, a small buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <stdio.h>
#include <string.h>

static void test_timeline(void **state)
{
	char buf[4096];
	size_t len;
	int web;

	(void)state;
	bootlog_step("STATE: check, grow, mount", 100, 131);
	bootlog_step("provision", 150, 562);
	web = bootlog_begin("web", "migrate", 979);
	bootlog_end(bootlog_begin("migrate", NULL, 600), 620);
	bootlog_begin("slow", "web", 990);
	bootlog_end(web, 983);
	bootlog_end(web, 5000); /* a later end (a restart) does not count */
	bootlog_end(-1, 1);	/* a unit past the timeline's end: nothing */
	len = bootlog_render(buf, sizeof(buf), 1500);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, "     TOOK   STARTED  WHAT (WAITED FOR)\n"
				 "   0.510s    0.990s  slow (waited for web) (not done yet)\n"
				 "   0.412s    0.150s  provision\n"
				 "   0.031s    0.100s  STATE: check, grow, mount\n"
				 "   0.020s    0.600s  migrate\n"
				 "   0.004s    0.979s  web (waited for migrate)\n");
	/* Only whole lines: the header and the first fit in 100 bytes. */
	assert_int_equal(bootlog_render(buf, 100, 1500), 97);
	/* At most 64 entries. */
	for (int i = 0; i < 64; i++)
		bootlog_step("x", 0, 1);
	assert_int_equal(bootlog_begin("y", NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeline),
	};

	return cmocka_run_group_tests_name("init_bootlog", tests, NULL, NULL);
}
