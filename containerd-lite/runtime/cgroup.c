/* runtime/cgroup.c: cgroup v2 only (Wisp's kernel is pure v2). The container's
 * cgroup is made, limited and entered by the parent before the container
 * process may go on; it is removed by delete, or on any create failure. */
#include "cl-private.h"
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define CGROUP_ROOT	 "/sys/fs/cgroup"
#define CGROUP2_MAGIC_NR 0x63677270

/* Absolute path of the container's cgroup directory (malloc'd). A
 * systemd-style "slice:prefix:name" is not supported yet: taken as a path. */
char *cl_cgroup_path(const struct cl_spec *s, const char *id)
{
	char buf[512];

	if (s->cgroups_path && s->cgroups_path[0])
		return cl_path_join(CGROUP_ROOT, s->cgroups_path);
	snprintf(buf, sizeof(buf), "containerd-lite/%s", id);
	return cl_path_join(CGROUP_ROOT, buf);
}

static int write_str(const char *dir, const char *file, const char *val, struct cl_err *e)
{
	char *p = cl_path_join(dir, file);
	int r = cl_write_file(p, val, strlen(val), e);

	if (r < 0) {
		/* name the value too: "write 100M to .../memory.max: ..." */
		cl_error(e, e->num, "cgroup: write %s to %s", val, p);
	}
	free(p);
	return r;
}

/* Writes "+c" for each controller of CTRLS to DIR's subtree_control;
 * each alone, so that the error names the one that is missing. */
static int enable_in(const char *dir, const char *ctrls, struct cl_err *e)
{
	char one[64];

	for (const char *c = ctrls; *c;) {
		size_t n = strcspn(c, " ");
		snprintf(one, sizeof(one), "+%.*s", (int)n, c);
		if (write_str(dir, "cgroup.subtree_control", one, e) < 0)
			return -1;
		c += n + (c[n] == ' ');
	}
	return 0;
}

/* Each ancestor's own controllers (cgroup.controllers), all of them. */
static int enable_all_in(const char *dir, struct cl_err *e)
{
	char *file = cl_path_join(dir, "cgroup.controllers"), *have;
	int ret = cl_read_file(file, &have, NULL, e);

	free(file);
	if (ret < 0)
		return -1;
	have[strcspn(have, "\n")] = 0;
	ret = enable_in(dir, have, e);
	free(have);
	return ret;
}

/* Controllers are enabled down the path, from the root to the parent of
 * the container's cgroup (whose own subtree_control stays empty): CTRLS,
 * or NULL for every controller each ancestor has. */
static int enable_controllers(const char *path, const char *ctrls, struct cl_err *e)
{
	char *p = cl_strdup(path);
	int ret = 0;

	/* each '/' after the root ends an ancestor: the root, ..., the parent */
	for (char *s = strchr(p + strlen(CGROUP_ROOT), '/'); ret == 0 && s;
	     s = strchr(s + 1, '/')) {
		*s = 0;
		ret = ctrls ? enable_in(p, ctrls, e) : enable_all_in(p, e);
		*s = '/';
	}
	free(p);
	return ret;
}

/* A container whose cgroup mount is writable manages its own subtree (a
 * node agent: containerd with its runtime inside). As runc does for every
 * container, each ancestor hands down every controller it has
 * (enable_controllers(path, NULL)), so that the container's cgroup has them
 * all to give to the cgroups it makes. */
static bool delegated(const struct cl_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (s->mounts[i].type && strncmp(s->mounts[i].type, "cgroup", 6) == 0 &&
		    !(s->mounts[i].flags & MS_RDONLY))
			return true;
	return false;
}

static int write_i64(const char *dir, const char *file, int64_t v, struct cl_err *e)
{
	char buf[32];

	if (v == -1)
		snprintf(buf, sizeof(buf), "max");
	else
		snprintf(buf, sizeof(buf), "%" PRId64, v);
	return write_str(dir, file, buf, e);
}

static int write_cpu(const char *dir, const struct cl_resources *r, struct cl_err *e)
{
	char buf[64];

	if (r->cpu_shares) {
		/* runc's mapping of cgroup v1 shares [2, 262144] to weight [1, 10000] */
		uint64_t w = 1 + ((r->cpu_shares - 2) * 9999) / 262142;
		snprintf(buf, sizeof(buf), "%" PRIu64, w);
		if (write_str(dir, "cpu.weight", buf, e) < 0)
			return -1;
	}
	if (r->cpu_quota != -2 || r->cpu_period) {
		uint64_t period = r->cpu_period ? r->cpu_period : 100000;
		if (r->cpu_quota >= 0)
			snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, r->cpu_quota, period);
		else
			snprintf(buf, sizeof(buf), "max %" PRIu64, period);
		if (write_str(dir, "cpu.max", buf, e) < 0)
			return -1;
	}
	if (r->cpus && write_str(dir, "cpuset.cpus", r->cpus, e) < 0)
		return -1;
	if (r->mems && write_str(dir, "cpuset.mems", r->mems, e) < 0)
		return -1;
	return 0;
}

