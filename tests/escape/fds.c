/* fds.c: reaching the host through a file descriptor (the runc
 * CVE-2024-21626 class): every fd the container was started with, and
 * the /proc links that name directories. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define NSFS_MAGIC 0x6e736673
#define MAX_FD	   1024

static bool inherited[MAX_FD];

void fds_record(void)
{
	for (int fd = 3; fd < MAX_FD; fd++)
		inherited[fd] = fcntl(fd, F_GETFD) >= 0;
}

static enum res setns_child(void *arg, char *detail, size_t size)
{
	int fd = *(int *)arg;

	if (setns(fd, 0) < 0) {
		fmt(detail, size, "setns refused: %s", errname(errno));
		return BLOCKED;
	}
	fmt(detail, size, "setns into it succeeded");
	return ESCAPED;
}

/* One inherited fd: a directory is walked; a namespace is joined; any
 * other kind is a leak of the runtime's (nothing but 0, 1, 2 may be
 * inherited). */
static enum res judge_fd(int fd, char *detail, size_t size)
{
	char link[64], target[200] = "?";
	struct statfs sf;
	struct stat st;
	ssize_t n;

	fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, target, sizeof(target) - 1)) >= 0)
		target[n] = 0;
	if (fstat(fd, &st) < 0) {
		fmt(detail, size, "fstat: %s", errname(errno));
		return ERROR;
	}
	if (S_ISDIR(st.st_mode)) {
		char why[700];
		enum res r;

		if (fchdir(fd) < 0) {
			fmt(detail, size, "fd -> %s: fchdir: %s", target, errname(errno));
			return ESCAPED;
		}
		r = judge_dir(fd, why, sizeof(why));
		if (chdir("/") < 0)
			return ERROR;
		fmt(detail, size, "directory fd -> %s: %s", target, why);
		return r == BLOCKED ? ESCAPED : r; /* a leaked directory even if inside */
	}
	if (fstatfs(fd, &sf) == 0 && sf.f_type == NSFS_MAGIC) {
		int f = fd;
		char why[512];
		enum res r = child_call(setns_child, &f, why, sizeof(why));

		fmt(detail, size, "namespace fd leaked into the container: %s: %s", target, why);
		return r == ERROR ? ERROR : ESCAPED;
	}
	fmt(detail, size, "fd leaked into the container: %s (mode %o)", target,
	    (unsigned)st.st_mode);
	return ESCAPED;
}

static void fd_probe(int fd)
{
	char name[32], detail[1024];
	enum res r;

	fmt(name, sizeof(name), "fd-%d", fd);
	if (!inherited[fd]) {
		report(name, BLOCKED, "not open at start");
		return;
	}
	r = judge_fd(fd, detail, sizeof(detail));
	report(name, r, "%s", detail);
}

static void fd_high(void)
{
	char detail[1024] = "", one[256];
	int open_ = 0;
	enum res worst = BLOCKED;

	for (int fd = 32; fd < MAX_FD; fd++) {
		if (!inherited[fd])
			continue;
		open_++;
		if (judge_fd(fd, one, sizeof(one)) != BLOCKED)
			worst = ESCAPED;
		fmt(detail + strlen(detail), sizeof(detail) - strlen(detail), "fd %d: %s; ", fd,
		    one);
	}
	if (!open_)
		report("fd-32-1023", BLOCKED, "none open at start");
	else
		report("fd-32-1023", worst, "%s", detail);
}

static void link_probe(const char *name, const char *path)
{
	char detail[1024];
	enum res r = judge_path(path, detail, sizeof(detail));

	report(name, r, "%s: %s", path, detail);
}

/* The root and cwd of every process the container sees. */
static void all_pids(void)
{
	char path[300], detail[1024], worst_detail[1400] = "";
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	enum res worst = BLOCKED;

	if (!d) {
		report("proc-pids-root-cwd", ERROR, "opendir /proc: %s", errname(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		for (int i = 0; i < 2; i++) {
			fmt(path, sizeof(path), "/proc/%s/%s", e->d_name, i ? "cwd" : "root");
			if (judge_path(path, detail, sizeof(detail)) == ESCAPED) {
				worst = ESCAPED;
				fmt(worst_detail, sizeof(worst_detail), "%s: %s", path, detail);
			}
			n++;
		}
	}
	closedir(d);
	if (worst == ESCAPED)
		report("proc-pids-root-cwd", ESCAPED, "%s", worst_detail);
	else
		report("proc-pids-root-cwd", BLOCKED, "%d links of every visible pid: inside", n);
}

/* /proc/self/exe must be the container's own file: the same file as its
 * path read in the container. */
static void self_exe(void)
{
	char target[256];
	struct stat a, b;
	ssize_t n = readlink("/proc/self/exe", target, sizeof(target) - 1);
	int fd;

	if (n < 0 || stat("/proc/self/exe", &a) < 0) {
		report("proc-self-exe", ERROR, "readlink/stat /proc/self/exe: %s", errname(errno));
		return;
	}
	target[n] = 0;
	if (stat(target, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		report("proc-self-exe", ESCAPED, "/proc/self/exe (%s) is not the container's file",
		       target);
	else if ((fd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		report("proc-self-exe", ESCAPED, "opened the running executable for writing");
	} else
		report("proc-self-exe", BLOCKED, "%s is the container's file; write: %s", target,
		       errname(errno));
}

int probes_fds(void)
{
	for (int fd = 3; fd <= 31; fd++)
		fd_probe(fd);
	fd_high();
	link_probe("proc-self-cwd", "/proc/self/cwd");
	link_probe("proc-self-root", "/proc/self/root");
	link_probe("proc-1-root", "/proc/1/root");
	link_probe("proc-1-cwd", "/proc/1/cwd");
	all_pids();
	self_exe();
	return 0;
}
