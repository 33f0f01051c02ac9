/* runtime/ns.c: namespace names, clone flags, and joining namespaces: by path
 * (create), by the container's pidfd (exec). */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3) /* linux/nsfs.h, Linux 4.11 */
#endif

static const struct {
	const char *name;
	int flag;
} ns_names[] = {
    {"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},	 {"uts", CLONE_NEWUTS},	    {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

int cl_ns_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (strcmp(name, ns_names[i].name) == 0)
			return ns_names[i].flag;
	return -1;
}

static const char *ns_name(int flag)
{
	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (ns_names[i].flag == flag)
			return ns_names[i].name;
	return "?";
}

/* The namespaces created by clone(). Not the cgroup namespace: its root
 * is the cgroup of the process that makes it, so the child unshares it
 * once the parent has moved it into the container's cgroup (as runc).
 * Not the time namespace either: clone() has no flag bit for it, and its
 * clock offsets must be written before any process enters it. */
int cl_ns_clone_flags(const struct cl_spec *s)
{
	return s->ns_flags & ~(CLONE_NEWTIME | CLONE_NEWCGROUP);
}

/* A new time namespace (as crun): unshare makes it the one of our
 * children; its clock offsets can be written until a process enters it;
 * then we enter it ourselves through /proc/self/ns/time_for_children. */
static int new_time_ns(const struct cl_spec *s, struct cl_err *e)
{
	static const char *const names[CL_TIME_CLOCKS] = {"monotonic", "boottime"};
	char line[96];
	int fd, ret = 0;

	if (unshare(CLONE_NEWTIME) < 0)
		return cl_error(e, errno, "unshare the time namespace");
	for (int c = 0; c < CL_TIME_CLOCKS; c++) {
		const struct cl_time_offset *o = &s->time_offsets[c];
		if (!o->set)
			continue;
		snprintf(line, sizeof(line), "%s %lld %u", names[c], (long long)o->secs,
			 o->nanosecs);
		if (cl_write_file("/proc/self/timens_offsets", line, strlen(line), e) < 0)
			return cl_error(e, e->num, "write timens_offsets \"%s\"", line);
	}
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_error(e, errno, "open /proc/self/ns/time_for_children");
	if (setns(fd, CLONE_NEWTIME) < 0)
		ret = cl_error(e, errno, "enter the new time namespace");
	close(fd);
	return ret;
}

int cl_ns_unshare_late(const struct cl_spec *s, struct cl_err *e)
{
	if ((s->ns_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return cl_error(e, errno, "unshare the cgroup namespace");
	if ((s->ns_flags & CLONE_NEWTIME) && new_time_ns(s, e) < 0)
		return -1;
	return 0;
}

/* Opens a namespace path and checks that it is one of TYPE: a wrong
 * path is create's one-line error before anything exists. */
static int open_ns(const struct cl_ns *n, struct cl_err *e)
{
	int fd = open(n->path, O_RDONLY | O_CLOEXEC), t;

	if (fd < 0)
		return cl_error(e, errno, "%s namespace %s", ns_name(n->type), n->path);
	t = ioctl(fd, NS_GET_NSTYPE);
	if (t != n->type) {
		int err = errno;
		close(fd);
		if (t < 0 && err != ENOTTY)
			return cl_error(e, err, "%s namespace %s", ns_name(n->type), n->path);
		return cl_error(e, 0, "%s namespace %s: %s", ns_name(n->type), n->path,
				t < 0 ? "not a namespace" : "a namespace of another type");
	}
	return fd;
}

/* The pidfd of the process org.wisp.ns-owner names, if it is still that one. */
static int owner_open(const struct cl_spec *s, struct cl_err *e)
{
	int fd = cl_pidfd_started(s->ns_owner, s->ns_owner_start);

	if (fd < 0 && errno == ESRCH)
		return cl_error(
		    e, 0, "the namespaces' process (pid %d) ended: the pid is free or another's",
		    (int)s->ns_owner);
	if (fd < 0)
		return cl_error(e, errno, "the namespaces' process (pid %d)", (int)s->ns_owner);
	return fd;
}

/* Each namespace path opened once, before anything of the container exists,
 * and joined by that fd: a path names what it names at the open, and
 * /proc/PID/ns/... another process's namespaces once PID ended and its
 * number went to another. With an owner (org.wisp.ns-owner), that process
 * is held by a pidfd across the opens and must still live after them: the
 * fds are then its namespaces, whatever the number names later. */
int cl_ns_pin(struct cl_spec *s, struct cl_err *e)
{
	int pidfd = s->ns_owner ? owner_open(s, e) : -1, ret = 0;

	if (s->ns_owner && pidfd < 0)
		return -1;
	for (size_t i = 0; ret == 0 && i < s->nns; i++)
		if (s->ns[i].path && (s->ns[i].fd = open_ns(&s->ns[i], e)) < 0)
			ret = -1;
	if (ret == 0 && pidfd >= 0 && cl_pidfd_signal(pidfd, 0) < 0)
		ret =
		    cl_error(e, 0, "the namespaces' process (pid %d) ended while they were opened",
			     (int)s->ns_owner);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

/* A pid namespace given by path is entered by the parent for the clone
 * (setns only moves the children of a process into a pid namespace);
 * *RESTORE then holds the parent's own, for cl_ns_pid_restore. */
int cl_ns_pid_enter(const struct cl_spec *s, int *restore, struct cl_err *e)
{
	*restore = -1;
	for (size_t i = 0; i < s->nns; i++) {
		if (s->ns[i].type != CLONE_NEWPID || s->ns[i].fd < 0)
			continue;
		*restore = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (*restore < 0)
			return cl_error(e, errno, "open /proc/self/ns/pid");
		if (setns(s->ns[i].fd, CLONE_NEWPID) < 0)
			return cl_error(e, errno, "join pid namespace %s", s->ns[i].path);
	}
	return 0;
}

void cl_ns_pid_restore(int restore)
{
	if (restore < 0)
		return;
	/* our own active pid namespace: always allowed */
	if (setns(restore, CLONE_NEWPID) < 0) {
		/* cannot fail; a later clone would land in the wrong one */
	}
	close(restore);
}

/* The user namespace given by path, or NULL (userjoin.c clones in it). */
const struct cl_ns *cl_userns_joined(const struct cl_spec *s)
{
	for (size_t i = 0; i < s->nns; i++)
		if (s->ns[i].type == CLONE_NEWUSER && s->ns[i].path)
			return &s->ns[i];
	return NULL;
}

/* Joins the namespaces given by path, by the fds cl_ns_pin opened (but
 * pid: see cl_ns_pid_enter, and user: the process was cloned in it,
 * userjoin.c, so the others are joined with its credentials). */
int cl_ns_join(const struct cl_spec *s, struct cl_err *e)
{
	for (size_t i = 0; i < s->nns; i++) {
		const struct cl_ns *n = &s->ns[i];

		/* pid: cl_ns_pid_enter; user: the clone was made in it (userjoin.c) */
		if (n->fd < 0 || n->type == CLONE_NEWPID || n->type == CLONE_NEWUSER)
			continue;
		if (setns(n->fd, n->type) < 0)
			return cl_error(e, errno, "join %s namespace %s", ns_name(n->type),
					n->path);
	}
	return 0;
}

/* True when the spec lists no mount namespace: the container inherits
 * the runtime's (runtime-spec), and its root is a chroot (mounts.c). */
bool cl_ns_mnt_inherited(const struct cl_spec *s)
{
	for (size_t i = 0; i < s->nns; i++)
		if (s->ns[i].type == CLONE_NEWNS)
			return false;
	return true;
}

/* A container in the runtime's mount namespace has its root only as a
 * chroot: exec takes the same root from its process, before any setns
 * (chroot needs CAP_SYS_CHROOT where the mount namespace belongs). The
 * root is opened by pid, so it is the container's only if the pidfd's
 * process still holds that pid after the open: not reaped, so not
 * replaced by another. */
static int chroot_as(const struct cl_state *st, int pidfd, struct cl_err *e)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)st->pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cl_pidfd_signal(pidfd, 0) < 0)
		ret = cl_not_running(st->id, e);
	else if (fd < 0)
		ret = cl_error(e, errno, "open %s", path);
	else if (fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		ret = cl_error(e, errno, "chroot to %s", path);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* setns with the pidfd (Linux 5.8) enters every namespace the spec
 * lists at once, of the process the pidfd holds or none: no window in
 * which the pid could name another. The kernel checks the others with
 * the credentials the user namespace gives, as joining user first and
 * mount (which changes our root) last did. */
int cl_ns_join_pid(const struct cl_spec *s, const struct cl_state *st, int pidfd, struct cl_err *e)
{
	int types = 0;

	for (size_t i = 0; i < s->nns; i++)
		types |= s->ns[i].type;
	if (cl_ns_mnt_inherited(s) && chroot_as(st, pidfd, e) < 0)
		return -1;
	if (types == 0 || setns(pidfd, types) == 0)
		return 0;
	if (errno == ESRCH)
		return cl_not_running(st->id, e);
	return cl_error(e, errno, "join the namespaces of container \"%s\" (pid %d)", st->id,
			(int)st->pid);
}
