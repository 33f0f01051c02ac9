/*
 * Unit tests: init/pid1/provrun.c, PID 1's runner of provision: success,
 * each kind of failure (status, signal, deadline, a program that cannot
 * start) and its safe-mode rerun, the report lines, and a shutdown that
 * cancels it. Processes, timers and cgroups are stubs (pids above any
 * pid_max, so the real kill(2) calls reach no process); the report is a
 * real file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAKE_PID 0x10000000 /* > PID_MAX_LIMIT (4M): no such process */

static char report[] = "/tmp/test_init_provrun.XXXXXX";
static char spawned[256];	/* argv of each spawn, "|"-separated */
static char logged[1024];	/* init's lines, "|"-separated */
static const char *setup_error; /* what the next run's report pipe says ("" none) */
static pid_t next_pid = FAKE_PID;
static struct timer *armed;
static int done_calls, done_ok;

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "|");
	vsnprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), fmt, ap);
	va_end(ap);
}
void log_err(const struct err *e)
{
	log_msg(LOG_ERR, "%s", e->msg);
}
void timer_start(struct timer *t, uint64_t due)
{
	t->armed = true;
	t->due = due;
	armed = t;
}
void timer_stop(struct timer *t)
{
	t->armed = false;
	if (armed == t)
		armed = NULL;
}
pid_t spawn(const struct spawn_req *r, int *fd, struct err *e)
{
	(void)e;
	for (size_t i = 0; r->argv[i]; i++)
		snprintf(spawned + strlen(spawned), sizeof(spawned) - strlen(spawned), "%s%s",
			 i	      ? " "
			 : spawned[0] ? "|"
				      : "",
			 r->argv[i]);
	*fd = dup(0);
	return next_pid++;
}
int spawn_read_report(int fd, char *buf, size_t size, size_t *len)
{
	(void)fd;
	*len = (size_t)snprintf(buf, size, "%s", setup_error);
	return 1;
}
int cgroup_unit(const char *root, const char *group, const char *name, const struct resources *r,
		struct err *e)
{
	(void)root, (void)r;
	assert_string_equal(group, CGROUP_UNITS);
	assert_string_equal(name, "provision");
	return dup(0) < 0 ? err_set(e, 0, "dup") : 3;
}
int cgroup_kill(int dir, const char *name, struct err *e)
{
	(void)dir, (void)name, (void)e;
	return 0;
}
bool cgroup_populated(int dir)
{
	(void)dir;
	return true;
}

static void done(bool ok)
{
	done_calls++;
	done_ok = ok;
}

/* One boot: the first run ends with st1 (setup error err1), the safe one (if any) st2/err2. */
struct provrun_case {
	int st1;
	const char *err1;
	bool late1; /* the first run passes its deadline (then st1 is SIGKILL's) */
	int st2;
	const char *err2;
	bool failed; /* safe mode failed too: done(false) */
	const char *want_spawned, *want_log, *want_report;
};

#define P	    "/usr/libexec/wisp/provision"
#define KILLED(sig) (sig)
#define EXIT(n)	    ((n) << 8)

static const struct provrun_case cases[] = {
    {.st1 = EXIT(0), .want_spawned = P, .want_log = "|provision done (0 ms)", .want_report = ""},
    {.st1 = EXIT(1),
     .st2 = EXIT(0),
     .want_spawned = P "|" P " --safe",
     .want_log = "|provision exited with status 1; running it in safe mode"
		 "|provision --safe done (0 ms)",
     /* once, before --safe (which appends to the report) */
     .want_report = "error: provision exited with status 1\n"},
    {.st1 = KILLED(SIGSEGV),
     .st2 = EXIT(3),
     .failed = true,
     .want_spawned = P "|" P " --safe",
     .want_log = "|provision killed by signal 11 (SEGV); running it in safe mode"
		 "|provision --safe exited with status 3; booting with /etc/wisp only",
     .want_report = "error: provision killed by signal 11 (SEGV)\n"
		    "error: provision --safe exited with status 3\n"},
    {.st1 = KILLED(SIGKILL),
     .late1 = true,
     .st2 = EXIT(0),
     .want_spawned = P "|" P " --safe",
     .want_log = "|provision passed its deadline of 300 s; running it in safe mode"
		 "|provision --safe done (0 ms)",
     .want_report = "error: provision passed its deadline of 300 s\n"},
    {.st1 = EXIT(127),
     .err1 = "exec " P ": No such file or directory",
     .st2 = EXIT(127),
     .err2 = "exec " P ": No such file or directory",
     .failed = true,
     .want_spawned = P "|" P " --safe",
     .want_log = "|provision could not start: exec " P ": No such file or directory; running "
		 "it in safe mode|provision --safe could not start: exec " P
		 ": No such file or directory; booting with /etc/wisp only",
     .want_report =
	 "error: provision could not start: exec " P ": No such file or directory\n"
	 "error: provision --safe could not start: exec " P ": No such file or directory\n"},
};

static void reset(void)
{
	FILE *f = fopen(report, "w");

	assert_non_null(f);
	fclose(f);
	spawned[0] = logged[0] = '\0';
	done_calls = 0;
	setup_error = "";
}

static void run_case(const struct provrun_case *t)
{
	char text[1024];
	struct err e;
	pid_t first = next_pid;

	reset();
	provrun_start(true, done);
	assert_true(provrun_running());
	assert_non_null(armed);
	if (t->late1) {
		armed->fire(armed); /* the deadline */
		assert_true(provrun_running());
	}
	setup_error = t->err1 ? t->err1 : "";
	assert_false(provrun_reaped(first + 100, 0)); /* not its pid */
	assert_true(provrun_reaped(first, t->st1));
	if (next_pid > first + 1) {
		assert_int_equal(done_calls, 0);
		setup_error = t->err2 ? t->err2 : "";
		assert_true(provrun_reaped(first + 1, t->st2));
	}
	assert_int_equal(done_calls, 1);
	assert_int_equal(done_ok, !t->failed);
	assert_false(provrun_running());
	assert_null(armed);
	assert_string_equal(spawned, t->want_spawned);
	/* the timings vary: compare with "(N ms)" as "(0 ms)" */
	for (char *p = strstr(logged, " done ("); p; p = strstr(p + 1, " done (")) {
		char *q = strchr(p, ')');
		memmove(p + 7, "0 ms", 4);
		memmove(p + 11, q, strlen(q) + 1);
	}
	assert_string_equal(logged, t->want_log);
	assert_true(read_text(report, text, sizeof(text), &e) >= 0);
	assert_string_equal(text, t->want_report);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		fprintf(stderr, "case %zu\n", i);
		run_case(&cases[i]);
	}
}

/* A shutdown while it runs: no safe mode, no units loaded after it. */
static void test_cancel(void **state)
{
	pid_t first = next_pid;

	(void)state;
	reset();
	provrun_start(false, done);
	provrun_cancel();
	assert_false(provrun_running());
	assert_true(provrun_reaped(first, SIGTERM));
	assert_int_equal(done_calls, 0);
	assert_string_equal(spawned, P);
}

static int setup(void **state)
{
	int fd = mkstemp(report);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	provrun_set_report(report);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unlink(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests_name("init_provrun", tests, setup, teardown);
}
