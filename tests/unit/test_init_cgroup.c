/* Unit tests: init/pid1/cgroup.c against a plain directory standing for /sys/fs/cgroup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/test_init_cgroup.XXXXXX";

/* log.c is not linked: what init would log goes nowhere. */
void log_err(const struct err *e)
{
	(void)e;
}

static void touch(const char *rel)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void expect_file(const char *rel, const char *want)
{
	char path[512], buf[256];
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_true(read_text(path, buf, sizeof(buf), &e) >= 0);
	assert_string_equal(buf, want);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void test_unit_limits(void **state)
{
	struct resources r = {.cpu_weight = 50, .memory_max = 64 << 20, .pids_max = 100};
	struct err e;
	int fd;

	(void)state;
	strcpy(r.cpu_max, "50000 100000");
	mkdir(strcat(strcpy((char[512]){0}, root), "/wisp"), 0755);
	mkdir(strcat(strcpy((char[512]){0}, root), "/wisp/web"), 0755);
	touch("wisp/web/cpu.weight");
	touch("wisp/web/cpu.max");
	touch("wisp/web/memory.max");
	touch("wisp/web/pids.max");
	touch("cgroup.subtree_control");
	touch("wisp/cgroup.subtree_control");
	fd = cgroup_unit(root, "web", &r, &e);
	assert_true(fd > 2);
	close(fd);
	/* The first unit with limits enabled the controllers, one per write: each
	 * overwrote the plain file; the last stays. */
	expect_file("cgroup.subtree_control", "+io");
	expect_file("wisp/cgroup.subtree_control", "+io");
	expect_file("wisp/web/cpu.weight", "50");
	expect_file("wisp/web/cpu.max", "50000 100000");
	expect_file("wisp/web/memory.max", "67108864");
	expect_file("wisp/web/pids.max", "100");

	/* Limits removed: the defaults are written back. */
	memset(&r, 0, sizeof(r));
	r.memory_max = UINT64_MAX;
	fd = cgroup_unit(root, "web", &r, &e);
	assert_true(fd > 2);
	close(fd);
	expect_file("wisp/web/cpu.weight", "100");
	expect_file("wisp/web/cpu.max", "max 100000");
	expect_file("wisp/web/memory.max", "max");
	expect_file("wisp/web/pids.max", "max");
}

/* Run after test_unit_limits: the controllers were enabled there, once for the process. */
static void test_setup(void **state)
{
	struct err e;

	(void)state;
	/* The kernel makes these files; a plain directory gets them made here. */
	assert_int_equal(mkdir(strcat(strcpy((char[512]){0}, root), "/init"), 0755), 0);
	touch("init/cgroup.procs");
	touch("cgroup.subtree_control");
	touch("wisp/cgroup.subtree_control");
	assert_int_equal(cgroup_setup(root, &e), 0);
	expect_file("init/cgroup.procs", "0");
	/* Setting up enables nothing; main.c's call after STATE's mount, here after a
	 * unit with limits, writes nothing again. */
	expect_file("cgroup.subtree_control", "");
	cgroup_controllers(root);
	expect_file("cgroup.subtree_control", "");
	expect_file("wisp/cgroup.subtree_control", "");
}

/* A controller file that is not there (controller not enabled): one error, no start. */
static void test_missing_controller(void **state)
{
	struct resources r = {.pids_max = 10};
	char want[600];
	struct err e;

	(void)state;
	mkdir(strcat(strcpy((char[512]){0}, root), "/wisp"), 0755);
	assert_int_equal(cgroup_unit(root, "db", &r, &e), -1);
	snprintf(want, sizeof(want), "open %s/wisp/db/cpu.weight: No such file or directory", root);
	assert_string_equal(e.msg, want);
	/* No limits asked for: no controller file needed. */
	memset(&r, 0, sizeof(r));
	int fd = cgroup_unit(root, "plain", &r, &e);
	assert_true(fd > 2);
	close(fd);
}

static void test_kill_and_populated(void **state)
{
	struct err e;

	(void)state;
	mkdir(strcat(strcpy((char[512]){0}, root), "/wisp"), 0755);
	mkdir(strcat(strcpy((char[512]){0}, root), "/wisp/k"), 0755);
	touch("wisp/k/cgroup.kill");
	assert_int_equal(cgroup_kill(root, "k", &e), 0);
	expect_file("wisp/k/cgroup.kill", "1");
	assert_false(cgroup_populated(root, "k"));
	touch("wisp/k/cgroup.events");
	{
		char path[512];
		snprintf(path, sizeof(path), "%s/wisp/k/cgroup.events", root);
		FILE *f = fopen(path, "w");
		fputs("populated 1\nfrozen 0\n", f);
		fclose(f);
	}
	assert_true(cgroup_populated(root, "k"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unit_limits),
	    cmocka_unit_test(test_setup),
	    cmocka_unit_test(test_missing_controller),
	    cmocka_unit_test(test_kill_and_populated),
	};

	return cmocka_run_group_tests_name("init_cgroup", tests, setup, teardown);
}
