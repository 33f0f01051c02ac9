/* image/drop.c: a network side started as root becomes nobody before its
 * first connection. `image fetch` (the updater's download) and `image
 * pull`'s network child (image/pullnet.c) parse a server's HTTP, TLS and
 * JSON; what they fetch carries its own trust (a bundle's signature, a
 * blob's digest, checked by root afterwards), so they need none of root's
 * powers. No groups, no_new_privs, and not dumpable: the change of ids
 * already makes the process's /proc files root's, so its environment and
 * memory (a URL, credentials) stay out of other nobody processes' reach. */
#include "../runtime/cl-private.h"
#include "pull.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The CA bundle copied into a memfd while root can read it (an operator's
 * CA file may be root's alone), and named as /proc/self/fd/N, which the
 * process reopens as nobody: a memfd's mode is 0777. A bundle that cannot
 * be read is left to curl's own error. */
static int ca_to_memfd(char ca[1024], const char *who, struct cl_err *err)
{
	int in = open(ca, O_RDONLY | O_CLOEXEC), out, r;

	if (in < 0)
		return 0;
	if ((out = memfd_create("ca", MFD_CLOEXEC)) < 0)
		return close(in), cl_error(err, errno, "%s: memfd for %s", who, ca);
	r = cl_copy_fd(out, in) < 0 ? errno : 0;
	close(in);
	if (r)
		return close(out), cl_error(err, r, "%s: copy %s", who, ca);
	img_fmt(ca, 1024, "/proc/self/fd/%d", out); /* open until the exit */
	return 0;
}

int img_drop_root(char ca[1024], const char *who, struct cl_err *err)
{
	if (geteuid() != 0)
		return 0;
	if (!ca[0])
		img_fmt(ca, 1024, "%s", IMG_CA_DEFAULT);
	if (ca_to_memfd(ca, who, err) < 0)
		return -1;
	if (setgroups(0, NULL) < 0 || setresgid(IMG_NET_ID, IMG_NET_ID, IMG_NET_ID) < 0 ||
	    setresuid(IMG_NET_ID, IMG_NET_ID, IMG_NET_ID) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cl_error(err, errno, "%s: become uid %d", who, IMG_NET_ID);
	return 0;
}
