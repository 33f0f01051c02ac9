/* Unit tests: init/lib/spawn.c, fork/exec with setup errors reported over a close-on-exec pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include "pid1/pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *env[] = {"PATH=/usr/bin:/bin", "FOO=bar baz", NULL};

/* Spawn r, wait for it; returns the wait status and what the child reported. */
static int run(struct spawn_req *r, char *why, size_t size)
{
	struct err e = {0};
	size_t len = 0;
	int fd, st, fl;
	pid_t pid;

	if (!r->envp)
		r->envp = env;
	pid = spawn(r, &fd, &e);
	if (pid < 0)
		fail_msg("%s", e.msg);
	fl = fcntl(fd, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	why[0] = '\0';
	assert_int_equal(spawn_read_report(fd, why, size, &len), 1);
	assert_int_equal(strlen(why), len);
	close(fd);
	return st;
}

static void expect_exit(struct spawn_req *r, int code, const char *why_want)
{
	char why[256];
	int st = run(r, why, sizeof(why));

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), code);
	assert_string_equal(why, why_want);
}

static void test_exec_ok(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
	struct spawn_req r = {.argv = argv};

	(void)state;
	/* An exit code of the program itself, and an empty report: exec worked. */
	expect_exit(&r, 3, "");
}

static void test_exec_fails(void **state)
{
	char *argv[] = {"/nonexistent/prog", "x", NULL};
	char *bare[] = {"no-such-program-anywhere", NULL};
	struct spawn_req r = {.argv = argv};

	(void)state;
	expect_exit(&r, 127, "exec /nonexistent/prog: No such file or directory");
	r.argv = bare;
	expect_exit(&r, 127, "exec no-such-program-anywhere: No such file or directory");
}

static void test_path_env_and_dir(void **state)
{
	char dir[] = "/tmp/test_init_spawn.XXXXXX", path[64], buf[64] = "";
	char *argv[] = {"sh", "-c", "[ \"$(pwd)\" = \"$1\" ] && echo \"$FOO\" > out",
			"sh", dir,  NULL};
	struct spawn_req r = {.argv = argv};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	r.working_dir = dir;
	/* "sh" is found through the PATH of the program's environment. */
	expect_exit(&r, 0, "");
	snprintf(path, sizeof(path), "%s/out", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "bar baz\n");
	unlink(path);
	rmdir(dir);
}

static void test_chdir_fails(void **state)
{
	char *argv[] = {"/bin/true", NULL};
	struct spawn_req r = {.argv = argv, .working_dir = "/nonexistent"};

	(void)state;
	expect_exit(&r, 127, "chdir /nonexistent: No such file or directory");
}

/* The working directory is entered with the unit's ids, not PID 1's: a unit's user
 * who points its working_dir (or a symlink on the way) at a directory behind one only
 * root may enter gets its own refusal, not a cwd inside (a container's root, the image
 * store). Needs root, as PID 1 is; make test runs as root. */
static void test_chdir_as_the_user(void **state)
{
	char dir[] = "/tmp/test_init_spawn.XXXXXX", inner[64], link[64], want[160];
	char *argv[] = {"/bin/true", NULL};
	struct spawn_req r = {
	    .argv = argv, .set_uid = true, .uid = 65534, .set_gid = true, .gid = 65534};

	(void)state;
	if (geteuid() != 0)
		fail_msg("test_chdir_as_the_user needs root (it spawns as uid 65534)");
	assert_non_null(mkdtemp(dir)); /* 0700, root's */
	snprintf(inner, sizeof(inner), "%s/in", dir);
	assert_int_equal(mkdir(inner, 0755), 0);
	r.working_dir = inner;
	snprintf(want, sizeof(want), "chdir %s: Permission denied", inner);
	expect_exit(&r, 127, want);
	/* a symlink the user could plant in a directory of theirs: the same */
	snprintf(link, sizeof(link), "%s.link", dir);
	assert_int_equal(symlink(inner, link), 0);
	r.working_dir = link;
	snprintf(want, sizeof(want), "chdir %s: Permission denied", link);
	expect_exit(&r, 127, want);
	unlink(link);
	rmdir(inner);
	rmdir(dir);
}

/*
 * wait_exec (vfork): spawn() returns once the child has exec'd or ended, so a setup
 * error is in the report pipe already (a forked child may not have run yet), and the
 * environment the child's execvp needed is not left in the parent's environ.
 */
