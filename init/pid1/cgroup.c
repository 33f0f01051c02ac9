/*
 * cgroup.c: one cgroup v2 group per unit: ROOT/wisp/<name> for the host's
 * units (services, oneshots, provision), ROOT/containers/<name> for containers.
 *
 * cgroup v2 lets a group hand controllers to its children only when it
 * has no process of its own ("no internal processes"); the root is the
 * exception, but ROOT/wisp is not. So init moves itself into a leaf,
 * ROOT/init, and enables the controllers in ROOT, ROOT/wisp and
 * ROOT/containers (units already in them do not prevent that: neither has
 * processes of its own); every unit then gets its own limits.
 *
 * ROOT/containers is the containers' pool: its memory.max is the machine's
 * memory less what the host keeps (wisp.host_reserve, docs/declarations.md),
 * so containers together, however they use memory (a tmpfs, a memfd: pages in
 * no process's RSS, charged to the writer's cgroup), meet an OOM of their own
 * pool, whose killer picks only among their processes, before the machine
 * runs short and the host's services and page cache pay (Kubernetes' node
 * allocatable; systemd's machine.slice with a limit). Its pids.max keeps the
 * host a part of the kernel's tasks the same way: containers that fork
 * together up to their own limits (4096 each by default) cannot leave the
 * console, sshd or a health check without a pid.
 *
 * Everything takes the cgroup root as a parameter so that the unit tests
 * can point it at a plain directory.
 */
#include "pid1.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static const char controllers[] = "+cpu +memory +pids +io";

/* The host's part when wisp.host_reserve= does not say: a sixteenth of memory, 64 MiB to
 * 1 GiB. What it holds: PID 1, the console, sshd, provision's runs, the kernel's own
 * allocations and the page cache of ROOT's programs (each exec reads them through
 * dm-verity again once they are evicted). */
#define RESERVE_MIN (64ull << 20)
#define RESERVE_MAX (1ull << 30)
#define PAGE	    4096ull
/* Tasks the host keeps of the kernel's limit: a sixteenth, at least 256 (PID 1, services,
 * their health checks, logins and what an operator types while containers fork). */
#define PIDS_RESERVE_MIN 256u
/* Pids the kernel gives again once it wraps start above 300 (its RESERVED_PIDS). */
#define PIDS_WRAP 300u

static uint64_t host_reserve = CGROUP_RESERVE_DEFAULT;

void cgroup_set_reserve(uint64_t bytes)
{
	host_reserve = bytes;
}

uint64_t cgroup_pool_max(uint64_t total, uint64_t reserve)
{
	if (reserve == 0)
		return 0;
	if (reserve == CGROUP_RESERVE_DEFAULT || reserve >= total) {
		reserve = total / 16;
		reserve = reserve < RESERVE_MIN	  ? RESERVE_MIN
			  : reserve > RESERVE_MAX ? RESERVE_MAX
						  : reserve;
	}
	reserve = (reserve + PAGE - 1) / PAGE * PAGE; /* memory.max counts whole pages */
	return total > reserve ? total - reserve : 0;
}

uint64_t cgroup_pool_pids(uint64_t tasks)
{
	uint64_t reserve = tasks / 16 < PIDS_RESERVE_MIN ? PIDS_RESERVE_MIN : tasks / 16;

	return tasks > reserve ? tasks - reserve : 0;
}

static int write_at(const char *dir, const char *file, const char *val, struct err *e)
{
	char path[4096];

	if (fmt_path(path, sizeof(path), "%s/%s", dir, file) < 0)
		return err_set(e, ENAMETOOLONG, "%s/%s", dir, file);
	return write_value(path, val, e);
}

/* Controllers one at a time: a kernel without, say, io still gets the others. */
static void enable(const char *dir)
{
	char one[16];
	struct err e;

	for (const char *p = controllers; *p;) {
		size_t len = strcspn(p, " ");
		snprintf(one, sizeof(one), "%.*s", (int)len, p);
		if (write_at(dir, "cgroup.subtree_control", one, &e) < 0)
			log_err(&e);
		p += len + (p[len] == ' ');
	}
}

int cgroup_setup(const char *root, struct err *e)
{
	char leaf[4096], wisp[4096], pool[4096];

	if (fmt_path(leaf, sizeof(leaf), "%s/init", root) < 0 ||
	    fmt_path(wisp, sizeof(wisp), "%s/" CGROUP_UNITS, root) < 0 ||
	    fmt_path(pool, sizeof(pool), "%s/" CGROUP_POOL, root) < 0)
		return err_set(e, ENAMETOOLONG, "%s", root);
	if (mkdir_p(leaf, 0755, e) < 0 || mkdir_p(wisp, 0755, e) < 0 || mkdir_p(pool, 0755, e) < 0)
		return -1;
	/* "0": the writer. init is single-threaded, so this moves all of it. */
	if (write_at(leaf, "cgroup.procs", "0", e) < 0)
		return err_ctx(e, "move init into its cgroup");
	return 0;
}

/* Enabling them costs ~6 ms under TCG, which the boot's first units and STATE need
 * not wait for: main.c enables them after STATE's mount, or the first unit with
 * limits does, whichever comes first. */
static bool enabled;

/* The kernel's limit on tasks: the lower of its pids (kernel.pid_max, less those it never
 * gives again) and kernel.threads-max. */
