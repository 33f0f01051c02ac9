/* runtime/userjoin.c: a container in a user namespace given by path.
 *
 * The namespaces a clone creates belong to the creator's user namespace.
 * Cloned from the runtime, they would be the host's, and the joined
 * namespace's root could not mount in them. So a forked helper joins the
 * user namespace and clones there (CLONE_PARENT: the container process
 * is still the runtime's child, for the handshake and for wait), reports
 * the pid over a pipe and exits; a joining process cannot go back to the
 * host's user namespace, which is why the runtime itself never joins. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the helper: join, clone; pid (or -errno) to the pipe. */
static __attribute__((noreturn)) void helper(int fd, int flags, int out, void (*child)(void *),
					     void *arg)
{
	long pid = -EBADF;

	if (setns(fd, CLONE_NEWUSER) < 0) /* the fd create's check opened (cl_ns_pin) */
		pid = -errno;
	else if ((pid = syscall(SYS_clone, (unsigned long)(flags | CLONE_PARENT), NULL, NULL, NULL,
				NULL)) == 0) {
		close(out);
		child(arg); /* does not return */
	} else if (pid < 0) {
		pid = -errno;
	}
	(void)!write(out, &pid, sizeof(pid));
	_exit(0);
}

pid_t cl_clone_in_userns(const struct cl_ns *ns, int flags, void (*child)(void *), void *arg,
			 struct cl_err *e)
{
	int p[2], st;
	long pid = 0;
	ssize_t n;
	pid_t h;

	if (pipe2(p, O_CLOEXEC) < 0)
		return cl_error(e, errno, "pipe");
	if ((h = fork()) < 0) {
		close(p[0]), close(p[1]);
		return cl_error(e, errno, "fork");
	}
	if (h == 0) {
		close(p[0]);
		helper(ns->fd, flags, p[1], child, arg);
	}
	close(p[1]);
	do
		n = read(p[0], &pid, sizeof(pid));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(h, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(pid))
		return cl_error(e, 0, "join user namespace %s: the helper died", ns->path);
	if (pid < 0)
		return cl_error(e, (int)-pid, "clone in user namespace %s", ns->path);
	return (pid_t)pid;
}