static void test_returns_after_exec(void **state)
{
	char *argv[] = {"/bin/true", NULL};
	char *path_only[] = {"PATH=/nonexistent", NULL};
	struct spawn_req r = {
	    .argv = argv, .envp = path_only, .working_dir = "/nonexistent", .wait_exec = true};
	char **before = environ, why[256] = "";
	struct err e = {0};
	size_t len = 0;
	int fd, st;
	pid_t pid;

	(void)state;
	pid = spawn(&r, &fd, &e);
	assert_true(pid > 0);
	assert_ptr_equal(environ, before);
	/* no wait before this read: the child has written already (its end, and so the
	 * pipe's EOF, may still be on the way: the parent resumes as its memory goes) */
	(void)spawn_read_report(fd, why, sizeof(why), &len);
	assert_string_equal(why, "chdir /nonexistent: No such file or directory");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(spawn_read_report(fd, why, sizeof(why), &len), 1);
	close(fd);
	argv[0] = "true"; /* found through path_only's PATH: it is not there */
	r.working_dir = NULL;
	expect_exit(&r, 127, "exec true: No such file or directory");
	assert_ptr_equal(environ, before);
}

/*
 * Without wait_exec the parent never waits for the child's setup: here the child
 * blocks joining its "cgroup", whose cgroup.procs is a FIFO nobody reads yet (as a
 * working directory on a hung NFS mount would block it); spawn() has returned all
 * the same, and the child goes on once the FIFO is read. A vfork would hang here
 * (alarm: the test fails instead of hanging).
 */
static void test_fork_does_not_wait(void **state)
{
	char dir[] = "/tmp/test_init_spawn.XXXXXX", fifo[64], got[8] = "";
	char *argv[] = {"/bin/true", NULL};
	struct spawn_req r = {.argv = argv};
	struct err e = {0};
	int st, rd;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/cgroup.procs", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	r.cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(r.cgroup_fd > 2);
	alarm(10);
	pid = spawn(&r, NULL, &e);
	alarm(0);
	assert_true(pid > 0);
	rd = open(fifo, O_RDONLY); /* the child's open of the write end is waiting for this */
	assert_true(rd >= 0);
	assert_int_equal(read(rd, got, sizeof(got) - 1), 1);
	assert_string_equal(got, "0");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(rd);
	close(r.cgroup_fd);
	unlink(fifo);
	rmdir(dir);
}

/* Own session, no blocked signal, stdin on /dev/null. */
static void test_child_state(void **state)
{
	char *argv[] = {
	    "/bin/sh", "-c",
	    "set -e; [ \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ ]; "
	    /* grep's own mask, as exec'd: the shell's may be briefly blocked around a fork */
	    "grep -q '^SigBlk:[[:space:]]*0*$' /proc/self/status; "
	    "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ]",
	    NULL};
	struct spawn_req r = {.argv = argv};
	sigset_t set, old;

	(void)state;
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, &old); /* as init does */
	expect_exit(&r, 0, "");
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Whether this process may set its nice to v: a lower one than its own needs CAP_SYS_NICE
 * (or RLIMIT_NICE), asked of a child so that this process keeps its own. */
static bool nice_allowed(int v)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(setpriority(PRIO_PROCESS, 0, v) == 0 ? 0 : 1);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The child's nice is the request's, not its parent's (init lowers its own while early
 * units start), within the kernel's -20..19. The request differs from this process's nice,
 * so that a child only inheriting it fails: 3 above it (19 once past it), or 3 below when
 * it is at 19 already (the test run under nice -n 19), which the child gets only where this
 * process could lower its own (root: CAP_SYS_NICE); elsewhere it keeps 19 (spawn.c). */
static void test_nice(void **state)
{
	char want[16];
	char *argv[] = {"/bin/sh", "-c", "[ \"$(cut -d' ' -f19 /proc/$$/stat)\" = \"$1\" ]",
			"sh",	   want, NULL};
	struct spawn_req r = {.argv = argv};
	int mine, expect;

	(void)state;
	errno = 0;
	mine = getpriority(PRIO_PROCESS, 0);
	assert_int_equal(errno, 0);
	r.nice = mine < 19 ? mine + 3 : mine - 3;
	expect = r.nice > 19 ? 19 : r.nice;
	if (expect < mine && !nice_allowed(expect))
		expect = mine;
	snprintf(want, sizeof(want), "%d", expect);
	expect_exit(&r, 0, "");
}

