/* test_update_trial.c: the trial record on STATE (init/update/trial.c) and what it says
 * after a rollback; when a critical unit is up (init/update/units.c) and the units a boot that
 * missed its deadline names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/proto.h"
#include "update/units.h"
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

/* PID 1's answer to ps, as its control socket sends it (pid1/control.c): n P_UNIT records,
 * unit-0 .. unit-(n-1), the last one healthy, the others running, then P_OK (or not). */
static void send_ps(int fd, size_t n, bool ok)
{
	struct pmsg p;
	char name[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "unit-%zu", i);
		pmsg_start(&p, P_UNIT);
		pmsg_str(&p, PT_NAME, name);
		pmsg_str(&p, PT_STATE, i + 1 == n ? "healthy" : "running");
		pmsg_u64(&p, PT_UPTIME, 20000);
		assert_int_equal(pmsg_end(&p), 0);
		assert_int_equal(send(fd, p.b, p.len, MSG_NOSIGNAL), (ssize_t)p.len);
	}
	if (ok) {
		pmsg_start(&p, P_OK);
		assert_int_equal(pmsg_end(&p), 0);
		assert_int_equal(send(fd, p.b, p.len, MSG_NOSIGNAL), (ssize_t)p.len);
	}
}

/* units_read on what a writer process sends (more than a socket's buffer holds). */
static int read_ps(size_t n, bool ok, struct unit_now **v, size_t *got, struct err *e)
{
	int sv[2], status, ret;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		send_ps(sv[1], n, ok);
		_exit(0);
	}
	close(sv[1]);
	ret = units_read(sv[0], v, got, e);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	return ret;
}

/* Every unit PID 1 lists, past any fixed count (it runs two sets of DECL_MAX_UNITS, 1024): a
 * critical unit listed last is found, not "no such unit". */
static void many_units(void **state)
{
	static const size_t counts[] = {0, 1, 256, 257, 300, 2048};
	struct unit_now *v;
	struct err e;
	char last[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		assert_int_equal(read_ps(counts[i], true, &v, &n, &e), 0);
		assert_int_equal(n, counts[i]);
		if (!n) {
			free(v);
			continue;
		}
		snprintf(last, sizeof(last), "unit-%zu", n - 1);
		assert_string_equal(v[n - 1].name, last);
		assert_string_equal(v[n - 1].state, "healthy");
		assert_int_equal(units_critical_up(v, n, (const char *[]){last}, 1, &e), 0);
		assert_int_equal(units_critical_up(v, n, (const char *[]){"unit-x"}, 1, &e), -1);
		assert_string_equal(e.msg, "critical unit unit-x: PID 1 has no such unit");
		free(v);
	}
	/* an answer cut before its P_OK: an error, no list */
	assert_int_equal(read_ps(300, false, &v, &n, &e), -1);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_string_equal(e.msg, "PID 1's control socket: no answer");
}

/* The first critical unit not up is the one named. */
static void critical(void **state)
{
	static const struct unit_now v[] = {
	    U("web", "healthy", "healthy", 100),
	    U("db", "running", "none", 2500),
	    U("q", "backoff", "none", 0),
	};
	struct err e;

	(void)state;
	assert_int_equal(units_critical_up(v, 3, (const char *[]){"web"}, 1, &e), 0);
	assert_int_equal(units_critical_up(v, 3, (const char *[]){"web", "db"}, 2, &e), -1);
	assert_string_equal(e.msg, "critical unit db: running 2.5 s, not yet the 10 s a unit "
				   "without a health check must run");
	assert_int_equal(units_critical_up(v, 3, (const char *[]){"q", "db"}, 2, &e), -1);
	assert_string_equal(e.msg, "critical unit q: backoff, health none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip), cmocka_unit_test(malformed), cmocka_unit_test(steady),
	    cmocka_unit_test(not_up),	  cmocka_unit_test(escaped),   cmocka_unit_test(many_units),
	    cmocka_unit_test(critical),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
