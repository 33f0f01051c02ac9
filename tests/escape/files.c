/* files.c: writes to the kernel's knobs (/proc/sys, /proc/sysrq-trigger,
 * /sys, cgroup files outside the container's own) and reads of the masked
 * paths. A file that opens for writing is written back with the value it
 * has (so a success changes nothing); /proc/sysrq-trigger and write-only
 * files are only opened: any byte written there acts. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1: opened for writing and wrote its own value back (or could not read
 * it: write-only); 0: refused; errno set. */
static int writable(const char *path, bool write_back, char *why, size_t size)
{
	char buf[4096];
	ssize_t n = -1;
	int fd, rd;

	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		fmt(why, size, "%s", errname(errno));
		return 0;
	}
	if (!write_back) {
		close(fd);
		fmt(why, size, "opened for writing (nothing written)");
		return 1;
	}
	if ((rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0) {
		n = read(rd, buf, sizeof(buf));
		close(rd);
	}
	if (n <= 0) {
		close(fd);
		fmt(why, size, "opened for writing (unreadable, nothing written)");
		return 1;
	}
	if (write(fd, buf, (size_t)n) < 0) {
		fmt(why, size, "opened for writing; writing its own value back: %s",
		    errname(errno));
		close(fd);
		return 0;
	}
	close(fd);
	fmt(why, size, "wrote its own value back");
	return 1;
}

static void one(const char *name, const char *path, bool write_back)
{
	char why[256];

	if (writable(path, write_back, why, sizeof(why)))
		report(name, ESCAPED, "%s: %s", path, why);
	else
		report(name, BLOCKED, "%s: %s", path, why);
}

struct walk {
	int tried, opened;
	char first[512];
};

/* Every file with a write bit under DIR, DEPTH levels deep. */
static void walk(const char *dir, int depth, struct walk *w)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && w->tried < 4000) {
		char path[512], why[256];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth > 0)
			walk(path, depth - 1, w);
		if (!S_ISREG(st.st_mode) || !(st.st_mode & 0222))
			continue;
		w->tried++;
		if (writable(path, true, why, sizeof(why)) && w->opened++ == 0)
			fmt(w->first, sizeof(w->first), "%s: %s", path, why);
	}
	closedir(d);
}

static void walk_probe(const char *name, const char *dir, int depth)
{
	struct walk w = {0};

	walk(dir, depth, &w);
	if (!w.tried)
		report(name, ERROR, "no writable-mode file found under %s", dir);
	else if (w.opened)
		report(name, ESCAPED, "%d of %d files under %s writable, first %s", w.opened,
		       w.tried, dir, w.first);
	else
		report(name, BLOCKED, "%d files with a write bit under %s: none writable", w.tried,
		       dir);
}

/* A masked path reads as nothing (/dev/null, an empty read-only tmpfs). */
static void masked(const char *name, const char *path)
{
	char buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(path, &st) < 0) {
		report(name, BLOCKED, "%s: %s (absent: nothing exposed)", path, errname(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		int n_ = 0;

		while (d && (e = readdir(d)))
			n_ += e->d_name[0] != '.';
		if (d)
			closedir(d);
		report(name, n_ ? ESCAPED : BLOCKED, "%s: a directory of %d entries", path, n_);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		report(name, BLOCKED, "%s: %s", path, errname(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0)
		report(name, ESCAPED, "%s: read %zd bytes (not masked)", path, n);
	else
		report(name, BLOCKED, "%s: reads as empty (masked)", path);
}

/* The LSM label: "unconfined" written to one's own attr file is how a
 * confined process would leave its profile. */
static void attr(const char *name, const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		report(name, BLOCKED, "%s: %s", path, errname(errno));
		return;
	}
	if (write(fd, "unconfined", 10) == 10)
		report(name, ESCAPED, "%s: wrote \"unconfined\"", path);
	else
		report(name, BLOCKED, "%s: write: %s", path, errname(errno));
	close(fd);
}

static void cgroups(void)
{
	one("cgroup-own-procs", "/sys/fs/cgroup/cgroup.procs", true);
	one("cgroup-own-memory-max", "/sys/fs/cgroup/memory.max", true);
	one("cgroup-own-pids-max", "/sys/fs/cgroup/pids.max", true);
	one("cgroup-own-subtree-control", "/sys/fs/cgroup/cgroup.subtree_control", true);
	/* the parent: above the cgroup namespace's root, ".." of the mount
	 * is /sys/fs, not a cgroup */
	one("cgroup-parent-procs", "/sys/fs/cgroup/../cgroup.procs", true);
	one("cgroup-parent-procs-proc1", "/proc/1/root/sys/fs/cgroup/../cgroup.procs", true);
	if (mkdir("/sys/fs/cgroup/escape", 0755) == 0) {
		rmdir("/sys/fs/cgroup/escape");
		report("cgroup-mkdir", ESCAPED, "made a cgroup below its own");
	} else
		report("cgroup-mkdir", BLOCKED, "%s", errname(errno));
	one("cgroup-release-agent", "/sys/fs/cgroup/release_agent", false);
}

int probes_files(void)
{
	one("sysrq-trigger", "/proc/sysrq-trigger", false);
	one("core-pattern", "/proc/sys/kernel/core_pattern", true);
	one("modprobe-path", "/proc/sys/kernel/modprobe", true);
	one("proc-sys-hostname", "/proc/sys/kernel/hostname", true);
	one("proc-sys-drop-caches", "/proc/sys/vm/drop_caches", false);
	one("proc-sys-panic", "/proc/sys/kernel/panic", true);
	one("proc-sys-ip-forward", "/proc/sys/net/ipv4/ip_forward", true);
	walk_probe("proc-sys-walk", "/proc/sys", 6);
	walk_probe("sys-kernel-walk", "/sys/kernel", 3);
	walk_probe("sys-module-walk", "/sys/module", 2);
	walk_probe("sys-class-net-walk", "/sys/class/net/lo/", 1);
	one("sys-power-state", "/sys/power/state", false);
	one("sys-kernel-uevent-helper", "/sys/kernel/uevent_helper", true);
	cgroups();
	attr("proc-self-attr-current", "/proc/self/attr/current");
	attr("proc-self-attr-exec", "/proc/self/attr/exec");
	masked("masked-proc-kcore", "/proc/kcore");
	masked("masked-proc-keys", "/proc/keys");
	masked("masked-proc-timer-list", "/proc/timer_list");
	masked("masked-proc-sched-debug", "/proc/sched_debug");
	masked("masked-proc-latency-stats", "/proc/latency_stats");
	masked("masked-proc-acpi", "/proc/acpi");
	masked("masked-proc-scsi", "/proc/scsi");
	masked("masked-sys-firmware", "/sys/firmware");
	masked("masked-sys-powercap", "/sys/devices/virtual/powercap");
	return 0;
}
