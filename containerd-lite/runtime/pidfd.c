/* runtime/pidfd.c: the container's process held by a pidfd. Its pid is
 * only a number: the process may exit whenever it likes (a container
 * ends itself) and the number go to any other process, a host one too,
 * between the runtime's check of the number and its use. A pidfd names
 * one process for good: opened first and checked after (the start time),
 * it is known to be the container's, and what is done through it (kill,
 * setns) reaches that process or fails, never another. */
#include "cl-private.h"
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

/* musl and older glibc have no wrappers; the numbers are the same on
 * every architecture but alpha (the unified table, Linux 5.1 and 5.3) */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* runc's words, which containerd's shim matches. */
int cl_not_running(const char *id, struct cl_err *e)
{
	return cl_error(e, 0, "container \"%s\": container not running", id);
}

int cl_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int cl_pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int cl_pidfd_started(pid_t pid, unsigned long long start)
{
	int fd = cl_pidfd_of(pid);

	/* after the open: a number reused before it fails here, and one
	 * reused after it cannot reach the process the pidfd holds */
	if (fd >= 0 && cl_proc_start_time(pid) != start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int cl_pidfd_open(const struct cl_state *st, struct cl_err *e)
{
	int fd;

	if (st->pid <= 0)
		return cl_not_running(st->id, e);
	fd = cl_pidfd_started(st->pid, st->start_time);
	if (fd < 0 && errno == ESRCH)
		return cl_not_running(st->id, e);
	if (fd < 0)
		return cl_error(e, errno, "pidfd_open of container \"%s\" (pid %d)", st->id,
				(int)st->pid);
	return fd;
}

int cl_pidfd_kill(const struct cl_state *st, int sig, struct cl_err *e)
{
	int fd = cl_pidfd_open(st, e), ret = 0;

	if (fd < 0)
		return -1;
	if (cl_pidfd_signal(fd, sig) < 0)
		ret = errno == ESRCH ? cl_not_running(st->id, e)
				     : cl_error(e, errno, "kill container \"%s\" (pid %d)", st->id,
						(int)st->pid);
	close(fd);
	return ret;
}
