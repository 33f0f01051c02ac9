/* Unit tests: init/pid1/restart.c, the restart policy and the backoff arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <signal.h>

#define EXITED(code) ((code) << 8) /* a wait status, as waitpid() gives it */
#define KILLED(sig)  (sig)

static void test_policy(void **state)
{
	(void)state;
	assert_false(restart_wanted(RESTART_NO, EXITED(0)));
	assert_false(restart_wanted(RESTART_NO, EXITED(1)));
	assert_false(restart_wanted(RESTART_NO, KILLED(SIGKILL)));

	assert_false(restart_wanted(RESTART_ON_FAILURE, EXITED(0)));
	assert_true(restart_wanted(RESTART_ON_FAILURE, EXITED(1)));
	assert_true(restart_wanted(RESTART_ON_FAILURE, EXITED(127)));
	assert_true(restart_wanted(RESTART_ON_FAILURE, KILLED(SIGSEGV)));
	assert_true(restart_wanted(RESTART_ON_FAILURE, KILLED(SIGTERM)));

	assert_true(restart_wanted(RESTART_ALWAYS, EXITED(0)));
	assert_true(restart_wanted(RESTART_ALWAYS, EXITED(2)));
	assert_true(restart_wanted(RESTART_ALWAYS, KILLED(SIGKILL)));
}

/* 100 ms doubling, capped at 30 s. */
static void test_doubling_and_cap(void **state)
{
	static const uint32_t want[] = {100,  200,   400,   800,   1600,  3200,
					6400, 12800, 25600, 30000, 30000, 30000};
	struct backoff b = {0};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		assert_int_equal(backoff_next(&b, 5), want[i]);
}

/* A run of 60 s or more was a success: back to 100 ms. Less: keep growing. */
static void test_reset_after_a_long_run(void **state)
{
	struct backoff b = {0};

	(void)state;
	for (int i = 0; i < 20; i++)
		backoff_next(&b, 10);
	assert_int_equal(backoff_next(&b, BACKOFF_RESET_MS - 1), 30000);
	assert_int_equal(backoff_next(&b, BACKOFF_RESET_MS), 100);
	assert_int_equal(backoff_next(&b, 0), 200);
	assert_int_equal(backoff_next(&b, 59999), 400);
	assert_int_equal(backoff_next(&b, 3600000), 100);
	assert_int_equal(backoff_next(&b, UINT64_MAX), 100);
}

/* restart_delay: {initial, max, reset_after} replace the defaults. */
static void test_configured(void **state)
{
	static const uint32_t want[] = {50, 100, 200, 250, 250};
	struct backoff b = {0};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		assert_int_equal(backoff_next_cfg(&b, 5, 50, 250, 1000), want[i]);
	assert_int_equal(backoff_next_cfg(&b, 1000, 50, 250, 1000), 50);
	/* A max below initial is the initial. */
	b.next_ms = 0;
	assert_int_equal(backoff_next_cfg(&b, 5, 500, 100, 0), 500);
	assert_int_equal(backoff_next_cfg(&b, 5, 500, 100, 0), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_doubling_and_cap),
	    cmocka_unit_test(test_reset_after_a_long_run),
	    cmocka_unit_test(test_configured),
	};

	return cmocka_run_group_tests_name("init_restart", tests, NULL, NULL);
}
