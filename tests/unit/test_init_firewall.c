/* Unit tests: init/provision/firewall.c and run.c, the order of provision's children.
 * The first table is made beside provision and nothing provision runs starts before
 * it has ended (any program may bring up an interface). cl_host_firewall() is a
 * stand-in here, and cl_host_firewall_add() (tests/containerd-lite/net.py and the
 * system tests make the real table): it takes 300 ms, then leaves its ports, its
 * nice value and its process in a file, and returns `code` (`add_code`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "containerd-lite.h"
#include "provision/provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

void log_err(const struct err *e)
{
	(void)e;
}

static char dir[] = "/tmp/test_init_firewall.XXXXXX", report[64], args[64];
static int code, add_code; /* what the stand-ins return */
static pid_t provision;	   /* this test's process: the stand-in says whether it ran in it */
static int base;	   /* its nice value (whatever make's): provision's own work keeps it */

/* FMT with this test's nice value for each %d */
static const char *at_base(const char *fmt)
{
	static char line[256];

	snprintf(line, sizeof(line), fmt, base, base);
	return line;
}

/* ARGS: "[off |add ]PORT... nice=N in provision|in a child\n" (appended to by an add:
 * a failed one, then the whole table). */
static int stand_in(const char *how, const char *const *allow, unsigned n, int ret,
		    struct cl_err *e)
{
	struct timespec t = {0, 300 * 1000 * 1000};
	char tmp[80], old[128] = "";
	FILE *f;

	nanosleep(&t, NULL);
	if ((f = fopen(args, "r"))) {
		(void)!fgets(old, sizeof(old), f);
		fclose(f);
	}
	snprintf(tmp, sizeof(tmp), "%s.new", args);
	assert_non_null(f = fopen(tmp, "w"));
	fprintf(f, "%s%s", old, how);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s ", allow[i]);
	fprintf(f, "nice=%d %s\n", getpriority(PRIO_PROCESS, 0),
		getpid() == provision ? "in provision" : "in a child");
	fclose(f);
	rename(tmp, args);
	if (ret)
		snprintf(e->msg, sizeof(e->msg), "a stand-in's failure");
	return ret ? -1 : 0;
}

int cl_host_firewall(const char *const *allow, unsigned n, bool off, struct cl_err *e)
{
	return stand_in(off ? "off " : "", allow, n, code, e);
}

int cl_host_firewall_add(const char *const *allow, unsigned n, struct cl_err *e)
{
	return stand_in("add ", allow, n, add_code, e);
}

static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static int setup(void **state)
{
	char etc[128];
	FILE *f;

	(void)state;
	provision = getpid();
	base = getpriority(PRIO_PROCESS, 0);
	assert_non_null(mkdtemp(dir));
	snprintf(report, sizeof(report), "%s/report", dir);
	snprintf(args, sizeof(args), "%s/args", dir);
	cloudinit_report_to(report);
	prov.root = dir; /* the image's firewall.allow is read from here */
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	assert_int_equal(mkdir(etc, 0755), 0);
	strcat(etc, "/wisp");
	assert_int_equal(mkdir(etc, 0755), 0);
	strcat(etc, "/firewall");
	assert_non_null(f = fopen(etc, "w"));
	fputs("# the spec's firewall.allow\n8080/tcp\n", f);
	fclose(f);
	return 0;
}

/* A command provision runs (bootcmd) starts only once the first table is made. */
static void test_command_waits(void **state)
{
	char cmd[128], buf[256];
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};

	(void)state;
	code = 0;
	unlink(args);
	fw_start();
	snprintf(cmd, sizeof(cmd), "test -e %s", args);
	assert_int_equal(cc_run("bootcmd", argv, NULL, 5000, NULL), 0);
	slurp(args, buf, sizeof(buf));
	/* beside provision's own work, behind it (FW_NICE) */
	assert_string_equal(buf, "8080/tcp nice=10 in a child\n");
	/* Nothing opened since: the same table, not made again. */
	unlink(args);
	fw_apply();
	assert_int_equal(access(args, F_OK), -1);
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: closed but for 8080/tcp\n"));
}

/* A port opened after the first table (an sshd's): added to it, by provision itself
 * (it waits for this one). */
static void test_add(void **state)
{
	char buf[256];

	(void)state;
	fw_allow("22/tcp");
	unlink(args);
	fw_apply();
	slurp(args, buf, sizeof(buf));
	assert_string_equal(buf, at_base("add 22/tcp nice=%d in provision\n"));
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: closed but for 8080/tcp, 22/tcp\n"));
}

/* An add that fails (the table gone): the table made whole, with every port. */
static void test_add_fails(void **state)
{
	char buf[256];

	(void)state;
	code = 0;
	add_code = 1;
	fw_start();
	fw_wait();
	fw_allow("2222/tcp");
	unlink(args);
	fw_apply();
	slurp(args, buf, sizeof(buf));
	assert_string_equal(buf, at_base("add 2222/tcp nice=%d in provision\n"
					 "8080/tcp 22/tcp 2222/tcp nice=%d in provision\n"));
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: closed but for 8080/tcp, 22/tcp, 2222/tcp\n"));
	add_code = 0;
}

/* A failed first table: the end tries again, and the report says what failed. */
static void test_failure(void **state)
{
	char buf[512];

	(void)state;
	code = 1;
	fw_start();
	fw_wait();
	unlink(args);
	fw_apply();
	/* tried again at the end, by provision itself */
	slurp(args, buf, sizeof(buf));
	assert_string_equal(buf, at_base("8080/tcp 22/tcp 2222/tcp nice=%d in provision\n"));
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: FAILED, ports not filtered\n"));
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	unlink(report);
	unlink(args);
	snprintf(path, sizeof(path), "%s/etc/wisp/firewall", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc/wisp", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/etc", dir);
	rmdir(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_waits),
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_add_fails),
	    cmocka_unit_test(test_failure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