static void test_tty_missing(void **state)
{
	char *argv[] = {"/bin/true", NULL};
	struct spawn_req r = {.argv = argv, .tty = "/nonexistent/tty"};

	(void)state;
	expect_exit(&r, 127, "open /nonexistent/tty: No such file or directory");
}

/* The terminal becomes the controlling one: /dev/tty opens and reads it. */
static void test_tty_controlling(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "read x < /dev/tty && [ \"$x\" = hi ] && [ -t 1 ]", NULL};
	struct spawn_req r = {.argv = argv};
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	(void)state;
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	r.tty = ptsname(master);
	assert_non_null(r.tty);
	/* Typed before the program reads: the line discipline keeps it. */
	assert_int_equal(write(master, "hi\n", 3), 3);
	expect_exit(&r, 0, "");
	close(master);
}

static void test_empty_argv(void **state)
{
	char *argv[] = {NULL};
	struct spawn_req r = {.argv = argv, .envp = env};
	struct err e = {0};
	int fd;

	(void)state;
	assert_int_equal(spawn(&r, &fd, &e), -1);
	assert_string_equal(e.msg, "spawn: empty command: Invalid argument");
}

/* out_fd: stdout and stderr into the log pipe; cgroup_fd: the child joins (writes "0"). */
static void test_out_and_cgroup(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
	char dir[] = "/tmp/test_init_spawn.XXXXXX", path[64], buf[64], why[256];
	struct spawn_req r = {.argv = argv};
	struct err e;
	int p[2], fd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	close(fd);
	r.cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(pipe(p), 0);
	/* Above 2, as init's always are (its 0-2 are the console). */
	r.out_fd = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
	close(p[1]);
	expect_exit(&r, 0, "");
	close(r.out_fd);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "out\nerr\n");
	close(p[0]);
	assert_true(read_text(path, buf, sizeof(buf), &e) >= 0);
	assert_string_equal(buf, "0");
	unlink(path);
	/* A cgroup the child cannot join: a setup error like any other. */
	expect_exit(&r, 127, "open cgroup.procs: No such file or directory");
	close(r.cgroup_fd);
	rmdir(dir);
	(void)why;
}

/* No report pipe: the exit status is all there is. */
static void test_no_report(void **state)
{
	char *argv[] = {"/nonexistent/x", NULL};
	struct spawn_req r = {.argv = argv, .envp = env};
	struct err e;
	pid_t pid;
	int st;

	(void)state;
	pid = spawn(&r, NULL, &e);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 127);
}

/* spawn_wait: the exit within the deadline, the deadline before the exit (the child
 * left running, not reaped), and a pid that is not a child (an error, nothing hangs). */
static void test_wait(void **state)
{
	char *quick[] = {"/bin/sh", "-c", "exit 3", NULL};
	char *slow[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct spawn_req r = {.argv = quick, .envp = env};
	struct err e;
	pid_t pid;
	int st = 0;

	(void)state;
	assert_true((pid = spawn(&r, NULL, &e)) > 0);
	assert_int_equal(spawn_wait(pid, now_ms() + 60000, &st, &e), 1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);

	r.argv = slow;
	assert_true((pid = spawn(&r, NULL, &e)) > 0);
	assert_int_equal(spawn_wait(pid, now_ms() + 200, &st, &e), 0);
	assert_int_equal(kill(pid, 0), 0); /* still there: the caller decides */
	kill(pid, SIGKILL);
	assert_int_equal(spawn_wait(pid, now_ms() + 60000, &st, &e), 1);
	assert_true(WIFSIGNALED(st));

	assert_int_equal(spawn_wait(pid, now_ms() + 60000, &st, &e), -1); /* reaped already */
	assert_non_null(strstr(e.msg, "pidfd_open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exec_ok),
	    cmocka_unit_test(test_exec_fails),
	    cmocka_unit_test(test_path_env_and_dir),
	    cmocka_unit_test(test_chdir_fails),
	    cmocka_unit_test(test_chdir_as_the_user),
	    cmocka_unit_test(test_child_state),
	    cmocka_unit_test(test_nice),
	    cmocka_unit_test(test_tty_missing),
	    cmocka_unit_test(test_tty_controlling),
	    cmocka_unit_test(test_empty_argv),
	    cmocka_unit_test(test_out_and_cgroup),
	    cmocka_unit_test(test_no_report),
	    cmocka_unit_test(test_wait),
	    cmocka_unit_test(test_returns_after_exec),
	    cmocka_unit_test(test_fork_does_not_wait),
	};

	return cmocka_run_group_tests_name("init_spawn", tests, NULL, NULL);
}
