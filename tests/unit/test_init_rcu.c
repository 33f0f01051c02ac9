/*
 * Unit tests: init/pid1/rcu.c, expedited RCU grace periods while the boot
 * runs, on a plain file standing in for /sys/kernel/rcu_expedited: set
 * and given back; a setting the command line made is left alone; a
 * kernel without the knob is no error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char logged[1024];
static char knob[64];

void log_err(const struct err *e)
{
	snprintf(logged, sizeof(logged), "%s", e->msg);
}

static void put(const char *text)
{
	FILE *f = fopen(knob, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void expect(const char *text)
{
	char buf[16];
	struct err e;

	assert_true(read_text(knob, buf, sizeof(buf), &e) >= 0);
	assert_string_equal(buf, text);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	strcpy(knob, "/tmp/wisp-rcu-XXXXXX");
	fd = mkstemp(knob);
	assert_true(fd >= 0);
	close(fd);
	logged[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(knob);
	return 0;
}

static void test_boot(void **state)
{
	(void)state;
	put("0\n");
	rcu_boot_begin(knob);
	expect("1");
	rcu_boot_end();
	expect("0");
	put("2"); /* once given back, nothing more */
	rcu_boot_end();
	expect("2");
	assert_string_equal(logged, "");
}

static void test_command_line(void **state)
{
	(void)state;
	put("1\n"); /* rcupdate.rcu_expedited=1 */
	rcu_boot_begin(knob);
	rcu_boot_end();
	expect("1\n");
	assert_string_equal(logged, "");
}

static void test_no_knob(void **state)
{
	(void)state;
	unlink(knob);
	rcu_boot_begin(knob);
	rcu_boot_end();
	assert_string_equal(logged, "");
	assert_int_equal(access(knob, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_boot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_knob, setup, teardown),
	};

	return cmocka_run_group_tests_name("init_rcu", tests, NULL, NULL);
}
