/* runtime/exeseal.c: the runtime runs from a sealed copy of itself when it makes
 * or joins a container (create, run, exec).
 *
 * A process of the runtime inside the container (create's container
 * process waiting on exec.fifo, exec's process before its execve) has the
 * runtime as /proc/PID/exe, and an image can make the kernel run it
 * inside the container as the interpreter of a script (#!/proc/self/exe,
 * runc CVE-2019-5736's way in). A container process that opens it could
 * write the host's binary once it is no longer busy, and the next
 * `containerd-lite exec` (every health check) would run its code as host
 * root. Those processes are non-dumpable, which already keeps other
 * processes from /proc/PID/exe; as a second wall the runtime runs from a
 * memfd copy sealed against writing, growing and shrinking, which it
 * re-executes (runc's and crun's cloned binary). Always, also from a
 * read-only mount (Wisp's erofs root), where crun skips the copy: a
 * read-only file cannot be written, but it is still a handle on a host
 * file outside the container's root, and a mount's read-only flag is one
 * remount away. The copy is one sendfile; see "Numbers" in
 * docs/containerd-lite.md for its cost. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS   1033
#define F_GET_SEALS   1034
#define F_SEAL_SEAL   0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW   0x0004
#define F_SEAL_WRITE  0x0008
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* Set for the sealed copy only: a copy without its seals is an error,
 * not a loop of re-executions. */
#define SEALED_ENV "_CONTAINERD_LITE_SEALED"

extern char **environ;

static bool needs_seal(const char *cmd)
{
	return strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0;
}

static int copy_sealed(int self, struct cl_err *e)
{
	int fd = memfd_create("containerd-lite", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	/* MFD_EXEC is 6.3's; before it every memfd is executable */
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("containerd-lite", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return cl_error(e, errno, "seal the runtime: memfd_create");
	if (cl_copy_fd(fd, self) < 0) {
		cl_error(e, errno, "seal the runtime: copy /proc/self/exe");
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
		cl_error(e, errno, "seal the runtime: F_ADD_SEALS");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int cl_exe_seal(const char *cmd, char **argv, struct cl_err *e)
{
	bool again = getenv(SEALED_ENV) != NULL;
	int self, seals, fd;

	if (!needs_seal(cmd))
		return 0;
	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return cl_error(e, errno, "seal the runtime: open /proc/self/exe");
	seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS) {
		close(self);
		unsetenv(SEALED_ENV); /* not for hooks and containers to see */
		/* execveat named us after the descriptor ("3") */
		prctl(PR_SET_NAME, "containerd-lite", 0, 0, 0);
		return 0;
	}
	if (again) {
		close(self);
		return cl_error(e, 0, "seal the runtime: the copy has no seals");
	}
	fd = copy_sealed(self, e);
	close(self);
	if (fd < 0)
		return -1;
	setenv(SEALED_ENV, "1", 1);
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	cl_error(e, errno, "seal the runtime: execute the sealed copy");
	close(fd);
	unsetenv(SEALED_ENV);
	return -1;
}
