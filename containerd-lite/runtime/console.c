/* runtime/console.c: process.terminal. The container process makes a pty in its
 * own devpts, sends the master over the console socket (SCM_RIGHTS, the
 * pty's name as the payload, as runc) and takes the slave as its
 * controlling terminal and stdio. The socket is connected by the parent:
 * its path is a host path, out of reach after pivot_root. */
#include "cl-private.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441 /* Linux 4.13: the slave without a path lookup */
#endif

int cl_console_connect(const char *path, struct cl_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return cl_error(e, ENAMETOOLONG, "console socket %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cl_error(e, errno, "console socket %s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return cl_error(e, err, "connect to the console socket %s", path);
	}
	return fd;
}

static int send_fd(int sock, int fd, const char *name, struct cl_err *e)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return cl_error(e, errno, "send the pty master to the console socket");
	return 0;
}

/* In the container, after its mounts: /dev/ptmx is its devpts'. The
 * size (process.consoleSize) is set before the master is sent, so the
 * program's first TIOCGWINSZ sees it. */
int cl_console_setup(int sock, const struct cl_spec *s, struct cl_err *e)
{
	struct winsize ws = {.ws_row = s->console_height, .ws_col = s->console_width};
	int master, slave, unlock = 0, n = -1, ret = -1;
	char name[32];

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return cl_error(e, errno, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) {
		cl_error(e, errno, "unlock the pty");
		goto out;
	}
	snprintf(name, sizeof(name), "/dev/pts/%d", n);
	if ((ws.ws_row || ws.ws_col) && ioctl(master, TIOCSWINSZ, &ws) < 0) {
		cl_error(e, errno, "set the size of %s to %ux%u", name, ws.ws_col, ws.ws_row);
		goto out;
	}
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		cl_error(e, errno, "open %s", name);
		goto out;
	}
	/* the name is the master's, as runc sends it */
	if (send_fd(sock, master, "/dev/ptmx", e) < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 ||
	    dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
		if (!e->msg[0])
			cl_error(e, errno, "make %s the controlling terminal", name);
		close(slave);
		goto out;
	}
	if (slave > 2)
		close(slave);
	ret = 0;
out:
	close(master);
	return ret;
}
