/* runtime/create.c: bundle -> a container process waiting on ROOT/ID/exec.fifo.
 *
 * The parent validates everything it can first (spec, rootfs, seccomp),
 * then makes the state directory and the cgroup, clones the container
 * process into its namespaces, writes its id mappings, puts it in the
 * cgroup and lets it go on. The child sets itself up and reports success
 * or its one-line error over a socket (close-on-exec: a successful exec
 * needs no message). On any failure the parent removes what it made. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

/* What the child sends: ok, or an error. */
struct child_msg {
	int ok;
	struct cl_err err;
};

struct child_ctx {
	const struct cl_spec *s;
	int sync;    /* our end of the socket pair */
	int fifo;    /* O_PATH descriptor of exec.fifo */
	void *sc;    /* seccomp filter, loaded last */
	char *exe;   /* resolved program path */
	char *state; /* runtime-spec state for the hooks, from the parent */
	int console; /* connected console socket, or -1 */
};

/* The parent's go message: a tag byte, then the state JSON. */
#define GO_MAX (256 * 1024)

static int write_proc(const char *path, const char *val, struct cl_err *e)
{
	return cl_write_file(path, val, strlen(val), e);
}

static int apply_sysctl(const struct cl_spec *s, struct cl_err *e)
{
	for (size_t i = 0; i + 1 < s->sysctl.n; i += 2) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctl.v[i]);

		for (char *p = path + 10; n > 0 && *p; p++)
			if (*p == '.')
				*p = '/';
		if (strstr(s->sysctl.v[i], "..") || write_proc(path, s->sysctl.v[i + 1], e) < 0)
			return cl_error(e, e->num, "sysctl %s", s->sysctl.v[i]);
	}
	return 0;
}

