/* runtime/start.c: start, kill and delete. start reads the exec fifo the
 * container process is blocked on; nothing of ours stays behind. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_fifo(const char *fifo, const struct cl_state *st, struct cl_err *e)
{
	/* Non-blocking open: a container that died before start must not
	 * hang us; poll, and look at the process between polls. */
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char c;

	if (fd < 0)
		return cl_error(e, errno, "open %s", fifo);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 100);

		if (r > 0 && read(fd, &c, 1) == 1)
			break;
		if (r < 0 && errno != EINTR) {
			int err = errno;
			close(fd);
			return cl_error(e, err, "poll %s", fifo);
		}
		if (cl_proc_start_time(st->pid) != st->start_time) {
			close(fd);
			return cl_error(e, 0, "container \"%s\" died before start", st->id);
		}
		if (r > 0)
			usleep(1000); /* POLLHUP before the writer's byte */
	}
	close(fd);
	return 0;
}

/* poststart: failures are warnings (runtime-spec), the container runs.
 * The state says "running": poststart is the lifecycle's step 9, after the
 * user's program began (step 8); runc says "created" here. */
static void poststart(const struct cl_state *st)
{
	struct cl_spec *s;
	struct cl_err e;
	char *json;

	if (!st->bundle || !st->bundle[0] || cl_spec_load(st->bundle, &s, &e) < 0)
		return;
	json = cl_hooks_state(st->oci_version, st->id, "running", st->pid, st->bundle,
			      st->annotations_json);
	if (cl_hooks_run(s, CL_HOOK_POSTSTART, json, &e) < 0)
		fprintf(stderr, "containerd-lite: warning: %s\n", e.msg);
	free(json);
	cl_spec_free(s);
}

int cl_start(const char *root, const char *id, struct cl_err *e)
{
	struct cl_state st;
	char *dir, *fifo;
	int ret;

	if (cl_state_read(root, id, &st, e) < 0)
		return -1;
	if (st.status != CL_CREATED) {
		ret = cl_error(e, 0, "cannot start a container in the %s state",
			       cl_status_name(st.status));
		cl_state_free(&st);
		return ret;
	}
	dir = cl_state_dir(root, id);
	fifo = cl_path_join(dir, "exec.fifo");
	ret = read_fifo(fifo, &st, e);
	if (ret == 0 && unlink(fifo) < 0)
		ret = cl_error(e, errno, "remove %s", fifo);
	if (ret == 0)
		poststart(&st);
	free(fifo);
	free(dir);
	cl_state_free(&st);
	return ret;
}

int cl_kill(const char *root, const char *id, int sig, bool all, struct cl_err *e)
{
	struct cl_state st;
	int ret = 0;

	if (cl_state_read(root, id, &st, e) < 0)
		return -1;
	/* --all reaches a stopped container's cgroup too, as runc's: in a
	 * pid namespace it did not own, its init's exit leaves the rest of
	 * its processes running (containerd's shim then kills them so). The
	 * error keeps runc's words, which containerd's shim matches. */
	if (all && st.status != CL_CREATING && st.cgroup && st.cgroup[0])
		cl_cgroup_kill(st.cgroup, sig);
	else if (st.status == CL_STOPPED || st.status == CL_CREATING)
		ret = cl_not_running(id, e);
	else
		ret = cl_pidfd_kill(&st, sig, e);
	cl_state_free(&st);
	return ret;
}

/* Waits up to about 10 s for the container process to be gone. */
static void wait_gone(const struct cl_state *st)
{
	for (int i = 0; i < 1000 && cl_proc_start_time(st->pid) == st->start_time; i++) {
		/* our own child (run): reap it, or it stays a zombie */
		if (waitpid(st->pid, NULL, WNOHANG) == st->pid)
			return;
		usleep(10000);
	}
}

