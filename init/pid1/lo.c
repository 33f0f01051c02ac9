/*
 * lo.c: the loopback interface, up before any unit starts.
 *
 * Units that need no provisioning start at once, and some of them talk to
 * 127.0.0.1; the network itself is provision's (its units), lo is not.
 */
#include "pid1.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int loopback_up(struct err *e)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	/* Up is enough: the kernel gives lo 127.0.0.1/8 and ::1 itself. */
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0))
		ret = err_set(e, errno, "bring up lo");
	if (fd >= 0)
		close(fd);
	return ret;
}