static int switch_user(const struct cl_spec *s, struct cl_err *e)
{
	if (setgroups(s->nadd_gids, s->add_gids) < 0)
		return cl_error(e, errno, "setgroups");
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		return cl_error(e, errno, "setgid %u", s->gid);
	/* keep the permitted set across the uid change; capset trims it */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return cl_error(e, errno, "prctl keepcaps");
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		return cl_error(e, errno, "setuid %u", s->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return cl_error(e, errno, "prctl keepcaps");
	/* A uid change leaves us dumpable if fs.suid_dumpable says so: a
	 * process of the container's user must not ptrace us or open our
	 * /proc/PID/exe (the runtime) before our execve, which decides
	 * again. The exec fifo's reopening through /proc/self/fd stays ours. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cl_error(e, errno, "prctl dumpable");
	return 0;
}

static int setup_names(const struct cl_spec *s, struct cl_err *e)
{
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return cl_error(e, errno, "sethostname %s", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return cl_error(e, errno, "setdomainname %s", s->domainname);
	return 0;
}

/* The process part of the setup, shared with exec: up to the point where
 * only the seccomp filter (with no_new_privs) and execve remain. */
int cl_process_setup(const struct cl_spec *s, void *sc, char **exe, struct cl_err *e)
{
	/* before the seccomp filter, which allows only the harmless personas */
	if (s->has_personality && personality(s->personality) < 0)
		return cl_error(e, errno, "personality %s",
				s->personality == PER_LINUX32 ? "LINUX32" : "LINUX");
	if (cl_rlimits_apply(s, e) < 0 || cl_enter_cwd(s->cwd, e) < 0)
		return -1;
	*exe = cl_find_program(s, e);
	if (!*exe)
		return -1;
	/* Without no_new_privs the filter needs CAP_SYS_ADMIN to load: now. */
	if (!s->no_new_privs && cl_seccomp_load(sc, e) < 0)
		return -1;
	if (cl_caps_drop_bounding(s, e) < 0 || switch_user(s, e) < 0 || cl_caps_apply(s, e) < 0)
		return -1;
	umask(s->umask);
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cl_error(e, errno, "prctl no_new_privs");
	return 0;
}

/* The descriptors the container process keeps from the runtime: its
 * handshake's, and EARLY (until they are used) the namespaces' to join
 * (cl_ns_pin) and the idmapped mounts'. */
static int close_inherited(const struct child_ctx *c, bool early, struct cl_err *e)
{
	int keep[CL_KEEP_FDS_MAX] = {c->sync, c->fifo, c->console};
	size_t n = 3;

	for (size_t i = 0; early && i < c->s->nns; i++) /* 8 types at most */
		keep[n++] = c->s->ns[i].fd;
	for (size_t i = 0; early && i < c->s->nmounts && n < CL_KEEP_FDS_MAX; i++)
		if (c->s->mounts[i].idmapped)
			keep[n++] = c->s->mounts[i].tree_fd;
	return cl_close_fds_except(keep, n, e);
}

/* new_time_ns writes /proc/self/timens_offsets: a non-dumpable process's
 * /proc files are the host root's, out of reach of the root of a new
 * user namespace (becoming it, a uid change, made us non-dumpable even
 * before: this write always failed there). Dumpable for that write only,
 * before any of the container runs; only the root of our fresh user
 * namespace could trace us then, and our exe cannot be written
 * (exeseal.c). */
static int unshare_late(const struct cl_spec *s, struct cl_err *e)
{
	bool dump = (s->ns_flags & CLONE_NEWTIME) && (s->ns_flags & CLONE_NEWUSER);
	int ret;

	if (dump && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return cl_error(e, errno, "prctl dumpable");
	ret = cl_ns_unshare_late(s, e);
	if (dump && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cl_error(e, errno, "prctl dumpable");
	return ret;
}

static int child_setup(struct child_ctx *c, struct cl_err *e)
{
	const struct cl_spec *s = c->s;

	if (setsid() < 0)
		return cl_error(e, errno, "setsid");
	/* root of the new user namespace, now that the parent mapped it */
	if (((s->ns_flags & CLONE_NEWUSER) || cl_userns_joined(s)) &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return cl_error(e, errno, "become root in the user namespace");
	if (cl_ns_join(s, e) < 0 || unshare_late(s, e) < 0 || setup_names(s, e) < 0 ||
	    cl_mounts_prepare(s, e) < 0 ||
	    cl_hooks_run(s, CL_HOOK_CREATE_CONTAINER, c->state, e) < 0 ||
	    cl_mounts_pivot(s, e) < 0 || apply_sysctl(s, e) < 0 || cl_mounts_finish(s, e) < 0 ||
	    close_inherited(c, false, e) < 0 ||
	    (c->console >= 0 && cl_console_setup(c->console, s, e) < 0))
		return -1; /* sysctl before /proc/sys is made read-only */
	return cl_process_setup(s, c->sc, &c->exe, e);
}

/* Blocks until `start` opens the fifo for reading. */
static int wait_start(int fifo, struct cl_err *e)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fifo);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_error(e, errno, "open the exec fifo");
	if (write(fd, "0", 1) != 1)
		return cl_error(e, errno, "write the exec fifo");
	close(fd);
	close(fifo);
	return 0;
}

static void send_msg(int sock, int ok, const struct cl_err *e)
{
	struct child_msg m = {.ok = ok};

	if (e)
		m.err = *e;
	if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) < 0) {
		/* the parent is gone: nothing to tell */
	}
}

static __attribute__((noreturn)) void child_main(struct child_ctx *c)
{
	struct cl_err e = {0};
	sigset_t none;
	ssize_t n;

	/* before anything of the container: nothing of the runtime's stays */
	if (close_inherited(c, true, &e) < 0) {
		send_msg(c->sync, 0, &e);
		_exit(1);
	}
	/* `run` blocks the signals it forwards; the container starts clean,
	 * also of what its caller ignored (a shell's background job ignores
	 * INT and QUIT: a container's trap on them would be void), as runc's */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL); /* musl's own refuse: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the parent writes our id maps and cgroup, and runs the
	 * createRuntime hooks, first */
	c->state = malloc(GO_MAX + 1);
	if (!c->state)
		_exit(1);
	n = recv(c->sync, c->state, GO_MAX, 0);
	if (n < 1 || c->state[0] != 'g')
		_exit(1);
	c->state[n] = 0;
	c->state++; /* past the tag */
	if (child_setup(c, &e) < 0) {
		send_msg(c->sync, 0, &e);
		_exit(1);
	}
	send_msg(c->sync, 1, NULL);
	close(c->sync);
	if (wait_start(c->fifo, &e) < 0 ||
	    cl_hooks_run(c->s, CL_HOOK_START_CONTAINER, c->state ? c->state : "{}", &e) < 0 ||
	    (c->s->no_new_privs && cl_seccomp_load(c->sc, &e) < 0))
		goto fail;
	execve(c->exe, c->s->args.v, c->s->env.v ? c->s->env.v : (char *[]){NULL});
	cl_error(&e, errno, "exec %s", c->exe);
fail:
	/* start has returned already: stderr is the only witness */
	dprintf(2, "containerd-lite: %s\n", e.msg);
	_exit(127);
}