static uint64_t task_limit(void)
{
	static const char *const files[] = {"/proc/sys/kernel/pid_max",
					    "/proc/sys/kernel/threads-max"};
	uint64_t least = 0, v;
	char buf[32];
	struct err e;

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		if (read_text(files[i], buf, sizeof(buf), &e) <= 0 || !dec_scan(buf, &v))
			continue;
		if (i == 0)
			v = v > PIDS_WRAP ? v - PIDS_WRAP : 0;
		if (!least || v < least)
			least = v;
	}
	return least;
}

/* The pool's pids.max (0 tasks known: left at max). */
static void pool_pids(const char *pool)
{
	uint64_t max = cgroup_pool_pids(task_limit());
	char val[32];
	struct err e;

	if (!max)
		return;
	snprintf(val, sizeof(val), "%llu", (unsigned long long)max);
	if (write_at(pool, "pids.max", val, &e) < 0)
		log_err(&e);
}

/* The pool's memory.max, said once at the boot (dmesg has it). */
static void pool_limit(const char *pool)
{
	struct sysinfo si;
	uint64_t total, max;
	char val[32];
	struct err e;

	if (sysinfo(&si) < 0)
		return;
	total = (uint64_t)si.totalram * si.mem_unit;
	if (host_reserve != CGROUP_RESERVE_DEFAULT && host_reserve >= total)
		log_msg(LOG_WARNING,
			"wisp.host_reserve=%llu is not below the machine's %llu bytes of memory; "
			"using the default",
			(unsigned long long)host_reserve, (unsigned long long)total);
	max = cgroup_pool_max(total, host_reserve);
	if (max)
		snprintf(val, sizeof(val), "%llu", (unsigned long long)max);
	else
		snprintf(val, sizeof(val), "max");
	if (write_at(pool, "memory.max", val, &e) < 0)
		log_err(&e);
	else if (max)
		log_msg(LOG_INFO,
			"containers: %llu MiB of memory together, the host keeps %llu MiB",
			(unsigned long long)(max >> 20), (unsigned long long)((total - max) >> 20));
}

void cgroup_controllers(const char *root)
{
	char wisp[4096], pool[4096];

	if (enabled || fmt_path(wisp, sizeof(wisp), "%s/" CGROUP_UNITS, root) < 0 ||
	    fmt_path(pool, sizeof(pool), "%s/" CGROUP_POOL, root) < 0)
		return;
	enabled = true;
	enable(root);
	enable(wisp);
	enable(pool);
	pool_limit(pool);
	pool_pids(pool);
}

static int set_limits(const char *dir, const struct resources *r, struct err *e)
{
	char val[32];

	/* Every file is written every time: a limit removed from a declaration must go. */
	snprintf(val, sizeof(val), "%u", r->cpu_weight ? r->cpu_weight : 100);
	if (write_at(dir, "cpu.weight", val, e) < 0)
		return -1;
	if (write_at(dir, "cpu.max", r->cpu_max[0] ? r->cpu_max : "max 100000", e) < 0)
		return -1;
	if (r->memory_max && r->memory_max != UINT64_MAX)
		snprintf(val, sizeof(val), "%llu", (unsigned long long)r->memory_max);
	else
		snprintf(val, sizeof(val), "max");
	if (write_at(dir, "memory.max", val, e) < 0)
		return -1;
	if (r->pids_max && r->pids_max != UINT64_MAX)
		snprintf(val, sizeof(val), "%llu", (unsigned long long)r->pids_max);
	else
		snprintf(val, sizeof(val), "max");
	return write_at(dir, "pids.max", val, e);
}

static bool no_limits(const struct resources *r)
{
	return !r->cpu_weight && !r->cpu_max[0] && !r->memory_max && !r->pids_max;
}

int cgroup_unit(const char *root, const char *group, const char *name, const struct resources *r,
		struct err *e)
{
	char dir[4096];
	int fd;

	if (fmt_path(dir, sizeof(dir), "%s/%s/%s", root, group, name) < 0)
		return err_set(e, ENAMETOOLONG, "cgroup of %s", name);
	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	/* The pool's limit is in place before a container's first process joins it. */
	if (!strcmp(group, CGROUP_POOL))
		cgroup_controllers(root);
	/* A unit without limits does not need the controllers' files: a kernel
	 * without one of them still runs it. */
	if (!no_limits(r)) {
		cgroup_controllers(root);
		if (set_limits(dir, r, e) < 0)
			return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", dir);
	return fd;
}

/* Before 5.14 there is no cgroup.kill: signal the pids one by one. */
static int kill_each(int dir, const char *name, struct err *e)
{
	char line[32];
	int fd = openat(dir, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;

	if (!f) {
		err_set(e, errno, "cgroup of %s: cgroup.procs", name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t pid;
		if (dec_scan(line, &pid) && pid > 1 && pid < INT32_MAX)
			kill((pid_t)pid, SIGKILL);
	}
	fclose(f);
	return 0;
}

/* By the unit's own directory fd: no path to rebuild, and the group is the one it ran in. */
int cgroup_kill(int dir, const char *name, struct err *e)
{
	int fd = openat(dir, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	bool done = fd >= 0 && write_all(fd, "1", 1) == 0;

	if (fd >= 0)
		close(fd);
	return done ? 0 : kill_each(dir, name, e);
}

bool cgroup_populated(int dir)
{
	char buf[256];
	int fd = openat(dir, "cgroup.events", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read_full(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	/* "populated 1\nfrozen 0\n"; line by line, not strstr (PID 1's size) */
	for (const char *p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, "populated 1", 11))
			return true;
	return false;
}
