/*
 * spawn.c: start a program, and learn whether it really started.
 *
 * fork() cannot tell whether the child's setup (terminal, directory,
 * exec) worked. As in s6 and tini, the child gets the write end of a
 * close-on-exec pipe: a successful exec closes it with nothing written;
 * a failure writes one line ("exec /bin/x: No such file or directory")
 * and exits 127. The parent reads it from its event loop, never waiting.
 *
 * A caller that asks (wait_exec) gets a vfork() child, as posix_spawn's in
 * musl and glibc: it borrows the parent's memory until its exec (or its
 * _exit), and the parent waits that long. No page table is copied, no
 * copy-on-write fault follows in the parent, and the program starts at once
 * instead of when the scheduler gets to a forked child (the first unit's exec
 * ~5% sooner under TCG, bench/RESULTS.md). Only for a program and a working
 * directory on the image's own file systems: the wait includes the child's
 * chdir and exec, which a hung network mount would make endless; any other
 * request forks, and its caller never waits for the child's file systems.
 * What a vfork child may do follows from the sharing: system calls and work
 * on its own stack only; no signal handler runs in it (init and provision
 * have none, and a signal's default action ends the child alone); the one
 * global it sets, environ, for execvp's PATH, the parent puts back as soon as
 * it resumes.
 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* In the child: tell the parent what failed, and end. */
static _Noreturn void child_fail(int report, const char *fmt, ...) PRINTF_LIKE(2, 3);
static _Noreturn void child_fail(int report, const char *fmt, ...)
{
	char buf[256];
	int num = errno, n;
	va_list ap;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(num));
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (n > 0 && report >= 0)
		(void)write_all(report, buf, (size_t)n);
	_exit(127);
}

/* stdio on the terminal, which becomes the controlling one of the new session. */
static void child_tty(const char *tty, int report)
{
	int fd, fl;

	/* O_NONBLOCK: opening a serial line can wait for carrier forever. */
	fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		child_fail(report, "open %s", tty);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		child_fail(report, "fcntl %s", tty);
	/* 1: take it even if a leftover of an earlier session still has it. */
	if (ioctl(fd, TIOCSCTTY, 1) < 0)
		child_fail(report, "make %s the controlling terminal", tty);
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			child_fail(report, "dup2 %s", tty);
	if (fd > 2)
		close(fd);
}

/* No terminal: nothing to read; output goes to out (the unit's log pipe),
 * or where init's goes, the console. */
static void child_notty(int report, int out)
{
	int fd = open("/dev/null", O_RDONLY | O_NOCTTY);

	if (fd < 0)
		child_fail(report, "open /dev/null");
	if (fd != 0) {
		if (dup2(fd, 0) < 0)
			child_fail(report, "dup2 /dev/null");
		close(fd);
	}
	if (out > 2 && (dup2(out, 1) < 0 || dup2(out, 2) < 0))
		child_fail(report, "dup2 log pipe");
}

/*
 * Join the unit's cgroup first: everything after, including the memory
 * exec takes, is charged and limited there. The child moves itself
 * ("0" is the writer) rather than the parent moving it: there is then no
 * moment at which it could exec outside, and a failure (a limit the
 * kernel refuses) comes back as text over the report pipe like any other
 * setup error. clone3(CLONE_INTO_CGROUP) would do the same in the kernel,
 * but musl has no wrapper for it and a raw clone leaves libc's idea of
 * the thread stale in the child.
 */
static void child_cgroup(int dirfd, int report)
{
	int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		child_fail(report, "open cgroup.procs");
	if (write(fd, "0", 1) != 1)
		child_fail(report, "join cgroup");
	close(fd);
}

static void child_ids(const struct spawn_req *r, int report)
{
	/* Groups first: after setuid() there is no right left to change them. */
	if (r->set_gid || r->set_uid) {
		gid_t g = r->set_gid ? r->gid : 0;
		if (setgroups(r->set_gid ? 1 : 0, &g) < 0)
			child_fail(report, "setgroups");
	}
	if (r->set_gid && setgid(r->gid) < 0)
		child_fail(report, "setgid %u", (unsigned)r->gid);
	if (r->set_uid && setuid(r->uid) < 0)
		child_fail(report, "setuid %u", (unsigned)r->uid);
}

