/* Unit tests: init/provision/firewall.c and run.c, the order of provision's children.
 * The first table runs beside provision and nothing provision runs starts before it
 * has ended (any program may bring up an interface). FW_BIN is a stand-in here (this
 * test's build only): a script that takes 300 ms, then leaves its arguments and its nice
 * value in a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "provision/provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* The stand-in: exit status `code`, its arguments in `args` once it is done. */
static void stand_in(int code)
{
	FILE *f = fopen(FW_BIN, "w");

	assert_non_null(f);
	/* field 19 of stat: the nice value */
	fprintf(f,
		"#!/bin/sh\nsleep 0.3\necho \"$* nice=$(cut -d' ' -f19 /proc/$$/stat)\" > %s.new "
		"&& mv %s.new %s\nexit %d\n",
		args, args, args, code);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(FW_BIN, 0755), 0);
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
	stand_in(0);
	unlink(args);
	fw_start();
	snprintf(cmd, sizeof(cmd), "test -e %s", args);
	assert_int_equal(cc_run("bootcmd", argv, NULL, 5000, NULL), 0);
	slurp(args, buf, sizeof(buf));
	/* beside provision's own work, behind it (FW_NICE) */
	assert_string_equal(buf, "network firewall --allow 8080/tcp nice=10\n");
	/* Nothing opened since: the same table, not made again. */
	unlink(args);
	fw_apply();
	assert_int_equal(access(args, F_OK), -1);
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: closed but for 8080/tcp\n"));
}

/* A port opened after the first table (an sshd's): made again, with it. */
static void test_apply_again(void **state)
{
	char buf[256];

	(void)state;
	fw_allow("22/tcp");
	unlink(args);
	fw_apply();
	slurp(args, buf, sizeof(buf));
	/* provision waits for this one: at its own priority */
	assert_string_equal(buf, "network firewall --allow 8080/tcp --allow 22/tcp nice=0\n");
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: closed but for 8080/tcp, 22/tcp\n"));
}

/* A failed first table: the end tries again, and the report says what failed. */
static void test_failure(void **state)
{
	char buf[512];

	(void)state;
	stand_in(1);
	fw_start();
	fw_wait();
	fw_apply();
	slurp(report, buf, sizeof(buf));
	assert_non_null(strstr(buf, "firewall: FAILED, ports not filtered\n"));
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	unlink(report);
	unlink(args);
	unlink(FW_BIN);
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
	    cmocka_unit_test(test_apply_again),
	    cmocka_unit_test(test_failure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
