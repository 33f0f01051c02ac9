/* Unit tests: init/pid1/cgroup.c against a plain directory standing for /sys/fs/cgroup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[] = "/tmp/test_init_cgroup.XXXXXX";

/* log.c is not linked: what init would log goes nowhere. */
void log_err(const struct err *e)
{
	(void)e;
}

static char logged[512]; /* the last log_msg() line */

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(logged, sizeof(logged), fmt, ap);
	va_end(ap);
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
	mkdir(strcat(strcpy((char[512]){0}, root), "/containers"), 0755);
	touch("containers/cgroup.subtree_control");
	touch("containers/memory.max");
	touch("containers/pids.max");
	fd = cgroup_unit(root, CGROUP_UNITS, "web", &r, &e);
	assert_true(fd > 2);
	close(fd);
	/* The first unit with limits enabled the controllers, one per write: each
	 * overwrote the plain file; the last stays. */
	expect_file("cgroup.subtree_control", "+io");
	expect_file("wisp/cgroup.subtree_control", "+io");
	expect_file("containers/cgroup.subtree_control", "+io");
	/* and gave the containers' pool the machine's memory less the host's part */
	{
		struct sysinfo si;
		char want[32];
		assert_int_equal(sysinfo(&si), 0);
		snprintf(want, sizeof(want), "%llu",
			 (unsigned long long)cgroup_pool_max((uint64_t)si.totalram * si.mem_unit,
							     CGROUP_RESERVE_DEFAULT));
		expect_file("containers/memory.max", want);
		assert_non_null(strstr(logged, "containers: "));
	}
	/* and the kernel's tasks less the host's part: the lower of its two limits (its pids
	 * less the 300 it never gives again) */
	{
		char buf[32], want[32];
		uint64_t pid_max, threads;
		read_text("/proc/sys/kernel/pid_max", buf, sizeof(buf), &e);
		assert_non_null(dec_scan(buf, &pid_max));
		read_text("/proc/sys/kernel/threads-max", buf, sizeof(buf), &e);
		assert_non_null(dec_scan(buf, &threads));
		snprintf(want, sizeof(want), "%llu",
			 (unsigned long long)cgroup_pool_pids(
			     pid_max - 300 < threads ? pid_max - 300 : threads));
		expect_file("containers/pids.max", want);
	}
	expect_file("wisp/web/cpu.weight", "50");
	expect_file("wisp/web/cpu.max", "50000 100000");
	expect_file("wisp/web/memory.max", "67108864");
	expect_file("wisp/web/pids.max", "100");

	/* Limits removed: the defaults are written back. */
	memset(&r, 0, sizeof(r));
	r.memory_max = UINT64_MAX;
	fd = cgroup_unit(root, CGROUP_UNITS, "web", &r, &e);
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
	assert_int_equal(cgroup_unit(root, CGROUP_UNITS, "db", &r, &e), -1);
	snprintf(want, sizeof(want), "open %s/wisp/db/cpu.weight: No such file or directory", root);
	assert_string_equal(e.msg, want);
	/* No limits asked for: no controller file needed. */
	memset(&r, 0, sizeof(r));
	int fd = cgroup_unit(root, CGROUP_UNITS, "plain", &r, &e);
	assert_true(fd > 2);
	close(fd);
}

static void test_kill_and_populated(void **state)
{
	char dir[512];
	struct err e;
	int fd;

	(void)state;
	mkdir(strcat(strcpy((char[512]){0}, root), "/containers"), 0755);
	mkdir(strcat(strcpy(dir, root), "/containers/k"), 0755);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	touch("containers/k/cgroup.kill");
	assert_int_equal(cgroup_kill(fd, "k", &e), 0);
	expect_file("containers/k/cgroup.kill", "1");
	assert_false(cgroup_populated(fd));
	touch("containers/k/cgroup.events");
	{
		char path[512];
		snprintf(path, sizeof(path), "%s/containers/k/cgroup.events", root);
		FILE *f = fopen(path, "w");
		fputs("frozen 0\npopulated 1\n", f);
		fclose(f);
	}
	assert_true(cgroup_populated(fd));
	close(fd);
}

/* Without cgroup.kill (before 5.14), each pid of cgroup.procs is signalled; with no
 * cgroup.procs either, the error names the unit. */
static void test_kill_each(void **state)
{
	char dir[512];
	struct err e;
	pid_t pid;
	int fd, st;

	(void)state;
	mkdir(strcat(strcpy((char[512]){0}, root), "/wisp"), 0755);
	mkdir(strcat(strcpy(dir, root), "/wisp/old"), 0755);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cgroup_kill(fd, "old", &e), -1);
	assert_non_null(strstr(e.msg, "cgroup of old: cgroup.procs"));
	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	{
		char path[600];
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		FILE *f = fopen(path, "w");
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	assert_int_equal(cgroup_kill(fd, "old", &e), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(fd);
}

/* A container unit's cgroup is made in the pool. */
static void test_container_in_pool(void **state)
{
	struct resources r = {0};
	struct stat st;
	char path[600];
	struct err e;
	int fd;

	(void)state;
	fd = cgroup_unit(root, CGROUP_POOL, "web2", &r, &e);
	assert_true(fd > 2);
	close(fd);
	snprintf(path, sizeof(path), "%s/containers/web2", root);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/wisp/web2", root);
	assert_int_equal(stat(path, &st), -1);
}

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* The pool's memory.max: the machine's memory less the host's part (docs/declarations.md). */
static void test_pool_max(void **state)
{
	static const struct {
		uint64_t total, reserve, want;
	} cases[] = {
	    {384 * MIB, CGROUP_RESERVE_DEFAULT, 320 * MIB}, /* a sixteenth is 24 MiB: 64 */
	    {4 * GIB, CGROUP_RESERVE_DEFAULT, 4 * GIB - 256 * MIB},
	    {32 * GIB, CGROUP_RESERVE_DEFAULT, 31 * GIB}, /* a sixteenth is 2 GiB: 1 */
	    {1 * GIB, 0, 0},				  /* wisp.host_reserve=0: no limit */
	    {1 * GIB, 100 * MIB, 924 * MIB},
	    {1 * GIB, 2 * GIB, 960 * MIB},	   /* not below the memory: the default */
	    {1 * GIB, 1000, GIB - 4096},	   /* whole pages */
	    {48 * MIB, CGROUP_RESERVE_DEFAULT, 0}, /* less than the least reserve */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = cgroup_pool_max(cases[i].total, cases[i].reserve);
		if (got != cases[i].want)
			fail_msg("cases[%zu]: %llu, not %llu", i, (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

/* The pool's pids.max: the kernel's tasks less a sixteenth, at least 256. */
static void test_pool_pids(void **state)
{
	static const struct {
		uint64_t tasks, want;
	} cases[] = {
	    {32768, 30720}, {4194304, 3932160}, {1024, 768}, {3000, 2744}, {256, 0}, {0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = cgroup_pool_pids(cases[i].tasks);
		if (got != cases[i].want)
			fail_msg("cases[%zu]: %llu, not %llu", i, (unsigned long long)got,
				 (unsigned long long)cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unit_limits),	       cmocka_unit_test(test_setup),
	    cmocka_unit_test(test_missing_controller), cmocka_unit_test(test_kill_and_populated),
	    cmocka_unit_test(test_kill_each),	       cmocka_unit_test(test_container_in_pool),
	    cmocka_unit_test(test_pool_max),	       cmocka_unit_test(test_pool_pids),
	};

	return cmocka_run_group_tests_name("init_cgroup", tests, setup, teardown);
}