static bool no_swap_file(const char *dir)
{
	char *p = cl_path_join(dir, "memory.swap.max");
	bool none = access(p, F_OK) < 0 && errno == ENOENT;

	free(p);
	return none;
}

static int write_memory(const char *dir, const struct cl_resources *r, struct cl_err *e)
{
	if (r->mem_limit != -2 && write_i64(dir, "memory.max", r->mem_limit, e) < 0)
		return -1;
	if (r->mem_reservation != -2 && write_i64(dir, "memory.low", r->mem_reservation, e) < 0)
		return -1;
	if (r->mem_swap != -2) {
		/* OCI's swap is memory+swap (v1); v2's swap.max is swap alone */
		int64_t swap = r->mem_swap;
		if (swap > 0 && r->mem_limit > 0) {
			if (swap < r->mem_limit)
				return cl_error(e, EINVAL,
						"cgroup: memory.swap %" PRId64
						" is below memory.limit %" PRId64,
						swap, r->mem_limit);
			swap -= r->mem_limit;
		}
		if (no_swap_file(dir) && (swap == 0 || swap == -1))
			return 0; /* no swap in the kernel: nothing to limit (as runc) */
		if (write_i64(dir, "memory.swap.max", swap, e) < 0)
			return -1;
	}
	return 0;
}

static int write_resources(const char *dir, const struct cl_resources *r, struct cl_err *e)
{
	char buf[32];

	if (write_cpu(dir, r, e) < 0 || write_memory(dir, r, e) < 0)
		return -1;
	if (r->pids_limit != -2 &&
	    write_i64(dir, "pids.max", r->pids_limit > 0 ? r->pids_limit : -1, e) < 0)
		return -1;
	if (r->blkio_weight) {
		/* blkio [10, 1000] -> io [1, 10000] */
		snprintf(buf, sizeof(buf), "default %u", 1 + (r->blkio_weight - 10) * 9999 / 990);
		if (write_str(dir, "io.weight", buf, e) < 0)
			return -1;
	}
	for (size_t i = 0; i + 1 < r->unified.n; i += 2) {
		if (strchr(r->unified.v[i], '/'))
			return cl_error(e, EINVAL, "cgroup: unified key %s", r->unified.v[i]);
		if (write_str(dir, r->unified.v[i], r->unified.v[i + 1], e) < 0)
			return -1;
	}
	return 0;
}

/* The controllers RES needs, space-separated. */
static void needed_controllers(const struct cl_resources *r, char *buf, size_t size)
{
	buf[0] = 0;
	if (r->cpu_shares || r->cpu_quota != -2 || r->cpu_period)
		strncat(buf, "cpu ", size - strlen(buf) - 1);
	if (r->cpus || r->mems)
		strncat(buf, "cpuset ", size - strlen(buf) - 1);
	if (r->mem_limit != -2 || r->mem_reservation != -2 || r->mem_swap != -2)
		strncat(buf, "memory ", size - strlen(buf) - 1);
	if (r->pids_limit != -2)
		strncat(buf, "pids ", size - strlen(buf) - 1);
	if (r->blkio_weight)
		strncat(buf, "io ", size - strlen(buf) - 1);
	for (size_t i = 0; i + 1 < r->unified.n; i += 2) {
		size_t n = strcspn(r->unified.v[i], ".");
		if (strncmp(r->unified.v[i], "cgroup", n) != 0 && strlen(buf) + n + 2 < size)
			snprintf(buf + strlen(buf), size - strlen(buf), "%.*s ", (int)n,
				 r->unified.v[i]);
	}
	if (buf[0])
		buf[strlen(buf) - 1] = 0;
}

int cl_cgroup_create(const char *path, const struct cl_spec *s, struct cl_err *e)
{
	struct statfs fs;
	char ctrls[256];
	bool all;

	if (statfs(CGROUP_ROOT, &fs) < 0)
		return cl_error(e, errno, "cgroup: statfs %s", CGROUP_ROOT);
	if (fs.f_type != CGROUP2_MAGIC_NR)
		return cl_error(e, 0, "cgroup: %s is not a cgroup v2 hierarchy", CGROUP_ROOT);
	if (cl_mkdir_p(path, 0755, e) < 0)
		return cl_error_wrap(e, "cgroup");
	needed_controllers(&s->res, ctrls, sizeof(ctrls));
	all = delegated(s); /* every controller: the ones its limits need among them */
	/* the device policy even without resources: runc's default devices */
	if (((all || ctrls[0]) && enable_controllers(path, all ? NULL : ctrls, e) < 0) ||
	    write_resources(path, &s->res, e) < 0 || cl_devices_attach(path, s, e) < 0) {
		int err = e->num;
		rmdir(path);
		e->num = err;
		return -1;
	}
	return 0;
}

