/* runtime/exec.c: a new process in a running container: the container's process
 * settings (or process.json's), its namespaces, cgroup, capabilities and
 * seccomp filter.
 *
 * The caller forks A; A enters the cgroup and the namespaces and forks B
 * (a pid namespace only takes children); B sets itself up and execs. A
 * waits for B and exits with its status (or at once with --detach). Both
 * report over a close-on-exec socket: B's pid, or an error. A closes every
 * other descriptor first; both stay non-dumpable until B's execve. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_msg {
	int kind; /* 0: pid, 1: error */
	pid_t pid;
	struct cl_err err;
};

static void send_exec_msg(int sock, int kind, pid_t pid, const struct cl_err *e)
{
	struct exec_msg m = {.kind = kind, .pid = pid};

	if (e)
		m.err = *e;
	if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) < 0) {
		/* the caller is gone: nothing to tell */
	}
}

/* B: a session of its own (a pty needs a session leader to control),
 * the pty if asked, the process setup, exec. */
static __attribute__((noreturn)) void run_b(const struct cl_spec *s, void *sc, int sock,
					    int console)
{
	struct cl_err e = {0};
	char *exe = NULL;

	/* again: what joining the container may have opened stays out */
	if (cl_close_fds_except((int[]){sock, console}, 2, &e) < 0)
		goto fail;
	if (console >= 0 && setsid() < 0) {
		cl_error(&e, errno, "setsid");
		goto fail;
	}
	if ((console >= 0 && cl_console_setup(console, s, &e) < 0) ||
	    cl_process_setup(s, sc, &exe, &e) < 0 ||
	    (s->no_new_privs && cl_seccomp_load(sc, &e) < 0))
		goto fail;
	execve(exe, s->args.v, s->env.v ? s->env.v : (char *[]){NULL});
	cl_error(&e, errno, "exec %s", exe);
fail:
	send_exec_msg(sock, 1, 0, &e);
	_exit(127);
}

/* Exit status of B, as a shell gives it. */
static int status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * A (and so B) without the caller's controlling terminal. B stays in the
 * caller's process group, so that ^C and a kill of the group reach it, but
 * a process holding its session's controlling terminal may type into it
 * (TIOCSTI needs nothing more, nor does opening /dev/tty), and B runs the
 * image's code: `exec web ls` typed by root in a shell would have let the
 * image's ls type commands into that shell. runc's exec leaves it by
 * setsid(); TIOCNOTTY drops the terminal of this process alone (A leads no
 * session) and keeps the group.
 */
static int drop_ctty(struct cl_err *e)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return 0; /* ENXIO: it has none */
	if (ioctl(fd, TIOCNOTTY) < 0) {
		cl_error(e, errno, "exec: leave the caller's terminal");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static __attribute__((noreturn)) void run_a(const struct cl_spec *s, const struct cl_state *st,
					    int pidfd, void *sc, int sock, int console, bool detach)
{
	struct cl_err e = {0};
	int status;
	pid_t b;

	/* nothing of the runtime's (nor of our caller's) enters the container;
	 * its score as the container's, not its caller's (init's -999), set
	 * while A still may (before its user namespace), for B to inherit */
	if (drop_ctty(&e) < 0 || cl_close_fds_except((int[]){sock, console, pidfd}, 3, &e) < 0 ||
	    (s->has_oom_score_adj && cl_oom_score_adj_write(getpid(), s->oom_score_adj, &e) < 0) ||
	    cl_cgroup_enter(st->cgroup, getpid(), &e) < 0 || cl_ns_join_pid(s, st, pidfd, &e) < 0) {
		send_exec_msg(sock, 1, 0, &e);
		_exit(127);
	}
	close(pidfd);
	b = fork();
	if (b < 0) {
		cl_error(&e, errno, "fork into the container");
		send_exec_msg(sock, 1, 0, &e);
		_exit(127);
	}
	if (b == 0)
		run_b(s, sc, sock, console);
	if (console >= 0)
		close(console);
	send_exec_msg(sock, 0, b, NULL);
	close(sock);
	if (detach)
		_exit(0);
	while (waitpid(b, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	_exit(status_code(status));
}

/* The caller's side: B's pid, then an error or EOF (B exec'd). */
static int collect(int sock, pid_t *pid, struct cl_err *e)
{
	struct exec_msg m;

	for (;;) {
		ssize_t n = recv(sock, &m, sizeof(m), 0);

		if (n == 0)
			return *pid > 0 ? 0 : cl_error(e, 0, "exec: the process died during setup");
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			return cl_error(e, errno, "exec: read the setup result");
		if (m.kind == 1) {
			*e = m.err;
			return -1;
		}
		*pid = m.pid;
	}
}

int cl_exec(const struct cl_exec_opts *o, struct cl_spec *s, pid_t *pid, int *status,
	    struct cl_err *e)
{
	struct cl_state st;
	int sv[2], ret = -1, wst, console = -1, pidfd = -1;
	void *sc = NULL;
	pid_t a;

	*pid = 0;
	if (cl_state_read(o->root, o->id, &st, e) < 0)
		return -1;
	if (st.status != CL_RUNNING && st.status != CL_CREATED) {
		cl_error(e, 0, "cannot exec in a %s container", cl_status_name(st.status));
		goto out;
	}
	/* the container's process, for good: its pid may be another's by the
	 * time A joins (exec is PID 1's health check, the container the one
	 * that decides when it ends) */
	if ((pidfd = cl_pidfd_open(&st, e)) < 0)
		goto out;
	if (s->terminal && !o->console_socket) {
		cl_error(e, 0, "exec: a terminal needs --console-socket");
		goto out;
	}
	sc = cl_seccomp_build(s, o->root, e);
	if (s->seccomp && !sc)
		goto out;
	/* connected here: the socket's path is a host path */
	if (s->terminal && (console = cl_console_connect(o->console_socket, e)) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		cl_error(e, errno, "socketpair");
		goto out;
	}
	/* A and B are born non-dumpable: no process of the container may
	 * trace them or open their /proc/PID/exe before B's execve */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		cl_error(e, errno, "prctl dumpable");
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	a = fork();
	if (a < 0) {
		cl_error(e, errno, "fork");
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (a == 0) {
		close(sv[0]);
		run_a(s, &st, pidfd, sc, sv[1], console, o->detach);
	}
	close(sv[1]);
	ret = collect(sv[0], pid, e);
	close(sv[0]);
	while (waitpid(a, &wst, 0) < 0 && errno == EINTR) {
	}
	if (ret == 0 && status)
		*status = o->detach ? 0 : status_code(wst);
out:
	if (console >= 0)
		close(console);
	if (pidfd >= 0)
		close(pidfd);
	cl_seccomp_free(sc);
	cl_state_free(&st);
	return ret;
}