/* --- the parent --------------------------------------------------------- */

struct made {
	char *dir, *cgroup;
	bool dir_made, cgroup_made, in_cgroup;
	const char *root_bound; /* the rootfs bound by cl_mounts_bind_root */
	pid_t pid;
};

static void undo(struct made *m)
{
	struct cl_err e;

	if (m->pid > 0) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
	}
	if (m->cgroup_made)
		cl_cgroup_destroy(m->cgroup, &e);
	if (m->root_bound)
		umount2(m->root_bound, MNT_DETACH);
	if (m->dir_made) {
		static const char *const files[] = {"exec.fifo", "state.json", ".state.json"};
		for (size_t i = 0; i < 3; i++) {
			char *p = cl_path_join(m->dir, files[i]);
			unlink(p);
			free(p);
		}
		rmdir(m->dir);
	}
}

static bool has_ns(const struct cl_spec *s, int type)
{
	for (size_t i = 0; i < s->nns; i++)
		if (s->ns[i].type == type)
			return true;
	return false;
}

static int check_spec(struct cl_spec *s, const struct cl_opts *o, struct cl_err *e)
{
	struct stat st;

	if (stat(s->root_path, &st) < 0)
		return cl_error(e, errno, "rootfs %s", s->root_path);
	if (!S_ISDIR(st.st_mode))
		return cl_error(e, ENOTDIR, "rootfs %s", s->root_path);
	if (s->terminal && !o->console_socket)
		return cl_error(e, 0, "process.terminal needs --console-socket");
	if ((s->hostname || s->domainname) && !has_ns(s, CLONE_NEWUTS))
		return cl_error(e, 0, "config.json: .hostname: needs a uts namespace");
	return cl_ns_pin(s, e);
}

static int make_state_dir(const struct cl_opts *o, struct made *m, struct cl_err *e)
{
	char *fifo;
	int ret = 0;

	if (cl_mkdir_p(o->root, 0700, e) < 0)
		return -1;
	if (mkdir(m->dir, 0700) < 0)
		return errno == EEXIST ? cl_error(e, 0, "container \"%s\" already exists", o->id)
				       : cl_error(e, errno, "mkdir %s", m->dir);
	m->dir_made = true;
	fifo = cl_path_join(m->dir, "exec.fifo");
	/* 0622: the container's user, whoever it is, must be able to write */
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0)
		ret = cl_error(e, errno, "mkfifo %s", fifo);
	free(fifo);
	return ret;
}

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define CL_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args of linux/sched.h (a stable ABI), up to .cgroup */
struct cl_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	    set_tid_size, cgroup;
};

/* Fork semantics, but born in the new namespaces (a new pid namespace
 * makes the child its pid 1) and, with clone3, in its cgroup: moving a
 * process with cgroup.procs waits for an RCU grace period (about 10 ms),
 * the largest single cost of a create. Kernels before 5.7: clone, and
 * the parent moves the child (*in_cgroup false). */
static void child_entry(void *c)
{
	child_main(c);
}

