/* Unit tests: init/pid1/health.c, the health-check state machine, with fake timers and checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static int changes, runs;
static pid_t next_pid = 100;

/* The loop's timers, reduced to flags: the test fires them by hand. */
void timer_start(struct timer *t, uint64_t due)
{
	t->armed = true;
	t->due = due;
}

void timer_stop(struct timer *t)
{
	t->armed = false;
}

static void changed(struct hcheck *h)
{
	(void)h;
	changes++;
}

static pid_t run(struct hcheck *h)
{
	(void)h;
	runs++;
	return next_pid++;
}

static char *argv[] = {"true", NULL};

static void init_check(struct hcheck *h, struct healthcheck *cfg, uint32_t start_period)
{
	*cfg = (struct healthcheck){.argv = argv,
				    .interval_ms = 1000,
				    .timeout_ms = 500,
				    .retries = 2,
				    .start_period_ms = start_period};
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->changed = changed;
	h->run = run;
	changes = runs = 0;
}

/* Fire the "next" timer, and end that check with exit code. */
static void check_once(struct hcheck *h, int code)
{
	assert_true(h->next.armed);
	h->next.armed = false;
	h->next.fire(&h->next);
	assert_true(h->pid > 0);
	assert_true(h->timeout.armed);
	assert_true(health_reaped(h, h->pid, code << 8));
	assert_false(h->timeout.armed);
}

static void test_healthy_then_unhealthy(void **state)
{
	struct healthcheck cfg;
	struct hcheck h;

	(void)state;
	init_check(&h, &cfg, 0);
	health_start(&h);
	assert_int_equal(h.state, H_STARTING);
	check_once(&h, 0);
	assert_int_equal(h.state, H_HEALTHY);
	assert_int_equal(changes, 1);
	check_once(&h, 1); /* one failure: retries is 2 */
	assert_int_equal(h.state, H_HEALTHY);
	check_once(&h, 1);
	assert_int_equal(h.state, H_UNHEALTHY);
	assert_int_equal(changes, 2);
	check_once(&h, 0);
	assert_int_equal(h.state, H_HEALTHY);
	assert_int_equal(runs, 4);
	assert_false(health_reaped(&h, 4242, 0)); /* not its pid */
	health_stop(&h);
	assert_false(h.next.armed);
}

static void test_start_period(void **state)
{
	struct healthcheck cfg;
	struct hcheck h;

	(void)state;
	init_check(&h, &cfg, 60000);
	health_start(&h);
	for (int i = 0; i < 5; i++)
		check_once(&h, 1);
	assert_int_equal(h.state, H_STARTING); /* failures in the grace period do not count */
	health_result(&h, false, h.started + 60000);
	health_result(&h, false, h.started + 61000);
	assert_int_equal(h.state, H_UNHEALTHY);
}

static void test_timeout_kills(void **state)
{
	struct healthcheck cfg;
	struct hcheck h;

	(void)state;
	init_check(&h, &cfg, 0);
	health_start(&h);
	h.next.armed = false;
	h.next.fire(&h.next);
	/* A pid that does not exist: the kill fails harmlessly; the reap counts it a failure. */
	h.pid = 0x3ffffff0;
	h.timeout.fire(&h.timeout);
	assert_true(health_reaped(&h, 0x3ffffff0, SIGKILL));
	assert_int_equal(h.fails, 1);
	assert_true(h.next.armed);
}

static void test_no_check(void **state)
{
	struct healthcheck cfg = {0};
	struct hcheck h = {.cfg = &cfg};

	(void)state;
	health_start(&h);
	assert_int_equal(h.state, H_NONE);
	assert_false(h.next.armed);
	assert_string_equal(health_name(h.state), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthy_then_unhealthy),
	    cmocka_unit_test(test_start_period),
	    cmocka_unit_test(test_timeout_kills),
	    cmocka_unit_test(test_no_check),
	};

	return cmocka_run_group_tests_name("init_health", tests, NULL, NULL);
}
