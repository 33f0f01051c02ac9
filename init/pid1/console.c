/*
 * console.c: PID 1's standard file descriptors.
 *
 * The kernel hands init fds 0-2 on /dev/console only if that node
 * existed on the root before devtmpfs was mounted; on Wisp's read-only
 * root it may not, so init opens the console itself once /dev is there.
 * O_NOCTTY: PID 1 must never own a controlling terminal, or a hangup on
 * the console would be sent to it and the programs started from it.
 */
#include "pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int console_setup(struct err *e)
{
	int fd, ret = 0;

	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0) {
		ret = err_set(e, errno, "open /dev/console");
		/* Still occupy 0-2: a later pipe() must not get them, or a
		 * child's dup2() onto its stdio would clobber it. */
		fd = open("/dev/null", O_RDWR | O_NOCTTY);
		if (fd < 0)
			return ret;
	}
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0 && ret == 0)
			ret = err_set(e, errno, "dup2 console onto fd %d", i);
	if (fd > 2)
		close(fd);
	return ret;
}