static pid_t clone_child(struct child_ctx *c, int flags, int cgroup_fd, bool *in_cgroup,
			 struct cl_err *e)
{
	struct cl_clone_args args = {.flags = (uint64_t)(unsigned)flags | CL_CLONE_INTO_CGROUP,
				     .exit_signal = SIGCHLD,
				     .cgroup = (uint64_t)cgroup_fd};
	pid_t pid = -1;

	*in_cgroup = false;
	if (cl_userns_joined(c->s)) /* the parent moves it into its cgroup */
		return cl_clone_in_userns(cl_userns_joined(c->s), flags, child_entry, c, e);
	if (cgroup_fd >= 0) {
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		*in_cgroup = pid >= 0;
	}
	if (pid < 0 && (cgroup_fd < 0 || errno == ENOSYS || errno == E2BIG || errno == EINVAL))
		pid = (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL,
				     NULL);
	if (pid < 0)
		return cl_error(e, errno, "clone the container process");
	if (pid == 0)
		child_main(c);
	return pid;
}

/* By the parent (and exec's first process, before it joins the container):
 * a lower score needs CAP_SYS_RESOURCE, and in a user namespace the
 * child's /proc/self is no longer its own to write. Written by root, the
 * score is also the lowest the process may set itself later. */
int cl_oom_score_adj_write(pid_t pid, int score, struct cl_err *e)
{
	char path[64], buf[16];

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	snprintf(buf, sizeof(buf), "%d", score);
	if (write_proc(path, buf, e) < 0)
		return cl_error(e, e->num, "set oomScoreAdj %d", score);
	return 0;
}

/* Sends the go message: the state for the hooks, after the runtime's own
 * hooks have run. Their status is "created": the runtime-spec's lifecycle
 * runs prestart, createRuntime, createContainer and startContainer after
 * its step 2, and "created" is its name for "after step 2" (runc says
 * "creating" here; the runtime-tools suite and crun follow the spec). */
static int send_go(const struct cl_opts *o, const struct cl_spec *s, struct made *m, int sock,
		   struct cl_err *e)
{
	char *state = cl_hooks_state(s->oci_version ? s->oci_version : "1.0.2", o->id, "created",
				     m->pid, o->bundle, s->annotations_json);
	size_t len = strlen(state);
	char *msg = malloc(len + 2);
	int ret = 0;

	if (!msg)
		abort();
	if (cl_hooks_run(s, CL_HOOK_PRESTART, state, e) < 0 ||
	    cl_hooks_run(s, CL_HOOK_CREATE_RUNTIME, state, e) < 0)
		ret = -1;
	else if (len + 1 > GO_MAX)
		ret = cl_error(e, E2BIG, "state of %s for the hooks", o->id);
	msg[0] = 'g';
	memcpy(msg + 1, state, len + 1);
	if (ret == 0 && send(sock, msg, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1))
		ret = cl_error(e, errno, "start the container process");
	free(msg);
	free(state);
	return ret;
}

/* Runs the child until it reports; fills e with its error. */
static int handshake(const struct cl_opts *o, const struct cl_spec *s, struct made *m, int sock,
		     struct cl_err *e)
{
	struct child_msg msg;
	ssize_t n;

	if ((s->ns_flags & CLONE_NEWUSER) && cl_userns_write_maps(m->pid, s, e) < 0)
		return -1;
	if (s->has_oom_score_adj && cl_oom_score_adj_write(m->pid, s->oom_score_adj, e) < 0)
		return -1;
	if ((!m->in_cgroup && cl_cgroup_enter(m->cgroup, m->pid, e) < 0) ||
	    send_go(o, s, m, sock, e) < 0)
		return -1;
	n = recv(sock, &msg, sizeof(msg), 0);
	if (n != (ssize_t)sizeof(msg))
		return cl_error(e, 0, "the container process died during setup");
	if (!msg.ok) {
		*e = msg.err;
		return -1;
	}
	return 0;
}

