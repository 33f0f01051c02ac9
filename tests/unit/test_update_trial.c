/* test_update_trial.c: the trial record on STATE (init/update/trial.c) and what it says
 * after a rollback; when a critical unit is up (init/update/units.c) and the units a boot that
 * missed its deadline names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "update/update.h"

static char dir[] = "/tmp/test-trial-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Stored and loaded again per slot; cleared is no record; the words after a rollback. */
static void round_trip(void **state)
{
	struct trial t = {.reached = 2}, got;
	char why[512];
	struct err e;

	(void)state;
	snprintf(t.last, sizeof(t.last),
		 "not good within 300 s; not up: web (backoff, health none)");
	assert_int_equal(trial_store(dir, 'B', &t, &e), 0);
	trial_load(dir, 'B', &got);
	assert_int_equal(got.reached, 2);
	assert_string_equal(got.last, t.last);
	trial_load(dir, 'A', &got);
	assert_int_equal(got.reached, 0);
	trial_why(&t, why, sizeof(why));
	assert_string_equal(why,
			    "2 of its boots came up as far as update-watch; the last: not good "
			    "within 300 s; not up: web (backoff, health none)");
	trial_clear(dir, 'B');
	trial_load(dir, 'B', &got);
	assert_int_equal(got.reached, 0);
	trial_why(&got, why, sizeof(why));
	assert_non_null(strstr(why, "none of its boots came up as far as update-watch"));
}

/* A record that is not one of ours reads as none: the words never quote a stranger. */
static void malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "reached\nlast x\n",
	    "reached x\nlast y\n",
	    "reached 2\n",
	    "reached 2 last y\n",
	    "reached 99999\nlast y\n",
	    "last y\nreached 2\n",
	};
	struct trial got;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put("trial-A", bad[i]);
		trial_load(dir, 'A', &got);
		assert_int_equal(got.reached, 0);
		assert_string_equal(got.last, "");
	}
	put("trial-A", "reached 3\nlast came up\nextra\n");
	trial_load(dir, 'A', &got);
	assert_int_equal(got.reached, 3);
	assert_string_equal(got.last, "came up");
}

/* The record is a file on STATE: its text reaches root's terminal and the console escaped. */
static void escaped(void **state)
{
	struct trial got;
	char why[4 * TRIAL_TEXT_MAX + 160];

	(void)state;
	put("trial-A", "reached 1\nlast up \x1b]52;c;cm0gLXJmIC8=\a \xc2\x9b"
		       "2J\x7f\n");
	trial_load(dir, 'A', &got);
	trial_why(&got, why, sizeof(why));
	assert_string_equal(why, "1 of its boots came up as far as update-watch; the last: up "
				 "\\x1b]52;c;cm0gLXJmIC8=\\x07 \\xc2\\x9b2J\\x7f");
	put("trial-A", "reached 0\nlast \x1b[2J\n");
	trial_load(dir, 'A', &got);
	trial_why(&got, why, sizeof(why));
	assert_string_equal(why, "\\x1b[2J");
}

#define U(n, s, h, up)                                                                             \
	{                                                                                          \
		.name = n, .state = s, .health = h, .uptime_ms = up, .has_uptime = true            \
	}

/* Up steadily, or not (yet: how much longer it must run). */
static void steady(void **state)
{
	static const struct {
		struct unit_now u;
		int want;
		uint64_t wait;
	} cases[] = {
	    {U("a", "healthy", "healthy", 100), 1, 0},
	    {U("b", "done", "none", 0), 1, 0},
	    {U("c", "running", "none", 10000), 1, 0},
	    {U("d", "running", "none", 9900), 0, 100},
	    {U("e", "running", "none", 0), 0, 10000},
	    {U("f", "running", "starting", 60000), 0, 0},
	    {U("g", "running", "unhealthy", 60000), 0, 0},
	    {U("h", "backoff", "none", 0), 0, 0},
	    {U("i", "failed", "none", 0), 0, 0},
	    {U("j", "stopped", "none", 0), 0, 0},
	    {U("k", "starting", "none", 0), 0, 0},
	    {{.name = "l", .state = "running", .health = "none"}, 0, 10000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t wait = 99;

		assert_int_equal(unit_steady(&cases[i].u, &wait), cases[i].want);
		assert_int_equal(wait, cases[i].wait);
	}
}

static void not_up(void **state)
{
	static const struct unit_now v[] = {
	    U("console", "running", "none", 12000), U("web", "backoff", "none", 0),
	    U("db", "running", "starting", 8000),   U("ok", "healthy", "healthy", 2000),
	    U("new", "running", "none", 2000),	    U("boot-good", "stopped", "none", 0),
	};
	char out[TRIAL_TEXT_MAX], small[40];

	(void)state;
	units_not_up(v, 6, out, sizeof(out));
	assert_string_equal(out, "web (backoff, health none), db (running, health starting), new "
				 "(running, health none), boot-good (stopped, health none)");
	units_not_up(v, 1, out, sizeof(out));
	assert_string_equal(out, "");
	units_not_up(v, 6, small, sizeof(small)); /* cut, never overrun */
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip), cmocka_unit_test(malformed), cmocka_unit_test(steady),
	    cmocka_unit_test(not_up),	  cmocka_unit_test(escaped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