static _Noreturn void child(const struct spawn_req *r, int report)
{
	const char *dir = r->working_dir ? r->working_dir : "/";
	sigset_t none;

	/* init blocks nearly every signal; a program must start with none blocked. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Before child_ids(): a lower nice than the parent's needs CAP_SYS_NICE, which
	 * PID 1 and provision have; without it the child only keeps its parent's. */
	(void)setpriority(PRIO_PROCESS, 0, r->nice);
	if (r->cgroup_fd > 2)
		child_cgroup(r->cgroup_fd, report);
	/* Keep the report pipe out of 0-2, which are about to be replaced. */
	if (report >= 0 && report <= 2) {
		int fd = fcntl(report, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			_exit(127);
		report = fd;
	}
	/* Own session and process group: signals for the program reach all its
	 * processes (kill(-pid)), and it may take a controlling terminal. */
	if (setsid() < 0)
		child_fail(report, "setsid");
	if (r->tty)
		child_tty(r->tty, report);
	else
		child_notty(report, r->out_fd);
	/* After child_ids(): the directory is entered with the unit's rights, so a user
	 * who points its working_dir, or a symlink on the way, behind a directory only
	 * root may enter is refused, as systemd refuses it (docs/security.md). */
	child_ids(r, report);
	if (chdir(dir) < 0)
		child_fail(report, "chdir %s", dir);
	/* init's own fd limit is its units' (main.c): the program gets the kernel's default,
	 * whose soft 1024 select() relies on. Last: until exec closes init's fds, the
	 * child's lowest free one may be above it (open cgroup.procs: EMFILE). */
	prlimit(0, RLIMIT_NOFILE, &(struct rlimit){SPAWN_NOFILE_CUR, SPAWN_NOFILE_MAX}, NULL);
	/* execvp looks PATH up in environ: make it the program's environment. */
	environ = (char **)r->envp;
	execvp(r->argv[0], r->argv);
	child_fail(report, "exec %s", r->argv[0]);
}

pid_t spawn(const struct spawn_req *r, int *report, struct err *e)
{
	static char **saved_environ; /* static: nothing of the parent's frame is kept over vfork */
	int p[2] = {-1, -1};
	pid_t pid;

	if (!r->argv || !r->argv[0])
		return err_set(e, EINVAL, "spawn: empty command");
	if (report && pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_set(e, errno, "pipe for %s", r->argv[0]);
	saved_environ = environ;
	pid = r->wait_exec ? vfork() : fork();
	environ = saved_environ; /* a vfork child's exec set it in the memory both shared */
	if (pid < 0) {
		err_set(e, errno, "fork for %s", r->argv[0]);
		if (report) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (report)
			close(p[0]);
		child(r, p[1]);
	}
	if (report) {
		close(p[1]);
		*report = p[0];
	}
	return pid;
}

int spawn_read_report(int fd, char *buf, size_t size, size_t *len)
{
	for (;;) {
		char tmp[256];
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : 1; /* a broken pipe has nothing more to say */
		if (n == 0)
			return 1;
		for (ssize_t i = 0; i < n && *len + 1 < size; i++)
			buf[(*len)++] = tmp[i];
		buf[*len] = '\0';
	}
}

/* pidfd_open(2), Linux 5.3: musl 1.2.3 has no wrapper. */
static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int spawn_wait(pid_t pid, uint64_t deadline, int *status, struct err *e)
{
	int fd = pidfd_of(pid), r = -1;

	if (fd < 0)
		err_set(e, errno, "pidfd_open %d", (int)pid);
	while (fd >= 0) {
		uint64_t now = now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t left = now >= deadline ? 0 : deadline - now;
		int n = left ? poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left) : 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err_set(e, errno, "poll pidfd %d", (int)pid);
		else if (n > 0 && waitpid(pid, status, 0) < 0)
			err_set(e, errno, "waitpid %d", (int)pid);
		else
			r = n > 0;
		break;
	}
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
	}
	return r;
}
