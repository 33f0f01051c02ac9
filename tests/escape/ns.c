/* ns.c: new namespaces and joining namespaces. Docker's default profile
 * denies unshare, setns and namespace flags to clone without
 * CAP_SYS_ADMIN; a container that can make a user namespace gets a full
 * capability set over new namespaces (the kernel's largest attack surface). */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

static const struct {
	const char *name;
	unsigned long flag;
} kinds[] = {{"mnt", CLONE_NEWNS},
	     {"uts", CLONE_NEWUTS},
	     {"ipc", CLONE_NEWIPC},
	     {"net", CLONE_NEWNET},
	     {"pid", CLONE_NEWPID},
	     {"user", CLONE_NEWUSER},
	     {"cgroup", CLONE_NEWCGROUP},
	     {"time", CLONE_NEWTIME},
	     {"user+mnt", CLONE_NEWUSER | CLONE_NEWNS}};

static enum res unshare_child(void *arg, char *detail, size_t size)
{
	unsigned long flag = *(unsigned long *)arg;

	if (unshare((int)flag) < 0) {
		fmt(detail, size, "%s", errname(errno));
		return BLOCKED;
	}
	fmt(detail, size, "unshare succeeded: a new namespace");
	return ESCAPED;
}

/* How a fork-like clone ended: the child exits 0 at once. */
static enum res reap(long pid, int err, char *detail, size_t size)
{
	int st;

	if (pid < 0) {
		fmt(detail, size, "%s", errname(err));
		return BLOCKED;
	}
	waitpid((pid_t)pid, &st, 0);
	fmt(detail, size, "a child was made in a new namespace");
	return ESCAPED;
}

static void clone_probe(const char *kind, unsigned long flag)
{
	char name[48], detail[256];
	long pid;

	fmt(name, sizeof(name), "clone-%s", kind);
	/* raw clone without a stack behaves as fork: the child returns 0 */
	pid = syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	report(name, reap(pid, errno, detail, sizeof(detail)), "%s", detail);
}

static void clone3_probe(const char *kind, unsigned long flag)
{
	struct clone_args ca = {.flags = flag, .exit_signal = SIGCHLD};
	char name[48], detail[256];
	long pid;

	fmt(name, sizeof(name), "clone3-%s", kind);
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	report(name, reap(pid, errno, detail, sizeof(detail)), "%s", detail);
}

static enum res setns_child(void *arg, char *detail, size_t size)
{
	const char *path = arg;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fmt(detail, size, "open %s: %s", path, errname(errno));
		return ERROR;
	}
	if (setns(fd, 0) < 0) {
		fmt(detail, size, "%s: %s", path, errname(errno));
		return BLOCKED;
	}
	/* pid 1 of the container is this probe: its own namespace, but the
	 * call needs CAP_SYS_ADMIN, which a container must not have */
	fmt(detail, size, "%s: setns succeeded (the call is allowed)", path);
	return ESCAPED;
}

int probes_ns(void)
{
	static const char *const ns[] = {"cgroup", "ipc",
					 "mnt",	   "net",
					 "pid",	   "user",
					 "uts",	   "pid_for_children",
					 "time",   "time_for_children"};
	char name[64], path[64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		unsigned long f = kinds[i].flag;

		fmt(name, sizeof(name), "unshare-%s", kinds[i].name);
		in_child(name, unshare_child, &f);
	}
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		fmt(name, sizeof(name), "setns-%s", ns[i]);
		fmt(path, sizeof(path), "/proc/1/ns/%s", ns[i]);
		in_child(name, setns_child, path);
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		/* clone's flags word has no room for CLONE_NEWTIME (CSIGNAL) */
		if (kinds[i].flag != CLONE_NEWTIME)
			clone_probe(kinds[i].name, kinds[i].flag);
		clone3_probe(kinds[i].name, kinds[i].flag);
	}
	return 0;
}