static int remove_state(const char *root, const char *id, struct cl_err *e)
{
	static const char *const files[] = {"exec.fifo", "state.json", ".state.json"};
	char *dir = cl_state_dir(root, id);
	int ret = 0;

	for (size_t i = 0; i < 3; i++) {
		char *p = cl_path_join(dir, files[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			ret = cl_error(e, errno, "remove %s", p);
		free(p);
	}
	if (ret == 0 && rmdir(dir) < 0)
		ret = cl_error(e, errno, "remove %s", dir);
	free(dir);
	return ret;
}

static void poststop(const struct cl_state *st)
{
	struct cl_spec *s;
	struct cl_err e;
	char *json;

	/* hooks come from the bundle's config.json: gone or broken, no hooks */
	if (!st->bundle || !st->bundle[0] || cl_spec_load(st->bundle, &s, &e) < 0)
		return;
	json =
	    cl_hooks_state(st->oci_version, st->id, "stopped", 0, st->bundle, st->annotations_json);
	if (cl_hooks_run(s, CL_HOOK_POSTSTOP, json, &e) < 0)
		fprintf(stderr, "containerd-lite: warning: %s\n", e.msg);
	free(json);
	cl_spec_free(s);
}

int cl_delete(const char *root, const char *id, bool force, struct cl_err *e)
{
	struct cl_state st;
	int ret = 0;

	if (cl_state_read(root, id, &st, e) < 0)
		return -1;
	if (st.status != CL_STOPPED && st.status != CL_CREATING && !force) {
		ret = cl_error(e, 0, "cannot delete container \"%s\" that is not stopped: %s", id,
			       cl_status_name(st.status));
		goto out;
	}
	if (st.status != CL_STOPPED && st.pid > 0) {
		/* a frozen cgroup would hold the dying processes */
		if (st.status == CL_PAUSED)
			cl_cgroup_freeze(st.cgroup, false, e);
		/* by pidfd: the pid may be another process's by now (the
		 * error is no matter: gone is what delete wants) */
		cl_pidfd_kill(&st, SIGKILL, &(struct cl_err){0});
		if (st.cgroup && st.cgroup[0])
			cl_cgroup_kill(st.cgroup, SIGKILL);
		wait_gone(&st);
	}
	if (st.cgroup && st.cgroup[0] && cl_cgroup_destroy(st.cgroup, e) < 0)
		ret = -1;
	/* every mount of a container in our mount namespace is under its
	 * rootfs bind (create.c): one detach, nothing left on the host */
	if (st.root_bound && st.rootfs && umount2(st.rootfs, MNT_DETACH) < 0 && errno != EINVAL &&
	    errno != ENOENT) /* gone already (a reboot, the bundle removed) */
		ret = cl_error(e, errno, "detach the rootfs %s", st.rootfs);
	if (st.status != CL_CREATING)
		poststop(&st);
	if (ret == 0)
		ret = remove_state(root, id, e);
out:
	cl_state_free(&st);
	return ret;
}

int cl_pause(const char *root, const char *id, bool pause, struct cl_err *e)
{
	struct cl_state st;
	int ret = 0;

	if (cl_state_read(root, id, &st, e) < 0)
		return -1;
	if (st.status != (pause ? CL_RUNNING : CL_PAUSED))
		ret =
		    cl_error(e, 0, "container \"%s\" is not %s", id, pause ? "running" : "paused");
	else
		ret = cl_cgroup_freeze(st.cgroup, pause, e);
	cl_state_free(&st);
	return ret;
}

int cl_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cl_err *e)
{
	struct cl_state st;
	int ret;

	*pids = NULL;
	*n = 0;
	if (cl_state_read(root, id, &st, e) < 0)
		return -1;
	if (st.status == CL_STOPPED || st.status == CL_CREATING)
		ret = cl_error(e, 0, "container \"%s\" is not running", id);
	else
		ret = cl_cgroup_pids(st.cgroup, pids, n, e);
	cl_state_free(&st);
	return ret;
}