int cl_cgroup_enter(const char *path, pid_t pid, struct cl_err *e)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return write_str(path, "cgroup.procs", buf, e);
}

#define KILL_BATCH 256 /* pidfds open at once */

static bool listed(pid_t pid, const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* One batch: a pidfd of each pid read, then cgroup.procs read again; a pid
 * still listed is a member now, and while it lives its number is its own, so
 * the pidfd opened before names that member. If it left and the number went
 * to another process, the pidfd's signal fails (ESRCH) instead. */
static int kill_batch(const char *path, const pid_t *pids, size_t n, int sig)
{
	int fds[KILL_BATCH], done = 0;
	struct cl_err e;
	pid_t *now;
	size_t m;

	for (size_t i = 0; i < n; i++)
		fds[i] = cl_pidfd_of(pids[i]);
	cl_cgroup_pids(path, &now, &m, &e); /* unreadable: m is 0, none signalled */
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0 && listed(pids[i], now, m) && cl_pidfd_signal(fds[i], sig) == 0)
			done++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	free(now);
	return done;
}

/* Signals every process of the cgroup (kill --all, delete --force). A pid read
 * from cgroup.procs is only a number: the process may exit (its parent in the
 * container reaps it) and the number go to a host process before the signal,
 * so each goes through a pidfd that a second read shows is a member's
 * (kill_batch). SIGKILL goes through cgroup.kill (Linux 5.14), which also
 * reaches what forks meanwhile. */
int cl_cgroup_kill(const char *path, int sig)
{
	struct cl_err e;
	size_t n, at;
	pid_t *pids;
	int done = 0;

	if (sig == SIGKILL && write_str(path, "cgroup.kill", "1", &e) == 0)
		return 1;
	cl_cgroup_pids(path, &pids, &n, &e);
	for (at = 0; at < n; at += KILL_BATCH)
		done += kill_batch(path, pids + at, n - at < KILL_BATCH ? n - at : KILL_BATCH, sig);
	free(pids);
	return done;
}

int cl_cgroup_destroy(const char *path, struct cl_err *e)
{
	/* An exited process can linger in the cgroup for a moment. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		usleep(10000);
	}
	return cl_error(e, errno, "cgroup: remove %s", path);
}

bool cl_cgroup_frozen(const char *path)
{
	char *events, *text = NULL;
	struct cl_err e;
	bool frozen = false;

	if (!path || !path[0])
		return false;
	events = cl_path_join(path, "cgroup.events");
	if (cl_read_file(events, &text, NULL, &e) == 0)
		frozen = strstr(text, "frozen 1") != NULL;
	free(text);
	free(events);
	return frozen;
}

/* Writes cgroup.freeze and waits (up to about 5 s) until the kernel
 * reports the cgroup (un)frozen, as runc does. */
int cl_cgroup_freeze(const char *path, bool freeze, struct cl_err *e)
{
	if (write_str(path, "cgroup.freeze", freeze ? "1" : "0", e) < 0)
		return -1;
	for (int i = 0; i < 500; i++) {
		if (cl_cgroup_frozen(path) == freeze)
			return 0;
		usleep(10000);
	}
	return cl_error(e, ETIMEDOUT, "cgroup: %s %s", freeze ? "freeze" : "thaw", path);
}

int cl_cgroup_pids(const char *path, pid_t **pids, size_t *n, struct cl_err *e)
{
	char *procs = cl_path_join(path, "cgroup.procs"), *text = NULL;
	size_t cap = 16;

	*n = 0;
	*pids = malloc(cap * sizeof(pid_t));
	if (!*pids)
		abort();
	if (cl_read_file(procs, &text, NULL, e) < 0) {
		free(procs);
		return -1;
	}
	for (char *p = text; *p;) {
		long pid = strtol(p, &p, 10);
		if (pid <= 0)
			break;
		if (*n == cap) {
			cap *= 2;
			*pids = realloc(*pids, cap * sizeof(pid_t));
			if (!*pids)
				abort();
		}
		(*pids)[(*n)++] = (pid_t)pid;
		while (*p == '\n')
			p++;
	}
	free(text);
	free(procs);
	return 0;
}