static int record(const struct cl_opts *o, const struct cl_spec *s, struct made *m,
		  struct cl_err *e)
{
	struct cl_state st = {
	    .oci_version = s->oci_version ? s->oci_version : "1.0.2",
	    .id = (char *)o->id,
	    .bundle = (char *)o->bundle,
	    .rootfs = s->root_path,
	    .owner = "",
	    .cgroup = m->cgroup,
	    .annotations_json = s->annotations_json,
	    .pid = m->pid,
	    .start_time = cl_proc_start_time(m->pid),
	    .root_bound = m->root_bound != NULL,
	};
	int ret;

	st.created = cl_now_rfc3339();
	ret = cl_state_write(m->dir, &st, e);
	free(st.created);
	if (ret == 0 && o->pid_file) {
		char buf[32];
		int fd = open(o->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int len = snprintf(buf, sizeof(buf), "%d", (int)m->pid);
		if (fd < 0 || write_all(fd, buf, (size_t)len) < 0)
			ret = cl_error(e, errno, "write pid file %s", o->pid_file);
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

static int spawn(const struct cl_opts *o, struct cl_spec *s, struct made *m, struct cl_err *e)
{
	struct child_ctx c = {.s = s, .fifo = -1, .console = -1};
	int sv[2] = {-1, -1}, ret = -1, cgroup_fd = -1, pid_ns = -1;
	char *fifo = cl_path_join(m->dir, "exec.fifo");

	c.sc = cl_seccomp_build(s, o->root, e);
	if ((s->seccomp && !c.sc) || cl_idmap_prepare(s, e) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		cl_error(e, errno, "socketpair");
		goto out;
	}
	if (s->terminal && (c.console = cl_console_connect(o->console_socket, e)) < 0)
		goto out;
	c.fifo = open(fifo, O_PATH | O_CLOEXEC);
	if (c.fifo < 0) {
		cl_error(e, errno, "open %s", fifo);
		goto out;
	}
	c.sync = sv[1];
	cgroup_fd = open(m->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* born non-dumpable: no process of the container may trace the
	 * runtime in it or open its /proc/PID/exe (CVE-2019-5736) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		cl_error(e, errno, "prctl dumpable");
		goto out;
	}
	if (cl_ns_pid_enter(s, &pid_ns, e) < 0) {
		cl_ns_pid_restore(pid_ns);
		goto out;
	}
	m->pid = clone_child(&c, cl_ns_clone_flags(s), cgroup_fd, &m->in_cgroup, e);
	cl_ns_pid_restore(pid_ns);
	if (m->pid < 0)
		goto out;
	close(sv[1]);
	sv[1] = -1;
	ret = handshake(o, s, m, sv[0], e);
	if (ret == 0)
		ret = record(o, s, m, e);
out:
	cl_idmap_release(s);
	cl_seccomp_free(c.sc);
	if (c.fifo >= 0)
		close(c.fifo);
	if (c.console >= 0)
		close(c.console);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	free(fifo);
	return ret;
}

int cl_create(const struct cl_opts *o, pid_t *pid, struct cl_err *e)
{
	struct made m = {0};
	struct cl_spec *s = NULL;
	int ret = -1;

	if (cl_valid_id(o->id, e) < 0 || cl_spec_load(o->bundle, &s, e) < 0 ||
	    check_spec(s, o, e) < 0)
		goto out;
	m.dir = cl_state_dir(o->root, o->id);
	m.cgroup = cl_cgroup_path(s, o->id);
	if (make_state_dir(o, &m, e) < 0)
		goto fail;
	if (cl_cgroup_create(m.cgroup, s, e) < 0)
		goto fail;
	m.cgroup_made = true;
	if (cl_ns_mnt_inherited(s)) {
		if (cl_mounts_bind_root(s->root_path, e) < 0)
			goto fail;
		m.root_bound = s->root_path;
	}
	if (spawn(o, s, &m, e) < 0)
		goto fail;
	*pid = m.pid;
	ret = 0;
	goto out;
fail:
	undo(&m);
out:
	free(m.dir);
	free(m.cgroup);
	cl_spec_free(s);
	return ret;
}
